package nn

import "fmt"

// Residual is implemented by residual blocks, out = Post(Main(x) +
// Shortcut(x)): the block owns its wiring, so code that walks a network
// (summaries, diagnostics, the theory toolkit) asks the block instead of
// repeating it. Main is the main path in forward order, Shortcut the
// projection (nil: identity), Post the layers after the addition.
type Residual[T Float] interface {
	Module[T]
	Wiring() (main []Module[T], shortcut Module[T], post []Module[T])
}

// Cloner is implemented by modules that deep-copy themselves: the same
// structure, names, parameters and buffers, sharing nothing (the theory
// toolkit's parallel Jacobian replicas and aligned-training snapshots). A
// new layer type implements it in its own file.
type Cloner[T Float] interface {
	Clone() (Module[T], error)
}

// Describer is implemented by layers that describe themselves in Summary:
// their kind, a detail string and the forward flops for input shape in.
type Describer interface {
	Describe(in, out []int) (kind, detail string, flops int64)
}

// Clone deep-copies m by its Clone method; an error names the module when it
// has none.
func Clone[T Float](m Module[T]) (Module[T], error) {
	if c, ok := m.(Cloner[T]); ok {
		return c.Clone()
	}
	return nil, fmt.Errorf("nn.Clone: %T (%q) does not implement Clone", m, m.Name())
}

// copyInto copies src's parameters and buffers into dst (same structure).
func copyInto[T Float](dst, src Module[T]) (Module[T], error) {
	if err := CopyState[T, T](dst, src); err != nil {
		return nil, err
	}
	return dst, nil
}

func (b *BasicBlock[T]) Wiring() ([]Module[T], Module[T], []Module[T]) {
	var sc Module[T]
	if b.Downsample != nil {
		sc = b.Downsample
	}
	return []Module[T]{b.Conv1, b.BN1, b.Relu1, b.Conv2, b.BN2}, sc, []Module[T]{b.Relu2}
}

func (b *PreActBlock[T]) Wiring() ([]Module[T], Module[T], []Module[T]) {
	var sc Module[T]
	if b.Shortcut != nil {
		sc = b.Shortcut
	}
	return []Module[T]{b.BN1, b.Relu1, b.Conv1, b.BN2, b.Relu2, b.Conv2}, sc, nil
}

// Clone implements Cloner.
func (l *Linear[T]) Clone() (Module[T], error) {
	return copyInto[T](NewLinear[T](l.name, l.In, l.Out, l.Bias != nil), l)
}

// Clone implements Cloner.
func (c *Conv2d[T]) Clone() (Module[T], error) {
	d := NewConv2d[T](c.name, c.In, c.Out, c.K, c.Stride, c.Pad, c.Bias != nil)
	d.Dil = c.Dil
	return copyInto[T](d, c)
}

// Clone implements Cloner.
func (b *BatchNorm[T]) Clone() (Module[T], error) {
	c := newBN[T](b.name, b.kindName, b.C)
	c.Eps, c.Momentum = b.Eps, b.Momentum
	return copyInto[T](c, b)
}

// Clone implements Cloner.
func (a *Activation[T]) Clone() (Module[T], error) {
	return NewActivation[T](a.name, a.Kind, a.Slope), nil
}

// Clone implements Cloner.
func (f *Flatten[T]) Clone() (Module[T], error) { return NewFlatten[T](f.name), nil }

// Clone implements Cloner.
func (g *GlobalAvgPool[T]) Clone() (Module[T], error) { return NewGlobalAvgPool[T](g.name), nil }

// Clone implements Cloner.
func (p *Pool2d[T]) Clone() (Module[T], error) {
	return &Pool2d[T]{name: p.name, Max: p.Max, K: p.K, Stride: p.Stride, Pad: p.Pad}, nil
}

// Clone implements Cloner.
func (d *Dropout[T]) Clone() (Module[T], error) {
	return copyInto[T](NewDropout[T](d.name, d.P, d.Seed), d)
}

// Clone implements Cloner: every layer is cloned (Clone).
func (s *Sequential[T]) Clone() (Module[T], error) {
	ls := make([]Module[T], len(s.Layers))
	for i, l := range s.Layers {
		c, err := Clone(l)
		if err != nil {
			return nil, err
		}
		ls[i] = c
	}
	return NewSequential[T](s.name, ls...), nil
}

// Clone implements Cloner.
func (b *BasicBlock[T]) Clone() (Module[T], error) {
	return copyInto[T](NewBasicBlock[T](b.name, b.Conv1.In, b.Conv1.Out, b.Conv1.Stride), b)
}

// Clone implements Cloner.
func (b *PreActBlock[T]) Clone() (Module[T], error) {
	return copyInto[T](NewPreActBlock[T](b.name, b.Conv1.In, b.Conv1.Out, b.Conv1.Stride, b.Shortcut != nil && len(b.Shortcut.Layers) > 1), b)
}
