package theory

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// DefaultCMSTol is the Euler residual below which a candidate holds.
const DefaultCMSTol = 1e-10

// EulerResidual checks the Euler identity of CMS for the parameter set S and
// degree p on the examples x:
//
//	max over examples i of || sum_{k in S} theta_k df(x_i)/dtheta_k - p f(x_i) || / || f(x_i) ||
//
// The left sum is the directional derivative J_S theta_S, computed exactly
// by one forward-mode pass (nn.JVPParams) with tangent theta on S and zero
// elsewhere. In BatchStats mode f couples the examples and the identity is
// checked for the batch as given.
func EulerResidual(m nn.Module[float64], x *tensor.Tensor[float64], S []*nn.Param[float64], p float64, mode nn.Mode) (float64, error) {
	if mode == nn.Train {
		return 0, fmt.Errorf("theory: JVP in Train mode would update batch-norm running statistics; use nn.BatchStats (batch statistics, examples coupled) or nn.Eval")
	}
	var theta []float64
	for _, q := range S {
		theta = append(theta, q.Data...)
	}
	x = x.Contiguous()
	yt, dyt, err := nn.JVPParams(m, x, nil, S, theta, mode)
	if err != nil {
		return 0, err
	}
	y, dy := yt.Contiguous().Data(), dyt.Contiguous().Data()
	n := x.Shape()[0]
	mo := len(y) / n
	worst := 0.0
	for a := 0; a < n; a++ {
		var num, den float64
		for j := a * mo; j < (a+1)*mo; j++ {
			d := dy[j] - p*y[j]
			num += d * d
			den += y[j] * y[j]
		}
		r := math.Sqrt(num) / math.Max(math.Sqrt(den), 1e-300)
		if den == 0 && num == 0 {
			r = 0
		}
		worst = max(worst, r)
	}
	return worst, nil
}

// Candidate is a parameter set S with degree p to test for CMS.
type Candidate struct {
	Name   string
	Params []*nn.Param[float64]
	P      float64
}

// CandidateResult is the outcome for one candidate.
type CandidateResult struct {
	Name     string
	Params   []string
	P        float64
	Residual float64
	Holds    bool
}

// CMSReport lists the candidates checked on a model and which hold.
type CMSReport struct {
	Model   string
	Mode    nn.Mode
	Tol     float64
	Results []CandidateResult
}

// Holds reports whether some candidate holds (CMS in its structural form).
func (r *CMSReport) Holds() bool {
	for _, c := range r.Results {
		if c.Holds {
			return true
		}
	}
	return false
}

// Result returns the result of the named candidate, or nil.
func (r *CMSReport) Result(name string) *CandidateResult {
	for i := range r.Results {
		if r.Results[i].Name == name {
			return &r.Results[i]
		}
	}
	return nil
}

func (r *CMSReport) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "CMS report for %s (batch norm: %v; holds if Euler residual <= %.0e)\n", r.Model, r.Mode, r.Tol)
	for _, c := range r.Results {
		ps := strings.Join(c.Params, ",")
		if len(ps) > 60 {
			ps = ps[:57] + "..."
		}
		fmt.Fprintf(&sb, "  %-5v residual %.3e  p=%-3g %-40s S={%s}\n", c.Holds, c.Residual, c.P, c.Name, ps)
	}
	if r.Holds() {
		sb.WriteString("  => CMS holds (some candidate satisfies the Euler identity)\n")
	} else {
		sb.WriteString("  => no candidate holds: CMS not established for this model\n")
	}
	return sb.String()
}

// CheckCMS evaluates the given candidates.
func CheckCMS(name string, m nn.Module[float64], x *tensor.Tensor[float64], mode nn.Mode, cands []Candidate, tol float64) (*CMSReport, error) {
	if tol <= 0 {
		tol = DefaultCMSTol
	}
	rep := &CMSReport{Model: name, Mode: mode, Tol: tol}
	for _, c := range cands {
		res, err := EulerResidual(m, x, c.Params, c.P, mode)
		if err != nil {
			return nil, err
		}
		var ns []string
		for _, p := range c.Params {
			ns = append(ns, p.Name)
		}
		rep.Results = append(rep.Results, CandidateResult{Name: c.Name, Params: ns, P: c.P, Residual: res, Holds: res <= tol})
	}
	return rep, nil
}

// CMSAuto checks the standard candidates of THEORY.md (see StandardCandidates).
func CMSAuto(name string, m nn.Module[float64], x *tensor.Tensor[float64], mode nn.Mode) (*CMSReport, error) {
	return CheckCMS(name, m, x, mode, StandardCandidates(m), 0)
}

// Leaves returns the layers of m in forward order: Sequential containers
// (and lib/models models) are expanded, residual blocks are expanded into
// their children (Children order), other layers are leaves.
func Leaves(m nn.Module[float64]) []nn.Module[float64] {
	switch s := m.(type) {
	case nn.Container[float64]: // Sequentials, lib/models models, residual blocks
		var out []nn.Module[float64]
		for _, c := range s.Children() {
			if c != nil {
				out = append(out, Leaves(c)...)
			}
		}
		return out
	}
	return []nn.Module[float64]{m}
}

func isBias(p *nn.Param[float64]) bool { return strings.HasSuffix(p.Name, "bias") }

