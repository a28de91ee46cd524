package theory

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// DefaultTaus are the relative singular-value cut-offs of the DAA report.
var DefaultTaus = []float64{1e-10, 1e-8, 1e-6}

// DefaultRoundoff is the residual below which rho counts as round-off.
const DefaultRoundoff = 1e-9

// Subspace is an orthonormal basis of the numerical column space of a matrix
// at a cut-off, from its thin SVD A = U S V^T.
type Subspace struct {
	Rows     int
	Singular []float64  // all singular values, descending
	U        *mat.Dense // Rows x min(Rows, Cols) left singular vectors
}

// SVDOf factorizes a row-major rows x cols matrix.
func SVDOf(a []float64, rows, cols int) (*Subspace, error) {
	if rows == 0 || cols == 0 {
		return &Subspace{Rows: rows, U: mat.NewDense(max(rows, 1), 1, nil)}, nil
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(rows, cols, a), mat.SVDThinU) {
		return nil, fmt.Errorf("theory: SVD of %d x %d did not converge", rows, cols)
	}
	var u mat.Dense
	svd.UTo(&u)
	return &Subspace{Rows: rows, Singular: svd.Values(nil), U: &u}, nil
}

// Rank is the number of singular values above tau * sigma_max.
func (s *Subspace) Rank(tau float64) int {
	r := 0
	for _, v := range s.Singular {
		if len(s.Singular) > 0 && v > tau*s.Singular[0] {
			r++
		}
	}
	return r
}

// Residual is ||(I - U_r U_r^T) y|| / ||y|| with r = Rank(tau).
func (s *Subspace) Residual(y []float64, tau float64) float64 {
	r := s.Rank(tau)
	res := append([]float64(nil), y...)
	for k := 0; k < r; k++ {
		var c float64
		for i := 0; i < s.Rows; i++ {
			c += s.U.At(i, k) * y[i]
		}
		for i := 0; i < s.Rows; i++ {
			res[i] -= c * s.U.At(i, k)
		}
	}
	ny := nrm2(y)
	if ny == 0 {
		return 0
	}
	return nrm2(res) / ny
}

// SmallestKept is the smallest singular value above tau * sigma_max.
func (s *Subspace) SmallestKept(tau float64) float64 {
	r := s.Rank(tau)
	if r == 0 {
		return 0
	}
	return s.Singular[r-1]
}

// TauResult is the DAA check at one cut-off.
type TauResult struct {
	Tau          float64
	Rank         int
	Rho          float64 // ||(I - P) y|| / ||y||
	SmallestKept float64 // smallest kept singular value
	CMSResidual  float64 // ||(I - P) yhat|| / ||yhat|| (weak CMS form: yhat in Col(J))
}

// Check is one certificate or subset test, labelled with what it certifies.
type Check struct {
	Name      string // "head-block [H, 1]", "column subset ...", "example subset ..."
	Certifies string // what a pass means
	Rank      int
	Size      int     // rows (or examples) it must reach for the statement
	Rho       float64 // residual of y (NaN when not applicable)
	Holds     bool
}

func (c Check) String() string {
	rho := "" // a target-free certificate has no residual to show
	if !math.IsNaN(c.Rho) {
		rho = fmt.Sprintf("  rho %.3g", c.Rho)
	}
	return fmt.Sprintf("%-34s rank %d of %d%s  holds=%v  [%s]", c.Name, c.Rank, c.Size, rho, c.Holds, c.Certifies)
}

// DAAReport is the alignment report of THEORY.md: never a bare yes/no.
type DAAReport struct {
	Mode     nn.Mode
	N, D     int
	Singular []float64 // singular values of J, descending
	PerTau   []TauResult
	Roundoff float64 // threshold for "round-off level"
	Verdict  string
	// Margin in decades: for "holds", log10(Roundoff / max rho); for
	// "fails", log10(min rho / Roundoff); 0 when tau-dependent.
	Margin float64
	Checks []Check
}

// DAAOptions configures the DAA report.
type DAAOptions struct {
	Taus     []float64 // default DefaultTaus
	Roundoff float64   // default DefaultRoundoff
}

