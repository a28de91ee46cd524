package nn

import (
	"slices"

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
	main, err := NewSequential[T]("", b.Conv1, b.BN1, b.Conv2, b.BN2).OutShape(in)
	if err != nil {
		return nil, err
	}
	sc := in
	if b.Downsample != nil {
		if sc, err = b.Downsample.OutShape(in); err != nil {
			return nil, err
		}
	}
	if !slices.Equal(main, sc) {
		return nil, layerError("BasicBlock", b.name, "residual branch shape %v does not match shortcut shape %v (input %v)", main, sc, in)
	}
	return main, nil
}

func (b *BasicBlock[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	if !slices.Equal(b.ishp, shapeOf(x)) {
		b.ishp = b.ishp[:0]
		if _, err := b.OutShape(shapeOf(x)); err != nil {
			return nil, err
		}
		b.ishp = append(b.ishp, shapeOf(x)...)
	}
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
	main, err := NewSequential[T]("", b.BN1, b.Conv1, b.BN2, b.Conv2).OutShape(in)
	if err != nil {
		return nil, err
	}
	sc := in
	if b.Shortcut != nil {
		if sc, err = b.Shortcut.OutShape(in); err != nil {
			return nil, err
		}
	}
	if !slices.Equal(main, sc) {
		return nil, layerError("PreActBlock", b.name, "residual branch shape %v does not match shortcut shape %v (input %v)", main, sc, in)
	}
	return main, nil
}

func (b *PreActBlock[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	if !slices.Equal(b.ishp, shapeOf(x)) {
		b.ishp = b.ishp[:0]
		if _, err := b.OutShape(shapeOf(x)); err != nil {
			return nil, err
		}
		b.ishp = append(b.ishp, shapeOf(x)...)
	}
	a, err := b.BN1.Forward(x, mode)
	if err != nil {
		return nil, err
	}
	if a, err = b.Relu1.Forward(a, mode); err != nil {
		return nil, err
	}
	h := a
	for _, l := range []Module[T]{b.Conv1, b.BN2, b.Relu2, b.Conv2} {
		if h, err = l.Forward(h, mode); err != nil {
			return nil, err
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

func addInto[T Float](dst, a, b []T) { vec.Add(dst[:len(a)], a, b) }
