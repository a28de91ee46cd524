package nn

// Linear is y = x W^T + b with W of shape [Out, In] (PyTorch nn.Linear).
// Input [N, In], output [N, Out].
type Linear[T Float] struct {
	name    string
	In, Out int
	Weight  *Param[T]
	Bias    *Param[T] // nil without bias
	x       *Tensor[T]
	ishp    []int
	out, dx buf[T]
	sc      shapeCache
	ps      []*Param[T]
	tan     buf[T] // forward-mode tangent of the output
}

// NewLinear returns a Linear layer with zero parameters; initialize them with
// lib/models' initializers (or InitLinearDefault).
func NewLinear[T Float](name string, in, out int, bias bool) *Linear[T] {
	l := &Linear[T]{name: name, In: in, Out: out}
	l.Weight = paramNew[T](name, "weight", false, out, in)
	if bias {
		l.Bias = paramNew[T](name, "bias", true, out)
	}
	return l
}

func (l *Linear[T]) Name() string { return l.name }

func (l *Linear[T]) Params() []*Param[T] {
	if l.ps == nil {
		l.ps = []*Param[T]{l.Weight}
		if l.Bias != nil {
			l.ps = append(l.ps, l.Bias)
		}
	}
	return l.ps
}

func (l *Linear[T]) Buffers() []*Buffer[T] { return nil }

func (l *Linear[T]) OutShape(in []int) ([]int, error) {
	if len(in) != 2 || in[1] != l.In {
		return nil, layerError("Linear", l.name, "input shape %v, want [N %d]", in, l.In)
	}
	return []int{in[0], l.Out}, nil
}

func (l *Linear[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	os, err := l.sc.lookup(shapeOf(x), l.OutShape)
	if err != nil {
		return nil, err
	}
	n := os[0]
	y := l.out.get(os...)
	ys := dataOf(y)
	if l.Bias != nil {
		for i := 0; i < n; i++ {
			copy(ys[i*l.Out:(i+1)*l.Out], l.Bias.Data)
		}
		gemm(false, true, n, l.Out, l.In, dataOf(x), l.In, l.Weight.Data, l.In, 1, ys, l.Out)
	} else {
		gemm(false, true, n, l.Out, l.In, dataOf(x), l.In, l.Weight.Data, l.In, 0, ys, l.Out)
	}
	l.x = x
	l.ishp = append(l.ishp[:0], shapeOf(x)...)
	return y, nil
}

func (l *Linear[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if err := checkGrad("Linear", l.name, dy, l.out.shape); err != nil {
		return nil, err
	}
	n := l.ishp[0]
	g := dataOf(dy)
	// dW += dy^T x ; db += sum_i dy_i ; dx = dy W
	gemm(true, false, l.Out, l.In, n, g, l.Out, dataOf(l.x), l.In, 1, l.Weight.Grad, l.In)
	if l.Bias != nil {
		for i := 0; i < n; i++ {
			for j, v := range g[i*l.Out : (i+1)*l.Out] {
				l.Bias.Grad[j] += v
			}
		}
	}
	dx := l.dx.get(l.ishp...)
	gemm(false, false, n, l.In, l.Out, g, l.Out, l.Weight.Data, l.In, 0, dataOf(dx), l.In)
	return dx, nil
}