// DAA checks y in Col(J) for an explicit Jacobian and targets y stacked like
// its rows (see StackTargets). It reports rank J against N, the singular
// values, rho at each tau, the smallest kept singular value, the CMS residual
// ||(I - P) yhat|| / ||yhat||, and a verdict with its margin.
func DAA(J *Jacobian, y []float64, opt DAAOptions) (*DAAReport, error) {
	if len(y) != J.N {
		return nil, fmt.Errorf("theory: DAA: %d targets for %d Jacobian rows", len(y), J.N)
	}
	taus := opt.Taus
	if len(taus) == 0 {
		taus = DefaultTaus
	}
	ro := opt.Roundoff
	if ro <= 0 {
		ro = DefaultRoundoff
	}
	s, err := SVDOf(J.Data, J.N, J.D)
	if err != nil {
		return nil, err
	}
	rep := &DAAReport{Mode: J.Mode, N: J.N, D: J.D, Singular: s.Singular, Roundoff: ro}
	minRho, maxRho := math.Inf(1), 0.0
	for _, tau := range taus {
		tr := TauResult{Tau: tau, Rank: s.Rank(tau), Rho: s.Residual(y, tau), SmallestKept: s.SmallestKept(tau)}
		if J.Yhat != nil {
			tr.CMSResidual = s.Residual(J.Yhat, tau)
		}
		rep.PerTau = append(rep.PerTau, tr)
		minRho, maxRho = min(minRho, tr.Rho), max(maxRho, tr.Rho)
	}
	rankN := true
	for _, tr := range rep.PerTau {
		rankN = rankN && tr.Rank == J.N
	}
	switch {
	case maxRho <= ro:
		rep.Verdict = "holds"
		if rankN {
			rep.Verdict = "holds for every target (rank J = N at every tau)"
		}
		rep.Margin = math.Log10(ro / math.Max(maxRho, 1e-300))
	case minRho > ro:
		rep.Verdict = "fails"
		rep.Margin = math.Log10(minRho / ro)
	default:
		rep.Verdict = "tau-dependent (y has weight on directions with tiny singular values)"
	}
	return rep, nil
}

// AddColumnSubset adds the column-subset check: y in Col(J[:, T]) is a
// SUFFICIENT certificate of DAA for the full J.
func (r *DAAReport) AddColumnSubset(label string, J *Jacobian, cols []int, y []float64) error {
	sub := J.SubColumns(cols)
	s, err := SVDOf(sub.Data, sub.N, sub.D)
	if err != nil {
		return err
	}
	tau := r.PerTau[len(r.PerTau)/2].Tau
	rho := s.Residual(y, tau)
	r.Checks = append(r.Checks, Check{Name: "column subset " + label, Rank: s.Rank(tau), Size: J.N, Rho: rho, Holds: rho <= r.Roundoff,
		Certifies: "sufficient: if it holds, DAA holds for the full J; a failure certifies nothing"})
	return nil
}

// AddExampleSubset adds the example-subset check on the rows of the given
// examples (of the same J, so BatchStats coupling is that of the full batch):
// it tests DAA for those examples only.
func (r *DAAReport) AddExampleSubset(label string, J *Jacobian, examples []int, y []float64) error {
	sub := J.SubRows(examples)
	ys := make([]float64, 0, sub.N)
	for _, a := range examples {
		ys = append(ys, y[a*J.Outputs:(a+1)*J.Outputs]...)
	}
	s, err := SVDOf(sub.Data, sub.N, sub.D)
	if err != nil {
		return err
	}
	tau := r.PerTau[len(r.PerTau)/2].Tau
	rho := s.Residual(ys, tau)
	r.Checks = append(r.Checks, Check{Name: "example subset " + label, Rank: s.Rank(tau), Size: sub.N, Rho: rho, Holds: rho <= r.Roundoff,
		Certifies: "DAA for these examples only; a failure here implies failure on the full set"})
	return nil
}

