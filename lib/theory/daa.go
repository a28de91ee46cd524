package theory

import (
	"fmt"
	"math"
	"strings"

	"repdyn/lib/linalg"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// DefaultTaus are the relative singular-value cut-offs of the DAA report.
var DefaultTaus = []float64{1e-10, 1e-8, 1e-6}

// Eps is the unit round-off of float64 (2^-52).
const Eps = 0x1p-52

// FloorSafety is the safety factor of RoundoffFloor.
const FloorSafety = 10

// KernelCut is the smallest relative eigenvalue lambda / lambda_max that the
// K path keeps (at least, and at least Eps * N): well above the symmetric
// eigensolver's noise (about Eps * N * lambda_max), so the zero eigenvalues of
// a rank-deficient K are never counted. In singular values it is
// sqrt(1e-13) = 3.2e-7 sigma_max.
const KernelCut = 1e-13

// Unresolved is the floor above which a cut-off cannot tell alignment from
// its failure: such rows are reported but excluded from the verdict.
const Unresolved = 0.1

// RoundoffFloor is the level below which rho counts as round-off for a
// projection onto directions with singular values down to sigmaMinKept:
// the computed basis of such a direction is accurate to about
// Eps * sigma_max / sigma_i (from an SVD of J), or to
// Eps * (sigma_max / sigma_i)^2 (from the eigenvectors of K = J J^T), and
// N components accumulate it as sqrt(N):
//
//	floor = FloorSafety * Eps * sqrt(N) * (sigma_max / sigmaMinKept)^power
//
// with power 1 on the J path and 2 on the K path. With nothing kept the
// projection is exact (floor FloorSafety * Eps).
func RoundoffFloor(N int, sigmaMax, sigmaMinKept float64, fromK bool) float64 {
	base := FloorSafety * Eps * math.Sqrt(float64(max(N, 1)))
	if sigmaMinKept <= 0 || sigmaMax <= 0 {
		return base
	}
	k := sigmaMax / sigmaMinKept
	if fromK {
		k *= k
	}
	return base * k
}

// TauResult is the DAA check at one cut-off.
type TauResult struct {
	Tau          float64
	Cutoff       float64 // effective absolute cut-off: singular values above it are kept
	Rank         int
	Rho          float64 // ||(I - P) y|| / ||y||
	SmallestKept float64 // smallest kept singular value
	Floor        float64 // round-off level of rho at this cut-off (RoundoffFloor)
	AtFloor      bool    // Rho <= Floor
	Resolved     bool    // Floor < Unresolved: the row can tell alignment from failure
	CMSResidual  float64 // ||(I - P) yhat|| / ||yhat|| (weak CMS form: yhat in Col(J))
}

// Check is one certificate or subset test, labelled with what it certifies.
// Besides the rank it reports the conditioning that decides whether the
// certificate is of use in practice (THEORY.md, "certificate conditioning").
type Check struct {
	Name      string // "head-block [H, 1]", "column subset ...", "example subset ..."
	Certifies string // what a pass means
	Rank      int
	Size      int     // rows (or examples) it must reach for the statement
	Rho       float64 // residual of y (NaN when not applicable)
	Floor     float64 // round-off level of Rho (0 when not applicable)
	Holds     bool
	// SigmaMax and SigmaMin are the largest and the Size-th singular value of
	// the certifying block (SigmaMin is the smallest one the statement needs:
	// 0 when the rank is short); SigmaRatio = SigmaMin / SigmaMax.
	SigmaMax, SigmaMin, SigmaRatio float64
	// LambdaMin is the smallest eigenvalue the block contributes to the
	// kernel: Scale^2 * SigmaMin^2 (Scale is c of the V-block, 1 otherwise).
	LambdaMin float64
	// Steps is the number of gradient steps R5 implies to reduce the squared
	// loss by a factor 1e-6 along this block alone, at the step 1/beta with
	// beta = 2 Scale^2 SigmaMax^2 (the most favourable step for the block):
	// rate 1 - SigmaRatio^2 per step (+Inf when SigmaMin = 0).
	Steps float64
}

// setConditioning fills the conditioning fields of c from the singular
// values of the certifying block, scale c of its parameters and the needed
// count (the statement needs sigma_need > 0).
func (c *Check) setConditioning(sv []float64, need int, scale float64) {
	if len(sv) == 0 {
		c.Steps = math.Inf(1)
		return
	}
	c.SigmaMax = sv[0]
	if need >= 1 && need <= len(sv) {
		c.SigmaMin = sv[need-1]
	}
	if c.SigmaMax > 0 {
		c.SigmaRatio = c.SigmaMin / c.SigmaMax
	}
	c.LambdaMin = scale * scale * c.SigmaMin * c.SigmaMin
	c.Steps = R5Steps(c.SigmaRatio, 1e-6)
}

// R5Steps is the number of gradient steps after which R5's bound
// L_t <= (1 - kappa^2)^t L_0 (kappa = sigma_min+ / sigma_max, step 1/beta
// with beta = 2 sigma_max^2) falls below factor * L_0: ceil(ln(factor) /
// ln(1 - kappa^2)); +Inf for kappa = 0, 1 for kappa >= 1.
func R5Steps(kappa, factor float64) float64 {
	if kappa <= 0 || math.IsNaN(kappa) {
		return math.Inf(1)
	}
	if kappa >= 1 {
		return 1
	}
	return math.Ceil(math.Log(factor) / math.Log1p(-kappa*kappa))
}

func (c Check) String() string {
	rho := "" // a target-free certificate has no residual to show
	if !math.IsNaN(c.Rho) {
		rho = fmt.Sprintf("  rho %.3g (floor %.2g)", c.Rho, c.Floor)
	}
	cond := ""
	if c.SigmaMax > 0 {
		cond = fmt.Sprintf("  sigma_min/sigma_max %.3g, lambda_min %.3g, R5 steps to 1e-6: %.3g", c.SigmaRatio, c.LambdaMin, c.Steps)
	}
	return fmt.Sprintf("%-34s rank %d of %d%s  holds=%v%s  [%s]", c.Name, c.Rank, c.Size, rho, c.Holds, cond, c.Certifies)
}

// DAAReport is the alignment report of THEORY.md: never a bare yes/no.
type DAAReport struct {
	Mode     nn.Mode
	N, D     int
	FromK    bool      // computed from K = J J^T (D unknown, -1)
	Singular []float64 // singular values of J, descending
	PerTau   []TauResult
	Verdict  string
	// Margin in decades: for "holds", the smallest log10(Floor / rho) over
	// the resolved cut-offs; for "fails", the smallest log10(rho / Floor);
	// 0 when tau-dependent or unresolved.
	Margin float64
	Checks []Check
}

// DAAOptions configures the DAA report.
type DAAOptions struct {
	Taus []float64 // default DefaultTaus
}

// Spread is the factor between the largest and the smallest rho across the
// cut-offs above which the verdict is "tau-dependent" even when no row is at
// its floor (two orders of magnitude).
const Spread = 100

// verdict sets Verdict and Margin from the rows (each with Floor, AtFloor
// and Resolved set).
func (r *DAAReport) verdict() {
	src := ""
	if r.FromK {
		src = " (from K)"
	}
	var res []TauResult
	for _, t := range r.PerTau {
		if t.Resolved {
			res = append(res, t)
		}
	}
	if len(res) == 0 {
		r.Verdict = "unresolved" + src + ": the round-off floor exceeds 0.1 at every tau (kept directions too ill-conditioned)"
		return
	}
	at, rankN := 0, true
	minRho, maxRho := math.Inf(1), 0.0
	hm, fm := math.Inf(1), math.Inf(1)
	for _, t := range res {
		if t.AtFloor {
			at++
		}
		rankN = rankN && t.Rank == r.N
		minRho, maxRho = min(minRho, t.Rho), max(maxRho, t.Rho)
		hm = min(hm, math.Log10(t.Floor/math.Max(t.Rho, 1e-300)))
		fm = min(fm, math.Log10(t.Rho/t.Floor))
	}
	switch {
	case at == len(res):
		r.Verdict = "holds" + src
		if rankN {
			r.Verdict = "holds for every target (rank J = N at every tau)" + src
		}
		r.Margin = hm
	case at == 0 && maxRho <= Spread*minRho:
		r.Verdict = "fails" + src
		r.Margin = fm
	default:
		r.Verdict = "tau-dependent" + src + " (y has weight on directions with tiny singular values: rho changes by orders of magnitude across tau)"
	}
}

// tauRow evaluates one cut-off: the kept directions are those above
// tauEff * sigma_max.
func tauRow(s *linalg.Subspace, tau, tauEff float64, y, yhat []float64, fromK bool) TauResult {
	tr := TauResult{Tau: tau, Rank: s.Rank(tauEff), Rho: s.Residual(y, tauEff), SmallestKept: s.SmallestKept(tauEff)}
	var smax float64
	if len(s.Singular) > 0 {
		smax = s.Singular[0]
	}
	tr.Cutoff = tauEff * smax
	tr.Floor = RoundoffFloor(s.Rows, smax, tr.SmallestKept, fromK)
	tr.AtFloor = tr.Rho <= tr.Floor
	tr.Resolved = tr.Floor < Unresolved
	if yhat != nil {
		tr.CMSResidual = s.Residual(yhat, tauEff)
	}
	return tr
}

// DAA checks y in Col(J) for an explicit Jacobian and targets y stacked like
// its rows (see StackTargets). It reports rank J against N, the singular
// values, rho at each tau with its effective cut-off and round-off floor
// (RoundoffFloor: it scales with sqrt(N) and sigma_max / sigma_min_kept), the
// smallest kept singular value, the CMS residual ||(I - P) yhat|| / ||yhat||,
// and a verdict with its margin: "holds" when rho is at its floor at every
// resolved tau, "fails" when it is above it at every tau and about constant,
// "tau-dependent" otherwise.
func DAA(J *Jacobian, y []float64, opt DAAOptions) (*DAAReport, error) {
	if len(y) != J.N {
		return nil, fmt.Errorf("theory: DAA: %d targets for %d Jacobian rows", len(y), J.N)
	}
	taus := opt.Taus
	if len(taus) == 0 {
		taus = DefaultTaus
	}
	s, err := linalg.SVDOf(J.Data, J.N, J.D)
	if err != nil {
		return nil, err
	}
	rep := &DAAReport{Mode: J.Mode, N: J.N, D: J.D, Singular: s.Singular}
	for _, tau := range taus {
		rep.PerTau = append(rep.PerTau, tauRow(s, tau, tau, y, J.Yhat, false))
	}
	rep.verdict()
	return rep, nil
}

// midTau is the cut-off of the subset checks (the middle of the report's).
func (r *DAAReport) midTau() float64 { return r.PerTau[len(r.PerTau)/2].Tau }

// AddColumnSubset adds the column-subset check: y in Col(J[:, T]) is a
// SUFFICIENT certificate of DAA for the full J. Its conditioning is that of
// J[:, T] down to its smallest kept singular value (the sigma_min+ R5 uses).
func (r *DAAReport) AddColumnSubset(label string, J *Jacobian, cols []int, y []float64) error {
	sub := J.SubColumns(cols)
	s, err := linalg.SVDOf(sub.Data, sub.N, sub.D)
	if err != nil {
		return err
	}
	tr := tauRow(s, r.midTau(), r.midTau(), y, nil, false)
	c := Check{Name: "column subset " + label, Rank: tr.Rank, Size: J.N, Rho: tr.Rho, Floor: tr.Floor, Holds: tr.AtFloor && tr.Resolved,
		Certifies: "sufficient: if it holds, DAA holds for the full J; a failure certifies nothing"}
	c.setConditioning(s.Singular, tr.Rank, 1)
	r.Checks = append(r.Checks, c)
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
	s, err := linalg.SVDOf(sub.Data, sub.N, sub.D)
	if err != nil {
		return err
	}
	tr := tauRow(s, r.midTau(), r.midTau(), ys, nil, false)
	c := Check{Name: "example subset " + label, Rank: tr.Rank, Size: sub.N, Rho: tr.Rho, Floor: tr.Floor, Holds: tr.AtFloor && tr.Resolved,
		Certifies: "DAA for these examples only; a failure here implies failure on the full set"}
	c.setConditioning(s.Singular, tr.Rank, 1)
	r.Checks = append(r.Checks, c)
	return nil
}

// AddHeadBlock adds the head-block certificate from the last hidden
// features H (n x mH, row-major) of a model with an affine head: the head
// block of J is I_m (x) [H, 1] (I_m (x) H without a bias), so rank [H, 1] = n
// gives DAA for every Y.
func (r *DAAReport) AddHeadBlock(H []float64, n, mH int, bias bool) error {
	c := HeadBlockCertificate(H, n, mH, bias, r.midTau())
	r.Checks = append(r.Checks, c)
	return nil
}

// HeadBlockCertificate checks rank [H, 1] = n (rank H = n without bias) at
// the relative cut-off tau, with the block's conditioning: sigma_n / sigma_1
// of [H, 1], the smallest eigenvalue sigma_n^2 it adds to the kernel (I_m (x)
// [H, 1] has the same singular values) and the steps R5 then implies.
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
	return rankCertificate(c, a, n, cols, tau, 1)
}

