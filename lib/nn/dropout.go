package nn

// Dropout zeroes each input independently with probability P in Train mode
// and scales the survivors by 1/(1-P) (PyTorch nn.Dropout); it is the identity
// in Eval and BatchStats modes. The mask is a deterministic function of Seed
// and the number of Train-mode calls so far, so runs are reproducible; that
// count is a buffer ("NAME.calls"), saved in checkpoints, so a resumed run
// draws the masks the uninterrupted run would have drawn.
type Dropout[T Float] struct {
	name    string
	P       float64
	Seed    uint64
	calls   *Buffer[T] // [count mod 2^20, count / 2^20]: exact in float32
	train   bool
	mask    []T
	ishp    []int
	out, dx buf[T]
	tan     buf[T] // forward-mode tangent of the output
}

// NewDropout returns a dropout layer with drop probability p.
func NewDropout[T Float](name string, p float64, seed uint64) *Dropout[T] {
	return &Dropout[T]{name: name, P: p, Seed: seed,
		calls: &Buffer[T]{Name: joinName(name, "calls"), Shape: []int{2}, Data: make([]T, 2)}}
}

// Calls returns the number of Train-mode forward passes so far.
func (d *Dropout[T]) Calls() uint64 {
	return uint64(d.calls.Data[0]) + uint64(d.calls.Data[1])<<20
}

func (d *Dropout[T]) setCalls(n uint64) {
	d.calls.Data[0], d.calls.Data[1] = T(n&(1<<20-1)), T(n>>20)
}

func (d *Dropout[T]) Name() string                     { return d.name }
func (d *Dropout[T]) Params() []*Param[T]              { return nil }
func (d *Dropout[T]) Buffers() []*Buffer[T]            { return []*Buffer[T]{d.calls} }
func (d *Dropout[T]) OutShape(in []int) ([]int, error) { return in, nil }

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (d *Dropout[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	if x == nil {
		return nil, layerError("Dropout", d.name, "nil input")
	}
	if d.P < 0 || d.P >= 1 {
		return nil, layerError("Dropout", d.name, "drop probability %v not in [0, 1)", d.P)
	}
	d.ishp = append(d.ishp[:0], shapeOf(x)...)
	y := d.out.get(d.ishp...)
	xs, ys := dataOf(x), dataOf(y)
	d.train = mode == Train && d.P > 0
	if !d.train {
		copy(ys, xs)
		return y, nil
	}
	n := d.Calls() + 1
	d.setCalls(n)
	base := splitmix(d.Seed ^ splitmix(n))
	d.mask = grow(d.mask, len(xs))
	scale := T(1 / (1 - d.P))
	thr := uint64(d.P * (1 << 53))
	for i, v := range xs {
		if splitmix(base+uint64(i))>>11 < thr {
			d.mask[i] = 0
		} else {
			d.mask[i] = scale
		}
		ys[i] = v * d.mask[i]
	}
	return y, nil
}

func (d *Dropout[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if err := checkGrad("Dropout", d.name, dy, d.out.shape); err != nil {
		return nil, err
	}
	dx := d.dx.get(d.ishp...)
	gs, ds := dataOf(dy), dataOf(dx)
	if !d.train {
		copy(ds, gs)
		return dx, nil
	}
	for i, g := range gs {
		ds[i] = g * d.mask[i]
	}
	return dx, nil
}
