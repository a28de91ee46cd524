package nn

import (
	"repdyn/lib/internal/vec"
)

// BasicBlock is the residual block of torchvision's ResNet-18/34 (post-
// activation): out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)),
// where shortcut is the identity or, when Downsample is set, a projection
// (1x1 conv with the block's stride + batch norm) named "downsample.0/1".
type BasicBlock[T Float] struct {
	name       string
	Conv1      *Conv2d[T]
	BN1        *BatchNorm[T]
	Relu1      *Activation[T]
	Conv2      *Conv2d[T]
	BN2        *BatchNorm[T]
	Downsample *Sequential[T] // nil: identity shortcut
	Relu2      *Activation[T]

	fused   bool // the last forward pass fused batch norm, residual add and ReLU
	scr     *blockScratch[T]
	sum, dx buf[T]
	ishp    []int
	ps      []*Param[T]
	bs      []*Buffer[T]
	tan     buf[T] // forward-mode tangent of the output
	ew      ewTask[T]
}

// NewBasicBlock returns a BasicBlock from in to out channels; a projection
// shortcut is used when stride != 1 or in != out.
func NewBasicBlock[T Float](name string, in, out, stride int) *BasicBlock[T] {
	b := &BasicBlock[T]{name: name,
		Conv1: NewConv2d[T](joinName(name, "conv1"), in, out, 3, stride, 1, false),
		BN1:   NewBatchNorm2d[T](joinName(name, "bn1"), out),
		Relu1: NewReLU[T](joinName(name, "relu1")),
		Conv2: NewConv2d[T](joinName(name, "conv2"), out, out, 3, 1, 1, false),
		BN2:   NewBatchNorm2d[T](joinName(name, "bn2"), out),
		Relu2: NewReLU[T](joinName(name, "relu2")),
	}
	if stride != 1 || in != out {
		ds := joinName(name, "downsample")
		b.Downsample = NewSequential[T](ds,
			NewConv2d[T](joinName(ds, "0"), in, out, 1, stride, 0, false),
			NewBatchNorm2d[T](joinName(ds, "1"), out))
	}
	return b
}

func (b *BasicBlock[T]) Name() string { return b.name }

func (b *BasicBlock[T]) Children() []Module[T] {
	c := []Module[T]{b.Conv1, b.BN1, b.Relu1, b.Conv2, b.BN2}
	if b.Downsample != nil {
		c = append(c, b.Downsample)
	}
	return append(c, b.Relu2)
}

func (b *BasicBlock[T]) Params() []*Param[T] {
	if b.ps == nil {
		b.ps, b.bs = collectParams(b.Children()...), collectBuffers(b.Children()...)
	}
	return b.ps
}

func (b *BasicBlock[T]) Buffers() []*Buffer[T] { b.Params(); return b.bs }

func (b *BasicBlock[T]) OutShape(in []int) ([]int, error) {
	return residualOutShape("BasicBlock", b.name, in, b.Downsample, b.Conv1, b.BN1, b.Conv2, b.BN2)
}

