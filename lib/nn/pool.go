package nn

import "math"

// Flatten reshapes [N, d1, d2, ...] to [N, d1*d2*...] (a copy into its own buffer).
type Flatten[T Float] struct {
	name    string
	ishp    []int
	out, dx buf[T]
	sc      shapeCache
	tan     buf[T] // forward-mode tangent of the output
}

// NewFlatten returns a Flatten layer.
func NewFlatten[T Float](name string) *Flatten[T] { return &Flatten[T]{name: name} }

func (f *Flatten[T]) Name() string          { return f.name }
func (f *Flatten[T]) Params() []*Param[T]   { return nil }
func (f *Flatten[T]) Buffers() []*Buffer[T] { return nil }
func (f *Flatten[T]) OutShape(in []int) ([]int, error) {
	if len(in) < 1 {
		return nil, layerError("Flatten", f.name, "input shape %v has no batch dimension", in)
	}
	return []int{in[0], prod(in[1:])}, nil
}

func (f *Flatten[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	os, err := f.sc.lookup(shapeOf(x), f.OutShape)
	if err != nil {
		return nil, err
	}
	f.ishp = append(f.ishp[:0], shapeOf(x)...)
	y := f.out.get(os...)
	copy(dataOf(y), dataOf(x))
	return y, nil
}

func (f *Flatten[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if err := checkGrad("Flatten", f.name, dy, f.out.shape); err != nil {
		return nil, err
	}
	dx := f.dx.get(f.ishp...)
	copy(dataOf(dx), dataOf(dy))
	return dx, nil
}

// GlobalAvgPool averages each channel over its spatial positions:
// [N, C, H, W] -> [N, C] (PyTorch AdaptiveAvgPool2d(1) followed by flatten).
type GlobalAvgPool[T Float] struct {
	name    string
	ishp    []int
	out, dx buf[T]
	sc      shapeCache
	tan     buf[T] // forward-mode tangent of the output
}

// NewGlobalAvgPool returns a global average pooling layer.
func NewGlobalAvgPool[T Float](name string) *GlobalAvgPool[T] { return &GlobalAvgPool[T]{name: name} }

func (g *GlobalAvgPool[T]) Name() string          { return g.name }
func (g *GlobalAvgPool[T]) Params() []*Param[T]   { return nil }
func (g *GlobalAvgPool[T]) Buffers() []*Buffer[T] { return nil }
func (g *GlobalAvgPool[T]) OutShape(in []int) ([]int, error) {
	if len(in) != 4 || in[2] < 1 || in[3] < 1 {
		return nil, layerError("GlobalAvgPool", g.name, "input shape %v, want [N C H W]", in)
	}
	return []int{in[0], in[1]}, nil
}

func (g *GlobalAvgPool[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	os, err := g.sc.lookup(shapeOf(x), g.OutShape)
	if err != nil {
		return nil, err
	}
	g.ishp = append(g.ishp[:0], shapeOf(x)...)
	hw := g.ishp[2] * g.ishp[3]
	y := g.out.get(os...)
	xs, ys := dataOf(x), dataOf(y)
	for i := range ys {
		var s T
		for _, v := range xs[i*hw : (i+1)*hw] {
			s += v
		}
		ys[i] = s / T(hw)
	}
	return y, nil
}

func (g *GlobalAvgPool[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if err := checkGrad("GlobalAvgPool", g.name, dy, g.out.shape); err != nil {
		return nil, err
	}
	hw := g.ishp[2] * g.ishp[3]
	dx := g.dx.get(g.ishp...)
	gs, ds := dataOf(dy), dataOf(dx)
	for i, v := range gs {
		v /= T(hw)
		for j := range ds[i*hw : (i+1)*hw] {
			ds[i*hw+j] = v
		}
	}
	return dx, nil
}

// Pool2d is max or average pooling over K x K windows with Stride and Pad
// (PyTorch MaxPool2d / AvgPool2d with ceil_mode=False; average pooling counts
// padded zeros, count_include_pad=True, as PyTorch's default).
type Pool2d[T Float] struct {
	name           string
	Max            bool
	K, Stride, Pad int
	ishp           []int
	arg            []int32 // argmax per output (max pooling)
	out, dx        buf[T]
	sc             shapeCache
	tan            buf[T] // forward-mode tangent of the output
}

// NewMaxPool2d returns max pooling (padding is -inf as in PyTorch).
func NewMaxPool2d[T Float](name string, k, stride, pad int) *Pool2d[T] {
	return &Pool2d[T]{name: name, Max: true, K: k, Stride: stride, Pad: pad}
}

// NewAvgPool2d returns average pooling.
func NewAvgPool2d[T Float](name string, k, stride, pad int) *Pool2d[T] {
	return &Pool2d[T]{name: name, K: k, Stride: stride, Pad: pad}
}

func (p *Pool2d[T]) kind() string {
	if p.Max {
		return "MaxPool2d"
	}
	return "AvgPool2d"
}

func (p *Pool2d[T]) Name() string          { return p.name }
func (p *Pool2d[T]) Params() []*Param[T]   { return nil }
func (p *Pool2d[T]) Buffers() []*Buffer[T] { return nil }
func (p *Pool2d[T]) OutShape(in []int) ([]int, error) {
	if len(in) != 4 {
		return nil, layerError(p.kind(), p.name, "input shape %v, want [N C H W]", in)
	}
	oh := (in[2]+2*p.Pad-p.K)/p.Stride + 1
	ow := (in[3]+2*p.Pad-p.K)/p.Stride + 1
	if in[2]+2*p.Pad < p.K || in[3]+2*p.Pad < p.K || oh < 1 || ow < 1 {
		return nil, layerError(p.kind(), p.name, "input shape %v too small for kernel %d, stride %d, pad %d", in, p.K, p.Stride, p.Pad)
	}
	return []int{in[0], in[1], oh, ow}, nil
}

func (p *Pool2d[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	os, err := p.sc.lookup(shapeOf(x), p.OutShape)
	if err != nil {
		return nil, err
	}
	p.ishp = append(p.ishp[:0], shapeOf(x)...)
	H, W, OH, OW := p.ishp[2], p.ishp[3], os[2], os[3]
	y := p.out.get(os...)
	xs, ys := dataOf(x), dataOf(y)
	if p.Max {
		p.arg = grow(p.arg, len(ys))
	}
	inv := 1 / T(p.K*p.K)
	for nc := 0; nc < os[0]*os[1]; nc++ {
		xp := xs[nc*H*W : (nc+1)*H*W]
		for oh := 0; oh < OH; oh++ {
			for ow := 0; ow < OW; ow++ {
				o := nc*OH*OW + oh*OW + ow
				best, bi := T(math.Inf(-1)), int32(-1)
				var s T
				for kh := 0; kh < p.K; kh++ {
					ih := oh*p.Stride - p.Pad + kh
					if ih < 0 || ih >= H {
						continue
					}
					for kw := 0; kw < p.K; kw++ {
						iw := ow*p.Stride - p.Pad + kw
						if iw < 0 || iw >= W {
							continue
						}
						v := xp[ih*W+iw]
						s += v
						if v > best || bi < 0 || v != v {
							best, bi = v, int32(ih*W+iw)
						}
					}
				}
				if p.Max {
					ys[o], p.arg[o] = best, bi
				} else {
					ys[o] = s * inv
				}
			}
		}
	}
	return y, nil
}

func (p *Pool2d[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if err := checkGrad(p.kind(), p.name, dy, p.out.shape); err != nil {
		return nil, err
	}
	H, W := p.ishp[2], p.ishp[3]
	os := p.out.shape
	OH, OW := os[2], os[3]
	dx := p.dx.get(p.ishp...)
	gs, ds := dataOf(dy), dataOf(dx)
	clear(ds)
	inv := 1 / T(p.K*p.K)
	for nc := 0; nc < os[0]*os[1]; nc++ {
		dp := ds[nc*H*W : (nc+1)*H*W]
		for oh := 0; oh < OH; oh++ {
			for ow := 0; ow < OW; ow++ {
				o := nc*OH*OW + oh*OW + ow
				if p.Max {
					if a := p.arg[o]; a >= 0 {
						dp[a] += gs[o]
					}
					continue
				}
				g := gs[o] * inv
				for kh := 0; kh < p.K; kh++ {
					ih := oh*p.Stride - p.Pad + kh
					if ih < 0 || ih >= H {
						continue
					}
					for kw := 0; kw < p.K; kw++ {
						iw := ow*p.Stride - p.Pad + kw
						if iw >= 0 && iw < W {
							dp[ih*W+iw] += g
						}
					}
				}
			}
		}
	}
	return dx, nil
}