// AddHeadBlock adds the head-block certificate from the last hidden
// features H (n x mH, row-major) of a model with an affine head: the head
// block of J is I_m (x) [H, 1] (I_m (x) H without a bias), so rank [H, 1] = n
// gives DAA for every Y.
func (r *DAAReport) AddHeadBlock(H []float64, n, mH int, bias bool) error {
	c := HeadBlockCertificate(H, n, mH, bias, r.PerTau[len(r.PerTau)/2].Tau)
	r.Checks = append(r.Checks, c)
	return nil
}

// HeadBlockCertificate checks rank [H, 1] = n (rank H = n without bias) at
// the relative cut-off tau.
func HeadBlockCertificate(H []float64, n, mH int, bias bool, tau float64) Check {
	cols := mH
	if bias {
		cols++
	}
	a := make([]float64, n*cols)
	for i := 0; i < n; i++ {
		copy(a[i*cols:], H[i*mH:(i+1)*mH])
		if bias {
			a[i*cols+mH] = 1
		}
	}
	name := "head-block [H, 1]"
	if !bias {
		name = "head-block H"
	}
	c := Check{Name: name, Size: n, Rho: math.NaN(),
		Certifies: "rank = n: DAA for EVERY target Y (head block I_m (x) [H, 1] spans R^N)"}
	s, err := SVDOf(a, n, cols)
	if err != nil {
		return c
	}
	c.Rank = s.Rank(tau)
	c.Holds = c.Rank == n
	return c
}

// HeadFeatures runs the model without its final Linear layer (the head) and
// returns the last hidden features H (n x mH, row-major) and the head. It
// works for *models.Model and *nn.Sequential models whose last layer (or
// the last layer of a nested trailing Sequential) is an *nn.Linear: it runs
// the layers before the head as one batch in the given mode (so BatchStats
// statistics are those of the given batch).
func HeadFeatures(m nn.Module[float64], x *tensor.Tensor[float64], mode nn.Mode) (H []float64, n, mH int, head *nn.Linear[float64], err error) {
	if mode == nn.Train {
		return nil, 0, 0, nil, fmt.Errorf("theory: HeadFeatures in Train mode would update running statistics")
	}
	var prefix []nn.Module[float64]
	cur := m
	for {
		var layers []nn.Module[float64]
		switch s := cur.(type) {
		case *models.Model[float64]:
			layers = s.Layers
		case *nn.Sequential[float64]:
			layers = s.Layers
		default:
			return nil, 0, 0, nil, fmt.Errorf("theory: HeadFeatures: %T is not a Sequential model ending in a Linear head", cur)
		}
		if len(layers) == 0 {
			return nil, 0, 0, nil, fmt.Errorf("theory: HeadFeatures: empty Sequential")
		}
		prefix = append(prefix, layers[:len(layers)-1]...)
		last := layers[len(layers)-1]
		if l, ok := last.(*nn.Linear[float64]); ok {
			head = l
			break
		}
		cur = last
	}
	y, err := nn.NewSequential("", prefix...).Forward(x.Contiguous(), mode)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	y = y.Contiguous()
	n = x.Shape()[0]
	mH = y.Numel() / n
	return append([]float64(nil), y.Data()...), n, mH, head, nil
}

// String formats the report.
func (r *DAAReport) String() string {
	var sb strings.Builder
	if r.D < 0 {
		fmt.Fprintf(&sb, "DAA report from K = J J^T (batch norm: %v): N = %d rows\n", r.Mode, r.N)
	} else {
		fmt.Fprintf(&sb, "DAA report (batch norm: %v): N = %d rows, D = %d parameters\n", r.Mode, r.N, r.D)
	}
	k := min(len(r.Singular), 8)
	fmt.Fprintf(&sb, "  singular values (largest %d): %.4g", k, r.Singular[:k])
	if len(r.Singular) > 8 {
		fmt.Fprintf(&sb, " ... smallest %.4g", r.Singular[len(r.Singular)-1])
	}
	sb.WriteString("\n")
	for _, t := range r.PerTau {
		fmt.Fprintf(&sb, "  tau %.0e: rank %d / N %d, rho %.3e, smallest kept sigma %.4g, CMS residual %.3e\n", t.Tau, t.Rank, r.N, t.Rho, t.SmallestKept, t.CMSResidual)
	}
	fmt.Fprintf(&sb, "  verdict: %s (round-off level %.0e, margin %.1f decades)\n", r.Verdict, r.Roundoff, r.Margin)
	for _, c := range r.Checks {
		fmt.Fprintf(&sb, "  %s\n", c)
	}
	return sb.String()
}

