package nn

import (
	"fmt"
	"slices"
)

// JVPModule is implemented by every module of this package: forward-mode
// differentiation (Jacobian-vector products). Modules defined elsewhere
// (lib/theory's Softmax, Scaled and AlignedModel, say) implement it too and
// run their children with JVP(child, x, dx, nil, mode).
//
// ForwardJVP runs Forward(x, mode) (same output, same saved state, same
// running-statistics update in Train mode) and also returns the tangent
//
//	dy = J_x dx + J_theta dtheta
//
// where dx is the input tangent (nil means zero) and dtheta is given by each
// parameter's Tangent field (nil means zero). In Train and BatchStats modes
// batch norm's tangent includes the dependence of the batch statistics on
// every example. dy is owned by the module, valid until its next ForwardJVP.
type JVPModule[T Float] interface {
	Module[T]
	ForwardJVP(x, dx *Tensor[T], mode Mode) (y, dy *Tensor[T], err error)
}

// JVP returns f(x) and the tangent dy = J_x dx + J_theta v for the batch x
// (see JVPModule), with v laid out as FlattenParams. It sets the parameters'
// Tangent fields to slices of v for the call and restores them afterwards.
//
// With v nil the Tangent fields are used as they are (nil: zero): that is
// how a composite module defined outside this package (a wrapper, an extra
// head) runs its children inside its own ForwardJVP, so that a direction set
// by an enclosing JVP or JVPParams call reaches them.
func JVP[T Float](m Module[T], x, dx *Tensor[T], v []T, mode Mode) (y, dy *Tensor[T], err error) {
	if v == nil {
		return runJVP(m, x, dx, mode, "nn.JVP")
	}
	if n := NumParams(m); n != len(v) {
		return nil, nil, fmt.Errorf("nn.JVP: model has %d parameters, direction has %d", n, len(v))
	}
	return jvpWith(m, x, dx, m.Params(), v, mode, "nn.JVP")
}

// JVPParams is JVP with the direction v laid out over the parameters ps,
// concatenated in that order (typically a subset of m.Params(), such as the
// columns of a Jacobian restricted to some layers). The other parameters'
// Tangent fields are used as they are (nil: zero); those of ps are restored
// afterwards.
func JVPParams[T Float](m Module[T], x, dx *Tensor[T], ps []*Param[T], v []T, mode Mode) (y, dy *Tensor[T], err error) {
	n := 0
	for _, p := range ps {
		n += len(p.Data)
	}
	if n != len(v) {
		return nil, nil, fmt.Errorf("nn.JVPParams: parameters have %d entries, direction has %d", n, len(v))
	}
	return jvpWith(m, x, dx, ps, v, mode, "nn.JVPParams")
}

func jvpWith[T Float](m Module[T], x, dx *Tensor[T], ps []*Param[T], v []T, mode Mode, who string) (*Tensor[T], *Tensor[T], error) {
	saved := make([][]T, len(ps))
	off := 0
	for i, p := range ps {
		saved[i] = p.Tangent
		p.Tangent = v[off : off+len(p.Data) : off+len(p.Data)]
		off += len(p.Data)
	}
	defer func() {
		for i := len(ps) - 1; i >= 0; i-- {
			ps[i].Tangent = saved[i]
		}
	}()
	return runJVP(m, x, dx, mode, who)
}

// runJVP runs m's ForwardJVP with the parameters' current tangents.
func runJVP[T Float](m Module[T], x, dx *Tensor[T], mode Mode, who string) (*Tensor[T], *Tensor[T], error) {
	jm, ok := m.(JVPModule[T])
	if !ok {
		return nil, nil, fmt.Errorf("%s: %T (%q) does not implement ForwardJVP", who, m, m.Name())
	}
	return jm.ForwardJVP(x, dx, mode)
}

// childJVP runs ForwardJVP on a child module.
func childJVP[T Float](m Module[T], x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	return runJVP(m, x, dx, mode, "nn")
}

// tangentData returns dx's elements, or nil for a nil tangent.
func tangentData[T Float](x, dx *Tensor[T], kind, name string) ([]T, error) {
	if dx == nil {
		return nil, nil
	}
	if dx.Numel() != x.Numel() || !slices.Equal(shapeOf(dx), shapeOf(x)) {
		return nil, layerError(kind, name, "tangent shape %v does not match input shape %v", shapeOf(dx), shapeOf(x))
	}
	return dataOf(dx), nil
}

