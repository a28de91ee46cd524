package theory

import (
	"fmt"
	"math"

	"repdyn/lib/linalg"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// This file holds helpers for the results R1-R7 of THEORY.md (our formal
// versions of the paper's claims; see that file for statements and proofs).

// ResidualSplit decomposes the residual r = yhat - y along Col(J) (R1, R4):
// at a critical point J^T r = 0 forces P r = 0, and CMS + DAA force
// (I - P) r = 0, so r = 0.
type ResidualSplit struct {
	Tau        float64
	ResNorm    float64 // ||r||
	InCol      float64 // ||U_r^T r|| / ||r|| = ||P r|| / ||r||, computed directly (not as sqrt(1 - OutCol^2))
	OutCol     float64 // ||(I - P) r|| / ||r||
	Floor      float64 // round-off level of InCol and OutCol (RoundoffFloor at this cut-off)
	GradNorm   float64 // ||J^T r|| (half the gradient of ||r||^2)
	Loss       float64 // ||r||^2 / n  (squared loss, mean over examples)
	SigmaMinNZ float64 // smallest singular value above tau * sigma_max
}

// SplitResidual computes ResidualSplit for the explicit Jacobian (whose
// Yhat is used) and targets y, at cut-off tau (0: 1e-8).
func SplitResidual(J *Jacobian, y []float64, tau float64) (*ResidualSplit, error) {
	if tau <= 0 {
		tau = 1e-8
	}
	s, err := linalg.SVDOf(J.Data, J.N, J.D)
	if err != nil {
		return nil, err
	}
	r := make([]float64, J.N)
	for i := range r {
		r[i] = J.Yhat[i] - y[i]
	}
	rn := nrm2(r)
	in, out := s.Project(r, tau)
	var smax float64
	if len(s.Singular) > 0 {
		smax = s.Singular[0]
	}
	return &ResidualSplit{Tau: tau, ResNorm: rn, OutCol: out, InCol: in, Floor: RoundoffFloor(J.N, smax, s.SmallestKept(tau), false),
		GradNorm: nrm2(J.TMatVec(r)), Loss: rn * rn / float64(J.Examples), SigmaMinNZ: s.SmallestKept(tau)}, nil
}

// PL is the Polyak-Lojasiewicz check of R5 for the squared loss
// L = ||r||^2: if r is in Col(J), ||grad L||^2 = 4 ||J^T r||^2 >=
// 4 sigma_min+(J)^2 L.
type PL struct {
	GradSq   float64 // ||grad L||^2 = 4 ||J^T r||^2
	Bound    float64 // 4 sigma_min+^2 L
	Ratio    float64 // GradSq / Bound (>= 1 when r in Col(J))
	SigmaMin float64 // sigma_min+ at the cut-off
	InCol    bool    // r in Col(J) at round-off (OutCol <= the split's Floor: the hypothesis)
	// Rate is the contraction factor 1 - 2 sigma_min+^2 / beta of one GD
	// step with step 1/beta (set by SetSmoothness).
	Rate float64
}

// PLRatio evaluates R5 at J (with its Yhat) and targets y.
func PLRatio(J *Jacobian, y []float64, tau float64) (*PL, error) {
	sp, err := SplitResidual(J, y, tau)
	if err != nil {
		return nil, err
	}
	L := sp.ResNorm * sp.ResNorm
	p := &PL{GradSq: 4 * sp.GradNorm * sp.GradNorm, Bound: 4 * sp.SigmaMinNZ * sp.SigmaMinNZ * L, SigmaMin: sp.SigmaMinNZ, InCol: sp.OutCol <= sp.Floor}
	p.Ratio = p.GradSq / p.Bound
	return p, nil
}

// SetSmoothness sets Rate = 1 - 2 sigma_min+^2 / beta for a beta-smooth L.
func (p *PL) SetSmoothness(beta float64) { p.Rate = 1 - 2*p.SigmaMin*p.SigmaMin/beta }

// CrossEntropyColumnInf approximates inf over q in Col(J) of the mean
// softmax cross-entropy F(q) for integer labels (R2): F is minimized over
// q = U_r z (U_r the numerical column basis of J at tau) by gradient descent
// with Armijo backtracking for iters steps from q = 0. With one-hot targets
// and y in Col(J), the infimum is 0 and not attained (R2's corollary): the
// returned value then keeps decreasing with iters. It returns the value
// reached and the norm of the minimizer found.
func CrossEntropyColumnInf(J *Jacobian, labels []int, tau float64, iters int) (inf, qnorm float64, err error) {
	if tau <= 0 {
		tau = 1e-8
	}
	s, err := linalg.SVDOf(J.Data, J.N, J.D)
	if err != nil {
		return 0, 0, err
	}
	r := s.Rank(tau)
	m, n := J.Outputs, J.Examples
	F := func(q []float64, g []float64) float64 {
		var f float64
		p := make([]float64, m)
		for a := 0; a < n; a++ {
			row := q[a*m : (a+1)*m]
			softmaxRow(p, row)
			f -= math.Log(math.Max(p[labels[a]], 1e-300))
			if g != nil {
				for j := range p {
					g[a*m+j] = p[j] / float64(n)
				}
				g[a*m+labels[a]] -= 1 / float64(n)
			}
		}
		return f / float64(n)
	}
	z := make([]float64, r)
	q := make([]float64, J.N)
	g := make([]float64, J.N)
	toQ := func(z, q []float64) {
		clear(q)
		for k := 0; k < r; k++ {
			for i := 0; i < J.N; i++ {
				q[i] += s.U.At(i, k) * z[k]
			}
		}
	}
	f := F(q, g)
	step := 1.0
	gz := make([]float64, r)
	zt := make([]float64, r)
	qt := make([]float64, J.N)
	for it := 0; it < iters; it++ {
		for k := 0; k < r; k++ {
			var c float64
			for i := 0; i < J.N; i++ {
				c += s.U.At(i, k) * g[i]
			}
			gz[k] = c
		}
		gg := dot(gz, gz)
		if gg < 1e-30 {
			break
		}
		step *= 2
		for {
			for k := range z {
				zt[k] = z[k] - step*gz[k]
			}
			toQ(zt, qt)
			if ft := F(qt, nil); ft <= f-0.5*step*gg || step < 1e-12 {
				break
			}
			step /= 2
		}
		copy(z, zt)
		toQ(z, q)
		f = F(q, g)
	}
	return f, nrm2(q), nil
}

// ColumnSpaceInclusion measures Col(A) in Col(B) (R6): it returns
// ||(I - P_B) A||_F / ||A||_F with P_B the projector on B's numerical column
// space at tau; both have the same rows (e.g. the Jacobians of a small model
// and of a larger model that contains it, at corresponding points).
func ColumnSpaceInclusion(A, B *Jacobian, tau float64) (float64, error) {
	if A.N != B.N {
		return 0, fmt.Errorf("theory: ColumnSpaceInclusion: %d vs %d rows", A.N, B.N)
	}
	if tau <= 0 {
		tau = 1e-10
	}
	s, err := linalg.SVDOf(B.Data, B.N, B.D)
	if err != nil {
		return 0, err
	}
	var num, den float64
	col := make([]float64, A.N)
	for k := 0; k < A.D; k++ {
		for i := range col {
			col[i] = A.At(i, k)
		}
		c := nrm2(col)
		if c == 0 {
			continue
		}
		rho := s.Residual(col, tau) * c
		num += rho * rho
		den += c * c
	}
	if den == 0 {
		return 0, nil
	}
	return math.Sqrt(num / den), nil
}

// SweepPoint is one model of a width or depth sweep (R6, R7).
type SweepPoint struct {
	Value   int // the width or depth
	D       int // parameters
	N       int // Jacobian rows
	Rank    int // rank J at tau 1e-8
	Rho     float64
	Verdict string
}

// Sweep builds one model per value (a width or a depth), computes its
// Jacobian on x and the DAA report for y, and returns rank J, d and rho for
// each: "what matters is rank J and y's place, not d >> N" (R7).
func Sweep(values []int, build func(v int) (nn.Module[float64], error), x *tensor.Tensor[float64], y []float64, jo JacobianOptions) ([]SweepPoint, error) {
	var pts []SweepPoint
	for _, v := range values {
		m, err := build(v)
		if err != nil {
			return nil, err
		}
		J, err := ComputeJacobian(m, x, jo)
		if err != nil {
			return nil, err
		}
		rep, err := DAA(J, y, DAAOptions{Taus: []float64{1e-8}})
		if err != nil {
			return nil, err
		}
		pts = append(pts, SweepPoint{Value: v, D: J.D, N: J.N, Rank: rep.PerTau[0].Rank, Rho: rep.PerTau[0].Rho, Verdict: rep.Verdict})
	}
	return pts, nil
}

// FeatureDrift is ||H_t - H_0||_F / ||H_0||_F for two feature matrices of
// the same examples (e.g. from HeadFeatures at initialization and after
// training): the movement of the representation that the lazy (NTK) regime
// does not have (C1).
func FeatureDrift(h0, ht []float64) float64 {
	var num, den float64
	for i, a := range h0 {
		d := ht[i] - a
		num += d * d
		den += a * a
	}
	return math.Sqrt(num / den)
}

// Scaled is the output-scaled model x -> Alpha * f(x) (Alpha large gives the
// lazy regime, C1). It is an nn.Module[float64] with the parameters of the
// wrapped model, and an nn.JVPModule[float64].
type Scaled struct {
	Inner nn.Module[float64]
	Alpha float64
	y     *tensor.Tensor[float64]
	dy    *tensor.Tensor[float64]
	ty    *tensor.Tensor[float64] // tangent of the last ForwardJVP
}

// NewScaled wraps m.
func NewScaled(m nn.Module[float64], alpha float64) *Scaled { return &Scaled{Inner: m, Alpha: alpha} }

func (s *Scaled) Name() string                     { return s.Inner.Name() }
func (s *Scaled) Params() []*nn.Param[float64]     { return s.Inner.Params() }
func (s *Scaled) Buffers() []*nn.Buffer[float64]   { return s.Inner.Buffers() }
func (s *Scaled) OutShape(in []int) ([]int, error) { return s.Inner.OutShape(in) }
func (s *Scaled) Forward(x *tensor.Tensor[float64], mode nn.Mode) (*tensor.Tensor[float64], error) {
	y, err := s.Inner.Forward(x, mode)
	if err != nil {
		return nil, err
	}
	s.y = tensor.Scale(y.Contiguous(), s.Alpha)
	return s.y, nil
}

func (s *Scaled) Backward(dy *tensor.Tensor[float64]) (*tensor.Tensor[float64], error) {
	s.dy = tensor.Scale(dy.Contiguous(), s.Alpha)
	return s.Inner.Backward(s.dy)
}

// ForwardJVP implements nn.JVPModule: the inner model's forward-mode rule,
// output and tangent scaled by Alpha.
func (s *Scaled) ForwardJVP(x, dx *tensor.Tensor[float64], mode nn.Mode) (*tensor.Tensor[float64], *tensor.Tensor[float64], error) {
	y, dy, err := nn.JVP(s.Inner, x, dx, nil, mode)
	if err != nil {
		return nil, nil, err
	}
	s.y = tensor.Scale(y.Contiguous(), s.Alpha)
	s.ty = tensor.Scale(dy.Contiguous(), s.Alpha)
	return s.y, s.ty, nil
}