// rankCertificate fills a rank-n certificate of the n x cols matrix a.
func rankCertificate(c Check, a []float64, n, cols int, tau, scale float64) Check {
	s, err := linalg.SVDOf(a, n, cols)
	if err != nil {
		c.Certifies += " (SVD failed: " + err.Error() + ")"
		c.Steps = math.Inf(1)
		return c
	}
	c.Rank = s.Rank(tau)
	c.Holds = c.Rank == n
	c.setConditioning(s.Singular, n, scale)
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
		layers, ok := sequenceOf(cur)
		if !ok {
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

// sequenceOf returns the layers of a module that runs its children in
// sequence (an nn.Container that is not a residual block: Sequentials and
// the models that embed one).
func sequenceOf[T nn.Float](m nn.Module[T]) ([]nn.Module[T], bool) {
	if _, res := m.(nn.Residual[T]); res {
		return nil, false
	}
	c, ok := m.(nn.Container[T])
	if !ok {
		return nil, false
	}
	return c.Children(), true
}

// String formats the report.
func (r *DAAReport) String() string {
	var sb strings.Builder
	if r.FromK {
		fmt.Fprintf(&sb, "DAA report from K = J J^T (batch norm: %v): N = %d rows (eigenvectors of K: floor scales with (sigma_max/sigma)^2; lambda < %.0e lambda_max not resolved)\n", r.Mode, r.N, r.kernelCut())
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
		mark := "above floor"
		switch {
		case !t.Resolved:
			mark = "unresolved"
		case t.AtFloor:
			mark = "at round-off"
		}
		fmt.Fprintf(&sb, "  tau %.0e: keep sigma > %.3g: rank %d / N %d, smallest kept %.4g, rho %.3e, floor %.2e (%s), CMS residual %.3e\n",
			t.Tau, t.Cutoff, t.Rank, r.N, t.SmallestKept, t.Rho, t.Floor, mark, t.CMSResidual)
	}
	fmt.Fprintf(&sb, "  verdict: %s (margin %.1f decades)\n", r.Verdict, r.Margin)
	for _, c := range r.Checks {
		fmt.Fprintf(&sb, "  %s\n", c)
	}
	return sb.String()
}

func (r *DAAReport) kernelCut() float64 { return math.Max(KernelCut, Eps*float64(r.N)) }

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
// are sqrt of K's eigenvalues and U its eigenvectors. The eigen-decomposition
// resolves eigenvalues only to about Eps * N * lambda_max, so directions with
// lambda below max(KernelCut, Eps * N) * lambda_max are never kept (sigma
// below about 3.2e-7 sigma_max): each tau's effective cut-off is the larger
// of the two, and the report prints it. Eigenvectors of K are accurate to
// Eps * (sigma_max / sigma_i)^2, so the round-off floor is squared
// (RoundoffFloor with fromK). Where the kept directions are resolved, the
// rank and verdict are those of DAA on J; prefer DAA on an explicit J (or on
// a subset of examples) when it fits.
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
	s := &linalg.Subspace{Rows: K.N, Singular: sv, U: vecs}
	taus := opt.Taus
	if len(taus) == 0 {
		taus = DefaultTaus
	}
	rep := &DAAReport{Mode: K.Mode, N: K.N, D: -1, FromK: true, Singular: sv}
	sigmaCut := math.Sqrt(rep.kernelCut())
	for _, tau := range taus {
		rep.PerTau = append(rep.PerTau, tauRow(s, tau, math.Max(tau, sigmaCut), y, K.Yhat, true))
	}
	rep.verdict()
	return rep, nil
}