// StandardCandidates returns the automatic CMS candidates of a model:
//
//   - "last affine layer": the weight and bias of the last Linear or Conv2d
//     layer, p = 1 (holds whenever nothing nonlinear follows it);
//   - "layer <name> + later biases": for each Linear/Conv2d layer, its
//     weight and bias plus every bias parameter after it, p = 1 (holds for
//     positively homogeneous networks: ReLU/leaky-ReLU/linear, max/average
//     pooling, no batch norm);
//   - "all weights": every Linear/Conv2d weight, p = number of such layers
//     (holds for bias-free positively homogeneous networks);
//   - "final batch-norm affine": gamma and beta of the last layer if it is a
//     BatchNorm with nothing parameterized after it, p = 1.
func StandardCandidates(m nn.Module[float64]) []Candidate {
	leaves := Leaves(m)
	all := m.Params()
	index := map[*nn.Param[float64]]int{}
	for i, p := range all {
		index[p] = i
	}
	var cands []Candidate
	var affine []nn.Module[float64]
	var lastParam nn.Module[float64]
	for _, l := range leaves {
		switch l.(type) {
		case *nn.Linear[float64], *nn.Conv2d[float64]:
			affine = append(affine, l)
		}
		if len(l.Params()) > 0 {
			lastParam = l
		}
	}
	if len(affine) > 0 {
		last := affine[len(affine)-1]
		cands = append(cands, Candidate{Name: "last affine layer", Params: last.Params(), P: 1})
	}
	if bn, ok := lastParam.(*nn.BatchNorm[float64]); ok {
		cands = append(cands, Candidate{Name: "final batch-norm affine", Params: bn.Params(), P: 1})
	}
	var weights []*nn.Param[float64]
	for _, l := range affine {
		ps := slices.Clone(l.Params())
		weights = append(weights, ps[0])
		start := index[ps[len(ps)-1]] + 1
		for _, q := range all[start:] {
			if isBias(q) {
				ps = append(ps, q)
			}
		}
		cands = append(cands, Candidate{Name: "layer " + l.Name() + " + later biases", Params: ps, P: 1})
	}
	if len(weights) > 0 {
		cands = append(cands, Candidate{Name: "all weights", Params: weights, P: float64(len(weights))})
	}
	return cands
}

// Softmax is a softmax over the last dimension of [N, K] inputs, as a layer:
// the non-example of THEORY.md "probabilities after softmax treated as the
// output". It implements nn.Module[float64] and nn.JVPModule[float64].
type Softmax struct {
	name string
	y    *tensor.Tensor[float64]
	dx   *tensor.Tensor[float64]
	dy   *tensor.Tensor[float64] // tangent of the last ForwardJVP
}

// NewSoftmax returns a softmax layer.
func NewSoftmax(name string) *Softmax { return &Softmax{name: name} }

func (s *Softmax) Name() string                     { return s.name }
func (s *Softmax) Params() []*nn.Param[float64]     { return nil }
func (s *Softmax) Buffers() []*nn.Buffer[float64]   { return nil }
func (s *Softmax) OutShape(in []int) ([]int, error) { return in, nil }
func softmaxRow(dst, z []float64) {
	mx := slices.Max(z)
	var sum float64
	for i, v := range z {
		dst[i] = math.Exp(v - mx)
		sum += dst[i]
	}
	for i := range dst {
		dst[i] /= sum
	}
}

func (s *Softmax) Forward(x *tensor.Tensor[float64], mode nn.Mode) (*tensor.Tensor[float64], error) {
	x = x.Contiguous()
	shp := x.Shape()
	if len(shp) != 2 {
		return nil, fmt.Errorf("theory: Softmax %q: input shape %v, want [N K]", s.name, shp)
	}
	s.y = tensor.Must(tensor.New[float64](shp...))
	k := shp[1]
	for a := 0; a < shp[0]; a++ {
		softmaxRow(s.y.Data()[a*k:(a+1)*k], x.Data()[a*k:(a+1)*k])
	}
	return s.y, nil
}

func (s *Softmax) Backward(dy *tensor.Tensor[float64]) (*tensor.Tensor[float64], error) {
	shp := s.y.Shape()
	k := shp[1]
	s.dx = tensor.Must(tensor.New[float64](shp...))
	g, y, d := dy.Contiguous().Data(), s.y.Data(), s.dx.Data()
	for a := 0; a < shp[0]; a++ {
		var dot float64
		for j := a * k; j < (a+1)*k; j++ {
			dot += g[j] * y[j]
		}
		for j := a * k; j < (a+1)*k; j++ {
			d[j] = y[j] * (g[j] - dot)
		}
	}
	return s.dx, nil
}

// ForwardJVP implements nn.JVPModule: Forward(x, mode) and the tangent
// dy = diag(y) dx - y (y . dx) row by row (dx nil: zero).
func (s *Softmax) ForwardJVP(x, dx *tensor.Tensor[float64], mode nn.Mode) (*tensor.Tensor[float64], *tensor.Tensor[float64], error) {
	y, err := s.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	shp := y.Shape()
	s.dy = tensor.Must(tensor.New[float64](shp...))
	if dx == nil {
		return y, s.dy, nil
	}
	if !slices.Equal(dx.Shape(), shp) {
		return nil, nil, fmt.Errorf("theory: Softmax %q: tangent shape %v does not match input shape %v", s.name, dx.Shape(), shp)
	}
	k := shp[1]
	yd, d, t := y.Data(), dx.Contiguous().Data(), s.dy.Data()
	for a := 0; a < shp[0]; a++ {
		var dot float64
		for j := a * k; j < (a+1)*k; j++ {
			dot += yd[j] * d[j]
		}
		for j := a * k; j < (a+1)*k; j++ {
			t[j] = yd[j] * (d[j] - dot)
		}
	}
	return y, s.dy, nil
}
