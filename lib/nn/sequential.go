package nn

// Sequential applies its children in order (PyTorch nn.Sequential). Its
// Params and Buffers are the children's, in order.
type Sequential[T Float] struct {
	name   string
	Layers []Module[T] // after editing Layers in place, call Invalidate

	ps []*Param[T]
	bs []*Buffer[T]
	n  int // len(Layers) when ps/bs were cached
}

// NewSequential returns a container of the given modules.
func NewSequential[T Float](name string, layers ...Module[T]) *Sequential[T] {
	return &Sequential[T]{name: name, Layers: layers}
}

// Append adds modules at the end.
func (s *Sequential[T]) Append(m ...Module[T]) { s.Layers = append(s.Layers, m...); s.Invalidate() }

// Invalidate drops the cached parameter and buffer lists (after editing Layers).
func (s *Sequential[T]) Invalidate() { s.ps, s.bs = nil, nil }

func (s *Sequential[T]) Name() string          { return s.name }
func (s *Sequential[T]) Children() []Module[T] { return s.Layers }
func (s *Sequential[T]) Params() []*Param[T] {
	if s.ps == nil || s.n != len(s.Layers) {
		s.ps, s.bs, s.n = collectParams(s.Layers...), collectBuffers(s.Layers...), len(s.Layers)
	}
	return s.ps
}

func (s *Sequential[T]) Buffers() []*Buffer[T] {
	s.Params()
	return s.bs
}

func (s *Sequential[T]) OutShape(in []int) ([]int, error) {
	var err error
	for _, l := range s.Layers {
		if in, err = l.OutShape(in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (s *Sequential[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	var err error
	for i := 0; i < len(s.Layers); i++ {
		if c, bn := s.convBN(i, mode); c != nil {
			// eval mode: the batch norm (and a ReLU after it) as the
			// convolution's epilogue (convbn.go)
			relu := s.fusedPair(i+1) != nil
			if x, err = convBNEval(c, bn, x, nil, relu); err != nil {
				return nil, err
			}
			i++
			if relu {
				i++
			}
			continue
		}
		if bn := s.fusedPair(i); bn != nil {
			// batch norm followed by ReLU: one pass (see forwardFused)
			if x, err = bn.forwardFused(x, mode, nil, true); err != nil {
				return nil, err
			}
			i++
			continue
		}
		if x, err = s.Layers[i].Forward(x, mode); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// convBN returns layers i and i+1 if, in eval mode, they are a convolution
// and a batch norm.
func (s *Sequential[T]) convBN(i int, mode Mode) (*Conv2d[T], *BatchNorm[T]) {
	if mode != Eval || !fuseConvBN || i+1 >= len(s.Layers) {
		return nil, nil
	}
	c, ok := s.Layers[i].(*Conv2d[T])
	if !ok {
		return nil, nil
	}
	bn, ok := s.Layers[i+1].(*BatchNorm[T])
	if !ok {
		return nil, nil
	}
	return c, bn
}

// fusedPair returns layer i if it is a batch norm followed by a ReLU.
func (s *Sequential[T]) fusedPair(i int) *BatchNorm[T] {
	if i+1 >= len(s.Layers) {
		return nil
	}
	bn, ok := s.Layers[i].(*BatchNorm[T])
	if !ok {
		return nil
	}
	if a, ok := s.Layers[i+1].(*Activation[T]); !ok || a.Kind != ActReLU {
		return nil
	}
	return bn
}

func (s *Sequential[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	var err error
	for i := len(s.Layers) - 1; i >= 0; i-- {
		if i > 0 {
			if bn := s.fusedPair(i - 1); bn != nil && bn.relu {
				dx := bn.dx.get(bn.ishp...)
				if err = bn.backwardInto(dataOf(dy), true, dataOf(dx), dataOf(dx)); err != nil {
					return nil, err
				}
				dy = dx
				i--
				continue
			}
		}
		if dy, err = s.Layers[i].Backward(dy); err != nil {
			return nil, err
		}
	}
	return dy, nil
}

func collectParams[T Float](ms ...Module[T]) []*Param[T] {
	var ps []*Param[T]
	for _, m := range ms {
		if m != nil {
			ps = append(ps, m.Params()...)
		}
	}
	return ps
}

func collectBuffers[T Float](ms ...Module[T]) []*Buffer[T] {
	var bs []*Buffer[T]
	for _, m := range ms {
		if m != nil {
			bs = append(bs, m.Buffers()...)
		}
	}
	return bs
}

// Container is implemented by modules that have sub-modules (for summaries
// and traversal).
type Container[T Float] interface {
	Children() []Module[T]
}