// StackTargets stacks an n x m target matrix (row-major, one row per example)
// as the vector y of THEORY.md in the Jacobian row order (example-major): it
// is the identity on row-major data, provided for clarity.
func StackTargets(Y []float64) []float64 { return append([]float64(nil), Y...) }

// OneHot returns the stacked one-hot targets of labels for m classes,
// scaled by scale (1 for the usual one-hot).
func OneHot(labels []int, m int, scale float64) []float64 {
	y := make([]float64, len(labels)*m)
	for a, l := range labels {
		y[a*m+l] = scale
	}
	return y
}

// AnalyzeDAA computes the explicit Jacobian of m on x in opt.Mode, the DAA
// report for targets y, and, when the model ends in a Linear head, the
// head-block certificate. It returns the Jacobian for further checks.
func AnalyzeDAA(m nn.Module[float64], x *tensor.Tensor[float64], y []float64, jo JacobianOptions, do DAAOptions) (*DAAReport, *Jacobian, error) {
	J, err := ComputeJacobian(m, x, jo)
	if err != nil {
		return nil, nil, err
	}
	rep, err := DAA(J, y, do)
	if err != nil {
		return nil, nil, err
	}
	if H, n, mH, head, err := HeadFeatures(m, x, jo.Mode); err == nil {
		rep.AddHeadBlock(H, n, mH, head.Bias != nil)
	}
	return rep, J, nil
}

// DAAFromKernel is the DAA report computed from K = J J^T when the explicit
// J does not fit in memory (large N x D; K is only N x N): the singular values
// are sqrt of K's eigenvalues and U its eigenvectors. Eigenvalues are
// resolved to about 1e-16 * lambda_max, so singular values below about
// 1e-8 * sigma_max are not resolved: the tau = 1e-10 row is then the same as
// tau = 1e-8 at best, and the verdict says "(from K)". Prefer DAA on an
// explicit J (or on a subset of examples) for exact small cases.
func DAAFromKernel(K *NTK, y []float64, opt DAAOptions) (*DAAReport, error) {
	if len(y) != K.N {
		return nil, fmt.Errorf("theory: DAAFromKernel: %d targets for N = %d", len(y), K.N)
	}
	vals, vecs, err := K.Eigen(true)
	if err != nil {
		return nil, err
	}
	sv := make([]float64, len(vals))
	for i, v := range vals {
		sv[i] = math.Sqrt(math.Max(v, 0))
	}
	s := &Subspace{Rows: K.N, Singular: sv, U: vecs}
	taus := opt.Taus
	if len(taus) == 0 {
		taus = DefaultTaus
	}
	ro := opt.Roundoff
	if ro <= 0 {
		ro = DefaultRoundoff
	}
	rep := &DAAReport{Mode: K.Mode, N: K.N, D: -1, Singular: sv, Roundoff: ro}
	minRho, maxRho := math.Inf(1), 0.0
	for _, tau := range taus {
		tr := TauResult{Tau: tau, Rank: s.Rank(math.Max(tau, 1e-8)), Rho: s.Residual(y, math.Max(tau, 1e-8)), SmallestKept: s.SmallestKept(math.Max(tau, 1e-8))}
		if K.Yhat != nil {
			tr.CMSResidual = s.Residual(K.Yhat, math.Max(tau, 1e-8))
		}
		rep.PerTau = append(rep.PerTau, tr)
		minRho, maxRho = min(minRho, tr.Rho), max(maxRho, tr.Rho)
	}
	switch {
	case maxRho <= ro:
		rep.Verdict = "holds (from K)"
		rep.Margin = math.Log10(ro / math.Max(maxRho, 1e-300))
	case minRho > ro:
		rep.Verdict = "fails (from K)"
		rep.Margin = math.Log10(minRho / ro)
	default:
		rep.Verdict = "tau-dependent (from K)"
	}
	return rep, nil
}
