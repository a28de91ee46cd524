package theory

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// This file holds the exact forward-mode (tangent) evaluation used for the
// matrix-free product J v and the Euler identity of the CMS check. It is an
// interpreter over the layer types of lib/nn, built only on their exported
// fields (weights, running statistics, kinds, geometry) and, for convolutions,
// on scratch nn.Conv2d layers (so it uses the same fast kernels); it never
// touches the saved state of the model it evaluates. Every rule is the exact
// derivative of the layer's forward map (no finite differences).

// JVPModule is implemented by modules outside lib/nn (for instance the
// non-example output layers and the aligned model of this package) that
// provide their own forward-mode rule. x and dx have the same shape; tan maps
// a parameter to its tangent (a missing parameter has tangent zero).
type JVPModule interface {
	ForwardJVP(e *JVPEval, x, dx *Value) (y, dy *Value, err error)
}

// Value is a dense float64 activation with its shape (batch first).
type Value struct {
	Data  []float64
	Shape []int
}

func newValue(shape ...int) *Value {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return &Value{Data: make([]float64, n), Shape: append([]int(nil), shape...)}
}

// JVPEval evaluates y = f(x) and its directional derivative
// dy = J_x dx + J_theta v for a parameter tangent v.
type JVPEval struct {
	Mode nn.Mode // Eval or BatchStats (Train is refused: it would move running statistics)
	tan  map[*nn.Param[float64]][]float64
	conv map[*nn.Conv2d[float64]]*nn.Conv2d[float64]
}

// NewJVPEval returns an evaluator; tangent maps parameters to their tangent
// directions (same length as Param.Data; nil entries mean zero).
func NewJVPEval(mode nn.Mode, tangent map[*nn.Param[float64]][]float64) (*JVPEval, error) {
	if mode == nn.Train {
		return nil, fmt.Errorf("theory: JVP in Train mode would update batch-norm running statistics; use nn.BatchStats (batch statistics, examples coupled) or nn.Eval")
	}
	return &JVPEval{Mode: mode, tan: tangent, conv: map[*nn.Conv2d[float64]]*nn.Conv2d[float64]{}}, nil
}

// TangentFromVector splits a flat direction v (FlattenParams layout of the
// given parameter list) into a tangent map.
func TangentFromVector(params []*nn.Param[float64], v []float64) (map[*nn.Param[float64]][]float64, error) {
	t := map[*nn.Param[float64]][]float64{}
	off := 0
	for _, p := range params {
		if off+len(p.Data) > len(v) {
			return nil, fmt.Errorf("theory: direction has %d entries, parameters need more", len(v))
		}
		t[p] = v[off : off+len(p.Data)]
		off += len(p.Data)
	}
	if off != len(v) {
		return nil, fmt.Errorf("theory: direction has %d entries, parameters have %d", len(v), off)
	}
	return t, nil
}

func (e *JVPEval) tangent(p *nn.Param[float64]) []float64 {
	if p == nil || e.tan == nil {
		return nil
	}
	return e.tan[p]
}

// Run evaluates module m on x (dx may be nil: input tangent zero).
func (e *JVPEval) Run(m nn.Module[float64], x, dx *Value) (*Value, *Value, error) {
	if dx == nil {
		dx = newValue(x.Shape...)
	}
	switch l := m.(type) {
	case JVPModule:
		return l.ForwardJVP(e, x, dx)
	case *models.Model[float64]:
		return e.Run(l.Sequential, x, dx)
	case *nn.Sequential[float64]:
		var err error
		for _, c := range l.Layers {
			if x, dx, err = e.Run(c, x, dx); err != nil {
				return nil, nil, err
			}
		}
		return x, dx, nil
	case *nn.Linear[float64]:
		return e.linear(l, x, dx)
	case *nn.Conv2d[float64]:
		return e.conv2d(l, x, dx)
	case *nn.BatchNorm[float64]:
		return e.batchNorm(l, x, dx)
	case *nn.Activation[float64]:
		return activationJVP(l.Kind, l.Slope, x, dx)
	case *nn.Flatten[float64]:
		n := x.Shape[0]
		f := len(x.Data) / max(n, 1)
		return &Value{x.Data, []int{n, f}}, &Value{dx.Data, []int{n, f}}, nil
	case *nn.Dropout[float64]:
		return x, dx, nil // identity outside Train mode
	case *nn.GlobalAvgPool[float64]:
		if len(x.Shape) != 4 {
			return nil, nil, fmt.Errorf("theory: GlobalAvgPool %q: input shape %v", l.Name(), x.Shape)
		}
		hw := x.Shape[2] * x.Shape[3]
		y, dy := newValue(x.Shape[0], x.Shape[1]), newValue(x.Shape[0], x.Shape[1])
		for i := range y.Data {
			var s, ds float64
			for k := i * hw; k < (i+1)*hw; k++ {
				s += x.Data[k]
				ds += dx.Data[k]
			}
			y.Data[i], dy.Data[i] = s/float64(hw), ds/float64(hw)
		}
		return y, dy, nil
	case *nn.Pool2d[float64]:
		return pool2d(l, x, dx)
	case *nn.BasicBlock[float64]:
		h, dh := x, dx
		var err error
		for _, c := range []nn.Module[float64]{l.Conv1, l.BN1, l.Relu1, l.Conv2, l.BN2} {
			if h, dh, err = e.Run(c, h, dh); err != nil {
				return nil, nil, err
			}
		}
		sc, dsc := x, dx
		if l.Downsample != nil {
			if sc, dsc, err = e.Run(l.Downsample, x, dx); err != nil {
				return nil, nil, err
			}
		}
		s, ds := addValues(h, sc), addValues(dh, dsc)
		return e.Run(l.Relu2, s, ds)
	case *nn.PreActBlock[float64]:
		a, da, err := e.Run(l.BN1, x, dx)
		if err != nil {
			return nil, nil, err
		}
		if a, da, err = e.Run(l.Relu1, a, da); err != nil {
			return nil, nil, err
		}
		h, dh := a, da
		for _, c := range []nn.Module[float64]{l.Conv1, l.BN2, l.Relu2, l.Conv2} {
			if h, dh, err = e.Run(c, h, dh); err != nil {
				return nil, nil, err
			}
		}
		sc, dsc := x, dx
		if l.Shortcut != nil {
			if sc, dsc, err = e.Run(l.Shortcut, a, da); err != nil {
				return nil, nil, err
			}
		}
		return addValues(h, sc), addValues(dh, dsc), nil
	}
	return nil, nil, fmt.Errorf("theory: no forward-mode rule for layer %q of type %T (implement theory.JVPModule)", m.Name(), m)
}