func (a *Activation[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	d, err := tangentData(x, dx, a.Kind.String(), a.name)
	if err != nil {
		return nil, nil, err
	}
	y, err := a.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	t := a.tan.get(shapeOf(y)...)
	ts := dataOf(t)
	if d == nil {
		clear(ts)
		return y, t, nil
	}
	xs, ys := dataOf(x), dataOf(y)
	switch a.Kind {
	case ActReLU:
		for i, v := range xs {
			if v > 0 {
				ts[i] = d[i]
			} else {
				ts[i] = 0
			}
		}
	case ActLeakyReLU:
		s := T(a.Slope)
		for i, v := range xs {
			if v > 0 {
				ts[i] = d[i]
			} else {
				ts[i] = s * d[i]
			}
		}
	case ActTanh:
		for i, v := range ys {
			ts[i] = d[i] * (1 - v*v)
		}
	case ActSigmoid:
		for i, v := range ys {
			ts[i] = d[i] * v * (1 - v)
		}
	default:
		copy(ts, d)
	}
	return y, t, nil
}

func (l *Linear[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	d, err := tangentData(x, dx, "Linear", l.name)
	if err != nil {
		return nil, nil, err
	}
	y, err := l.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	n := shapeOf(x)[0]
	t := l.tan.get(shapeOf(y)...)
	ts := dataOf(t)
	clear(ts)
	if l.Bias != nil && l.Bias.Tangent != nil {
		for i := 0; i < n; i++ {
			copy(ts[i*l.Out:(i+1)*l.Out], l.Bias.Tangent)
		}
	}
	if d != nil {
		gemm(false, true, n, l.Out, l.In, d, l.In, l.Weight.Data, l.In, 1, ts, l.Out)
	}
	if l.Weight.Tangent != nil {
		gemm(false, true, n, l.Out, l.In, dataOf(x), l.In, l.Weight.Tangent, l.In, 1, ts, l.Out)
	}
	return y, t, nil
}

func (c *Conv2d[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	d, err := tangentData(x, dx, "Conv2d", c.name)
	if err != nil {
		return nil, nil, err
	}
	y, err := c.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	t := c.tan.get(shapeOf(y)...)
	ts := dataOf(t)
	clear(ts)
	var db []T
	if c.Bias != nil {
		db = c.Bias.Tangent
	}
	if d != nil {
		if err := c.ws.forward(c.g, d, c.Weight.Data, db, ts, 1); err != nil {
			return nil, nil, layerError("Conv2d", c.name, "%v", err)
		}
		db = nil
	}
	if c.Weight.Tangent != nil {
		if err := c.ws.forward(c.g, dataOf(x), c.Weight.Tangent, db, ts, 1); err != nil {
			return nil, nil, layerError("Conv2d", c.name, "%v", err)
		}
		db = nil
	}
	if db != nil { // bias tangent only
		ohw := c.g.OH * c.g.OW
		for n := 0; n < c.g.N; n++ {
			for co := 0; co < c.g.Cout; co++ {
				o := (n*c.g.Cout + co) * ohw
				for i := range ts[o : o+ohw] {
					ts[o+i] += db[co]
				}
			}
		}
	}
	return y, t, nil
}

func (b *BatchNorm[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	d, err := tangentData(x, dx, b.kindName, b.name)
	if err != nil {
		return nil, nil, err
	}
	y, err := b.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	b.fillXhat()
	N, C, S := b.geom()
	M := float64(N * S)
	t := b.tan.get(shapeOf(y)...)
	ts := dataOf(t)
	for c := 0; c < C; c++ {
		var dg, dbeta T
		if b.Weight.Tangent != nil {
			dg = b.Weight.Tangent[c]
		}
		if b.Bias.Tangent != nil {
			dbeta = b.Bias.Tangent[c]
		}
		var mdx, mdxh T
		if d != nil && mode != Eval {
			var s, sh float64
			for n := 0; n < N; n++ {
				o := (n*C + c) * S
				for i, v := range d[o : o+S] {
					s += float64(v)
					sh += float64(v) * float64(b.xhat[o+i])
				}
			}
			mdx, mdxh = T(s/M), T(sh/M)
		}
		k := b.Weight.Data[c] * b.invstd[c]
		for n := 0; n < N; n++ {
			o := (n*C + c) * S
			for i := o; i < o+S; i++ {
				v := dg*b.xhat[i] + dbeta
				if d != nil {
					v += k * (d[i] - mdx - b.xhat[i]*mdxh)
				}
				ts[i] = v
			}
		}
	}
	return y, t, nil
}

func (f *Flatten[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	d, err := tangentData(x, dx, "Flatten", f.name)
	if err != nil {
		return nil, nil, err
	}
	y, err := f.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	t := f.tan.get(shapeOf(y)...)
	if d == nil {
		clear(dataOf(t))
	} else {
		copy(dataOf(t), d)
	}
	return y, t, nil
}

func (g *GlobalAvgPool[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	d, err := tangentData(x, dx, "GlobalAvgPool", g.name)
	if err != nil {
		return nil, nil, err
	}
	y, err := g.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	t := g.tan.get(shapeOf(y)...)
	ts := dataOf(t)
	hw := g.ishp[2] * g.ishp[3]
	for i := range ts {
		var s T
		if d != nil {
			for _, v := range d[i*hw : (i+1)*hw] {
				s += v
			}
		}
		ts[i] = s / T(hw)
	}
	return y, t, nil
}

func (p *Pool2d[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	d, err := tangentData(x, dx, p.kind(), p.name)
	if err != nil {
		return nil, nil, err
	}
	y, err := p.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	t := p.tan.get(shapeOf(y)...)
	ts := dataOf(t)
	clear(ts)
	if d == nil {
		return y, t, nil
	}
	H, W := p.ishp[2], p.ishp[3]
	os := shapeOf(y)
	OH, OW := os[2], os[3]
	inv := 1 / T(p.K*p.K)
	for nc := 0; nc < os[0]*os[1]; nc++ {
		dp := d[nc*H*W : (nc+1)*H*W]
		for oh := 0; oh < OH; oh++ {
			for ow := 0; ow < OW; ow++ {
				o := nc*OH*OW + oh*OW + ow
				if p.Max {
					if a := p.arg[o]; a >= 0 {
						ts[o] = dp[a]
					}
					continue
				}
				var s T
				for kh := 0; kh < p.K; kh++ {
					ih := oh*p.Stride - p.Pad + kh
					if ih < 0 || ih >= H {
						continue
					}
					for kw := 0; kw < p.K; kw++ {
						iw := ow*p.Stride - p.Pad + kw
						if iw >= 0 && iw < W {
							s += dp[ih*W+iw]
						}
					}
				}
				ts[o] = s * inv
			}
		}
	}
	return y, t, nil
}

func (dr *Dropout[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	d, err := tangentData(x, dx, "Dropout", dr.name)
	if err != nil {
		return nil, nil, err
	}
	y, err := dr.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	t := dr.tan.get(shapeOf(y)...)
	ts := dataOf(t)
	switch {
	case d == nil:
		clear(ts)
	case dr.train:
		for i, v := range d {
			ts[i] = v * dr.mask[i]
		}
	default:
		copy(ts, d)
	}
	return y, t, nil
}

func (s *Sequential[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	var err error
	for _, l := range s.Layers {
		if x, dx, err = childJVP(l, x, dx, mode); err != nil {
			return nil, nil, err
		}
	}
	return x, dx, nil
}

func (b *BasicBlock[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	if err := checkInputShape(&b.ishp, x, b.OutShape); err != nil {
		return nil, nil, err
	}
	if _, err := tangentData(x, dx, "BasicBlock", b.name); err != nil {
		return nil, nil, err
	}
	b.fused = false
	h, dh := x, dx
	var err error
	for _, l := range []Module[T]{b.Conv1, b.BN1, b.Relu1, b.Conv2, b.BN2} {
		if h, dh, err = childJVP(l, h, dh, mode); err != nil {
			return nil, nil, err
		}
	}
	sc, dsc := x, dx
	if b.Downsample != nil {
		if sc, dsc, err = b.Downsample.ForwardJVP(x, dx, mode); err != nil {
			return nil, nil, err
		}
	}
	s, ds := residualSumJVP(&b.sum, &b.tan, h, dh, sc, dsc)
	return b.Relu2.ForwardJVP(s, ds, mode)
}

func (b *PreActBlock[T]) ForwardJVP(x, dx *Tensor[T], mode Mode) (*Tensor[T], *Tensor[T], error) {
	if err := checkInputShape(&b.ishp, x, b.OutShape); err != nil {
		return nil, nil, err
	}
	if _, err := tangentData(x, dx, "PreActBlock", b.name); err != nil {
		return nil, nil, err
	}
	b.fused = false
	a, da, err := b.BN1.ForwardJVP(x, dx, mode)
	if err != nil {
		return nil, nil, err
	}
	if a, da, err = b.Relu1.ForwardJVP(a, da, mode); err != nil {
		return nil, nil, err
	}
	h, dh := a, da
	for _, l := range []Module[T]{b.Conv1, b.BN2, b.Relu2, b.Conv2} {
		if h, dh, err = childJVP(l, h, dh, mode); err != nil {
			return nil, nil, err
		}
	}
	sc, dsc := x, dx
	if b.Shortcut != nil {
		if sc, dsc, err = b.Shortcut.ForwardJVP(a, da, mode); err != nil {
			return nil, nil, err
		}
	}
	s, ds := residualSumJVP(&b.sum, &b.tan, h, dh, sc, dsc)
	return s, ds, nil
}