func (b *BasicBlock[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	if err := checkInputShape(&b.ishp, x, b.OutShape); err != nil {
		return nil, err
	}
	b.fused = b.Relu1.Kind == ActReLU && b.Relu2.Kind == ActReLU
	if !b.fused {
		return b.forwardLayers(x, mode)
	}
	if mode == Eval && fuseConvBN {
		return b.forwardEval(x)
	}
	// relu(bn1(conv1 x)) and relu(bn2(conv2 h) + shortcut) in one pass each
	h, err := b.Conv1.Forward(x, mode)
	if err != nil {
		return nil, err
	}
	if h, err = b.BN1.forwardFused(h, mode, nil, true); err != nil {
		return nil, err
	}
	if h, err = b.Conv2.Forward(h, mode); err != nil {
		return nil, err
	}
	sc := x
	if b.Downsample != nil {
		if sc, err = b.Downsample.Forward(x, mode); err != nil {
			return nil, err
		}
	}
	if mode != Eval {
		// size the shared scratch before Backward runs the blocks from the
		// last (smallest) to the first, so that it does not grow (and leave
		// garbage) block by block
		b.scratch().get(h.Numel())
	}
	return b.BN2.forwardFused(h, mode, sc, true)
}

// forwardEval is the fused forward pass in eval mode: each batch norm (with
// the residual add and the ReLUs) runs as its convolution's epilogue.
func (b *BasicBlock[T]) forwardEval(x *Tensor[T]) (*Tensor[T], error) {
	h, err := convBNEval(b.Conv1, b.BN1, x, nil, true)
	if err != nil {
		return nil, err
	}
	sc := x
	if b.Downsample != nil {
		if sc, err = b.Downsample.Forward(x, Eval); err != nil {
			return nil, err
		}
	}
	return convBNEval(b.Conv2, b.BN2, h, sc, true)
}

// forwardLayers runs the block's layers one by one (activations other than ReLU).
func (b *BasicBlock[T]) forwardLayers(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	h := x
	var err error
	for _, l := range []Module[T]{b.Conv1, b.BN1, b.Relu1, b.Conv2, b.BN2} {
		if h, err = l.Forward(h, mode); err != nil {
			return nil, err
		}
	}
	sc := x
	if b.Downsample != nil {
		if sc, err = b.Downsample.Forward(x, mode); err != nil {
			return nil, err
		}
	}
	s := b.sum.get(shapeOf(h)...)
	b.ew.flat(opAdd, dataOf(s), dataOf(h), dataOf(sc), 0)
	return b.Relu2.Forward(s, mode)
}

func (b *BasicBlock[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if !b.fused {
		return b.backwardLayers(dy)
	}
	if err := checkGrad("BasicBlock", b.name, dy, b.BN2.out.shape); err != nil {
		return nil, err
	}
	// g = dy*[out > 0] is the gradient of the sum: it goes to bn2 and to the
	// shortcut. With an identity shortcut it is stored in the block's dx,
	// to which conv1's input gradient is then added. The gradients inside
	// the block live in the (shared) scratch.
	var gt *Tensor[T]
	if b.Downsample == nil {
		gt = b.dx.get(b.ishp...)
	} else {
		gt = b.sum.get(shapeOf(dy)...)
	}
	ga, gb := b.scratch().get(len(dataOf(dy)))
	if err := b.BN2.backwardInto(dataOf(dy), true, dataOf(gt), ga); err != nil {
		return nil, err
	}
	if err := b.Conv2.backwardInto(ga, gb, 0); err != nil {
		return nil, err
	}
	if err := b.BN1.backwardInto(gb, true, gb, gb); err != nil {
		return nil, err
	}
	dx := gt
	if b.Downsample != nil {
		var err error
		if dx, err = b.Downsample.Backward(gt); err != nil {
			return nil, err
		}
	}
	if err := b.Conv1.backwardInto(gb, dataOf(dx), 1); err != nil {
		return nil, err
	}
	return dx, nil
}

// backwardLayers is Backward after forwardLayers.
func (b *BasicBlock[T]) backwardLayers(dy *Tensor[T]) (*Tensor[T], error) {
	g, err := b.Relu2.Backward(dy)
	if err != nil {
		return nil, err
	}
	h := g
	for _, l := range []Module[T]{b.BN2, b.Conv2, b.Relu1, b.BN1, b.Conv1} {
		if h, err = l.Backward(h); err != nil {
			return nil, err
		}
	}
	sc := g
	if b.Downsample != nil {
		if sc, err = b.Downsample.Backward(g); err != nil {
			return nil, err
		}
	}
	dx := b.dx.get(b.ishp...)
	b.ew.flat(opAdd, dataOf(dx), dataOf(h), dataOf(sc), 0)
	return dx, nil
}

// PreActBlock is the pre-activation residual block (He et al. 2016, "Identity
// mappings"; Kuang Liu's pytorch-cifar PreActBlock):
//
//	a = relu(bn1(x)); out = conv2(relu(bn2(conv1(a)))) + shortcut
//
// where shortcut is x (identity) or, when stride != 1 or in != out, a
// projection of a named "shortcut.0" (1x1 conv with the block's stride,
// followed by batch norm "shortcut.1" when ShortcutBN was requested; pytorch-
// cifar uses the conv alone).
type PreActBlock[T Float] struct {
	name     string
	BN1      *BatchNorm[T]
	Relu1    *Activation[T]
	Conv1    *Conv2d[T]
	BN2      *BatchNorm[T]
	Relu2    *Activation[T]
	Conv2    *Conv2d[T]
	Shortcut *Sequential[T] // nil: identity

	fused       bool // the last forward pass fused batch norm and ReLU
	scr         *blockScratch[T]
	sum, dx, da buf[T]
	ishp        []int
	ps          []*Param[T]
	bs          []*Buffer[T]
	tan         buf[T] // forward-mode tangent of the output
	ew          ewTask[T]
}

// NewPreActBlock returns a PreActBlock; shortcutBN adds batch norm after the
// projection convolution.
func NewPreActBlock[T Float](name string, in, out, stride int, shortcutBN bool) *PreActBlock[T] {
	b := &PreActBlock[T]{name: name,
		BN1:   NewBatchNorm2d[T](joinName(name, "bn1"), in),
		Relu1: NewReLU[T](joinName(name, "relu1")),
		Conv1: NewConv2d[T](joinName(name, "conv1"), in, out, 3, stride, 1, false),
		BN2:   NewBatchNorm2d[T](joinName(name, "bn2"), out),
		Relu2: NewReLU[T](joinName(name, "relu2")),
		Conv2: NewConv2d[T](joinName(name, "conv2"), out, out, 3, 1, 1, false),
	}
	if stride != 1 || in != out {
		sn := joinName(name, "shortcut")
		b.Shortcut = NewSequential[T](sn, NewConv2d[T](joinName(sn, "0"), in, out, 1, stride, 0, false))
		if shortcutBN {
			b.Shortcut.Append(NewBatchNorm2d[T](joinName(sn, "1"), out))
		}
	}
	return b
}

func (b *PreActBlock[T]) Name() string { return b.name }

func (b *PreActBlock[T]) Children() []Module[T] {
	c := []Module[T]{b.BN1, b.Relu1, b.Conv1, b.BN2, b.Relu2, b.Conv2}
	if b.Shortcut != nil {
		c = append(c, b.Shortcut)
	}
	return c
}

func (b *PreActBlock[T]) Params() []*Param[T] {
	if b.ps == nil {
		b.ps, b.bs = collectParams(b.Children()...), collectBuffers(b.Children()...)
	}
	return b.ps
}

func (b *PreActBlock[T]) Buffers() []*Buffer[T] { b.Params(); return b.bs }

func (b *PreActBlock[T]) OutShape(in []int) ([]int, error) {
	return residualOutShape("PreActBlock", b.name, in, b.Shortcut, b.BN1, b.Conv1, b.BN2, b.Conv2)
}

func (b *PreActBlock[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	if err := checkInputShape(&b.ishp, x, b.OutShape); err != nil {
		return nil, err
	}
	b.fused = b.Relu1.Kind == ActReLU && b.Relu2.Kind == ActReLU
	var a, h *Tensor[T]
	var err error
	if b.fused {
		// relu(bn(.)) in one pass each
		if a, err = b.BN1.forwardFused(x, mode, nil, true); err != nil {
			return nil, err
		}
		if h, err = b.Conv1.Forward(a, mode); err != nil {
			return nil, err
		}
		if h, err = b.BN2.forwardFused(h, mode, nil, true); err != nil {
			return nil, err
		}
		if h, err = b.Conv2.Forward(h, mode); err != nil {
			return nil, err
		}
		if mode != Eval {
			b.scratch().get(max(b.Conv1.out.t.Numel(), prod(b.ishp)))
		}
	} else {
		if a, err = b.BN1.Forward(x, mode); err != nil {
			return nil, err
		}
		if a, err = b.Relu1.Forward(a, mode); err != nil {
			return nil, err
		}
		h = a
		for _, l := range []Module[T]{b.Conv1, b.BN2, b.Relu2, b.Conv2} {
			if h, err = l.Forward(h, mode); err != nil {
				return nil, err
			}
		}
	}
	sc := x
	if b.Shortcut != nil {
		if sc, err = b.Shortcut.Forward(a, mode); err != nil {
			return nil, err
		}
	}
	s := b.sum.get(shapeOf(h)...)
	b.ew.flat(opAdd, dataOf(s), dataOf(h), dataOf(sc), 0)
	return s, nil
}

func (b *PreActBlock[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if err := checkGrad("PreActBlock", b.name, dy, b.sum.shape); err != nil {
		return nil, err
	}
	if b.fused {
		return b.backwardFused(dy)
	}
	h := dy
	var err error
	for _, l := range []Module[T]{b.Conv2, b.Relu2, b.BN2, b.Conv1} {
		if h, err = l.Backward(h); err != nil {
			return nil, err
		}
	}
	if b.Shortcut != nil {
		sc, err := b.Shortcut.Backward(dy)
		if err != nil {
			return nil, err
		}
		da := b.da.get(shapeOf(h)...)
		b.ew.flat(opAdd, dataOf(da), dataOf(h), dataOf(sc), 0)
		h = da
	}
	if h, err = b.Relu1.Backward(h); err != nil {
		return nil, err
	}
	if h, err = b.BN1.Backward(h); err != nil {
		return nil, err
	}
	if b.Shortcut != nil {
		return h, nil
	}
	dx := b.dx.get(b.ishp...)
	b.ew.flat(opAdd, dataOf(dx), dataOf(h), dataOf(dy), 0)
	return dx, nil
}

// backwardFused is Backward after a fused forward pass; the gradients inside
// the block live in the (shared) scratch.
func (b *PreActBlock[T]) backwardFused(dy *Tensor[T]) (*Tensor[T], error) {
	ga, gb := b.scratch().get(max(b.Conv1.out.t.Numel(), prod(b.ishp)))
	ga, gb = ga[:b.Conv1.out.t.Numel()], gb[:prod(b.ishp)]
	if err := b.Conv2.backwardInto(dataOf(dy), ga, 0); err != nil {
		return nil, err
	}
	if err := b.BN2.backwardInto(ga, true, ga, ga); err != nil {
		return nil, err
	}
	// da = conv1's input gradient (+ the projection shortcut's)
	da := gb
	if b.Shortcut != nil {
		sc, err := b.Shortcut.Backward(dy)
		if err != nil {
			return nil, err
		}
		copy(da, dataOf(sc))
		if err := b.Conv1.backwardInto(ga, da, 1); err != nil {
			return nil, err
		}
	} else if err := b.Conv1.backwardInto(ga, da, 0); err != nil {
		return nil, err
	}
	dx := b.dx.get(b.ishp...)
	if err := b.BN1.backwardInto(da, true, da, dataOf(dx)); err != nil {
		return nil, err
	}
	if b.Shortcut == nil {
		b.ew.flat(opAdd, dataOf(dx), dataOf(dx), dataOf(dy), 0)
	}
	return dx, nil
}

// blockScratch holds the gradients inside a residual block during Backward;
// the blocks of one model share one (ShareScratch), as only one of them runs
// at a time.
type blockScratch[T Float] struct{ a, b []T }

// get returns two scratch slices of n elements.
func (s *blockScratch[T]) get(n int) (a, b []T) {
	s.a, s.b = grow(s.a, n), grow(s.b, n)
	return s.a, s.b
}

func (b *BasicBlock[T]) scratch() *blockScratch[T] {
	if b.scr == nil {
		b.scr = new(blockScratch[T])
	}
	return b.scr
}

func (b *PreActBlock[T]) scratch() *blockScratch[T] {
	if b.scr == nil {
		b.scr = new(blockScratch[T])
	}
	return b.scr
}

// ShareScratch makes the residual blocks in m (BasicBlock, PreActBlock, at
// any depth) share the scratch memory that holds the gradients inside a block
// during Backward: a model's blocks run one at a time, so one scratch, sized
// for the largest block, serves them all and saves two activation-sized
// buffers per block. Blocks of models used concurrently must not share.
// lib/models calls it on the models it builds.
func ShareScratch[T Float](m Module[T]) {
	s := new(blockScratch[T])
	var walk func(Module[T])
	walk = func(m Module[T]) {
		switch b := m.(type) {
		case *BasicBlock[T]:
			b.scr = s
		case *PreActBlock[T]:
			b.scr = s
		}
		if c, ok := m.(Container[T]); ok {
			for _, ch := range c.Children() {
				walk(ch)
			}
		}
	}
	walk(m)
}

func addInto[T Float](dst, a, b []T) { vec.Add(dst[:len(a)], a, b) }