func addValues(a, b *Value) *Value {
	y := newValue(a.Shape...)
	for i := range y.Data {
		y.Data[i] = a.Data[i] + b.Data[i]
	}
	return y
}

// gemmNT computes C = A B^T (+C if beta=1), A [n,k], B [m,k], C [n,m].
func gemmNT(n, m, k int, a, b []float64, beta float64, c []float64) {
	if n == 0 || m == 0 {
		return
	}
	if k == 0 {
		if beta == 0 {
			clear(c)
		}
		return
	}
	blas64.Implementation().Dgemm(blas.NoTrans, blas.Trans, n, m, k, 1, a, k, b, k, beta, c, m)
}

func (e *JVPEval) linear(l *nn.Linear[float64], x, dx *Value) (*Value, *Value, error) {
	if len(x.Shape) != 2 || x.Shape[1] != l.In {
		return nil, nil, fmt.Errorf("theory: Linear %q: input shape %v, want [N %d]", l.Name(), x.Shape, l.In)
	}
	n := x.Shape[0]
	y, dy := newValue(n, l.Out), newValue(n, l.Out)
	gemmNT(n, l.Out, l.In, x.Data, l.Weight.Data, 0, y.Data)
	gemmNT(n, l.Out, l.In, dx.Data, l.Weight.Data, 0, dy.Data)
	if tw := e.tangent(l.Weight); tw != nil {
		gemmNT(n, l.Out, l.In, x.Data, tw, 1, dy.Data)
	}
	if l.Bias != nil {
		tb := e.tangent(l.Bias)
		for i := 0; i < n; i++ {
			for j := 0; j < l.Out; j++ {
				y.Data[i*l.Out+j] += l.Bias.Data[j]
				if tb != nil {
					dy.Data[i*l.Out+j] += tb[j]
				}
			}
		}
	}
	return y, dy, nil
}

func (e *JVPEval) convWith(l *nn.Conv2d[float64], w []float64, x *Value) (*Value, error) {
	s := e.conv[l]
	if s == nil {
		s = nn.NewConv2d[float64]("theory-scratch", l.In, l.Out, l.K, l.Stride, l.Pad, false)
		s.Dil = l.Dil
		e.conv[l] = s
	}
	copy(s.Weight.Data, w)
	xt, err := tensor.FromSlice(x.Data, x.Shape...)
	if err != nil {
		return nil, err
	}
	y, err := s.Forward(xt, nn.Eval)
	if err != nil {
		return nil, fmt.Errorf("theory: Conv2d %q: %w", l.Name(), err)
	}
	y = y.Contiguous()
	return &Value{append([]float64(nil), y.Data()...), append([]int(nil), y.Shape()...)}, nil
}

func (e *JVPEval) conv2d(l *nn.Conv2d[float64], x, dx *Value) (*Value, *Value, error) {
	y, err := e.convWith(l, l.Weight.Data, x)
	if err != nil {
		return nil, nil, err
	}
	dy, err := e.convWith(l, l.Weight.Data, dx)
	if err != nil {
		return nil, nil, err
	}
	if tw := e.tangent(l.Weight); tw != nil {
		t, err := e.convWith(l, tw, x)
		if err != nil {
			return nil, nil, err
		}
		for i, v := range t.Data {
			dy.Data[i] += v
		}
	}
	if l.Bias != nil {
		tb := e.tangent(l.Bias)
		n, c := y.Shape[0], y.Shape[1]
		s := len(y.Data) / max(n*c, 1)
		for i := 0; i < n; i++ {
			for j := 0; j < c; j++ {
				o := (i*c + j) * s
				for k := o; k < o+s; k++ {
					y.Data[k] += l.Bias.Data[j]
					if tb != nil {
						dy.Data[k] += tb[j]
					}
				}
			}
		}
	}
	return y, dy, nil
}

func (e *JVPEval) batchNorm(b *nn.BatchNorm[float64], x, dx *Value) (*Value, *Value, error) {
	if len(x.Shape) < 2 || x.Shape[1] != b.C {
		return nil, nil, fmt.Errorf("theory: BatchNorm %q: input shape %v, want %d channels", b.Name(), x.Shape, b.C)
	}
	N, C := x.Shape[0], b.C
	S := len(x.Data) / max(N*C, 1)
	M := float64(N * S)
	y, dy := newValue(x.Shape...), newValue(x.Shape...)
	tg, tb := e.tangent(b.Weight), e.tangent(b.Bias)
	for c := 0; c < C; c++ {
		var mean, variance, dmean, dvar float64
		if e.Mode == nn.Eval {
			mean, variance = b.RunningMean.Data[c], b.RunningVar.Data[c]
		} else {
			var s, ds float64
			for n := 0; n < N; n++ {
				for k := (n*C + c) * S; k < (n*C+c+1)*S; k++ {
					s += x.Data[k]
					ds += dx.Data[k]
				}
			}
			mean, dmean = s/M, ds/M
			var q, dq float64
			for n := 0; n < N; n++ {
				for k := (n*C + c) * S; k < (n*C+c+1)*S; k++ {
					d := x.Data[k] - mean
					q += d * d
					dq += 2 * d * (dx.Data[k] - dmean)
				}
			}
			variance, dvar = q/M, dq/M
		}
		is := 1 / math.Sqrt(variance+b.Eps)
		dis := -0.5 * is * is * is * dvar
		g, be := b.Weight.Data[c], b.Bias.Data[c]
		var dg, dbe float64
		if tg != nil {
			dg = tg[c]
		}
		if tb != nil {
			dbe = tb[c]
		}
		for n := 0; n < N; n++ {
			for k := (n*C + c) * S; k < (n*C+c+1)*S; k++ {
				h := (x.Data[k] - mean) * is
				dh := (dx.Data[k]-dmean)*is + (x.Data[k]-mean)*dis
				y.Data[k] = g*h + be
				dy.Data[k] = dg*h + g*dh + dbe
			}
		}
	}
	return y, dy, nil
}

func activationJVP(kind nn.ActKind, slope float64, x, dx *Value) (*Value, *Value, error) {
	y, dy := newValue(x.Shape...), newValue(x.Shape...)
	for i, v := range x.Data {
		switch kind {
		case nn.ActReLU:
			if v > 0 {
				y.Data[i], dy.Data[i] = v, dx.Data[i]
			}
		case nn.ActLeakyReLU:
			if v > 0 {
				y.Data[i], dy.Data[i] = v, dx.Data[i]
			} else {
				y.Data[i], dy.Data[i] = slope*v, slope*dx.Data[i]
			}
		case nn.ActTanh:
			t := math.Tanh(v)
			y.Data[i], dy.Data[i] = t, (1-t*t)*dx.Data[i]
		case nn.ActSigmoid:
			s := sigmoid(v)
			y.Data[i], dy.Data[i] = s, s*(1-s)*dx.Data[i]
		case nn.ActIdentity:
			y.Data[i], dy.Data[i] = v, dx.Data[i]
		default:
			return nil, nil, fmt.Errorf("theory: no forward-mode rule for activation %v", kind)
		}
	}
	return y, dy, nil
}

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

func pool2d(p *nn.Pool2d[float64], x, dx *Value) (*Value, *Value, error) {
	if len(x.Shape) != 4 {
		return nil, nil, fmt.Errorf("theory: Pool2d %q: input shape %v", p.Name(), x.Shape)
	}
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	OH := (H+2*p.Pad-p.K)/p.Stride + 1
	OW := (W+2*p.Pad-p.K)/p.Stride + 1
	y, dy := newValue(N, C, OH, OW), newValue(N, C, OH, OW)
	inv := 1 / float64(p.K*p.K)
	for nc := 0; nc < N*C; nc++ {
		xp, dp := x.Data[nc*H*W:(nc+1)*H*W], dx.Data[nc*H*W:(nc+1)*H*W]
		for oh := 0; oh < OH; oh++ {
			for ow := 0; ow < OW; ow++ {
				o := nc*OH*OW + oh*OW + ow
				best, bi := math.Inf(-1), -1
				var s, ds float64
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
						ds += dp[ih*W+iw]
						if v > best || bi < 0 || v != v {
							best, bi = v, ih*W+iw
						}
					}
				}
				if p.Max {
					y.Data[o], dy.Data[o] = best, dp[bi]
				} else {
					y.Data[o], dy.Data[o] = s*inv, ds*inv
				}
			}
		}
	}
	return y, dy, nil
}
