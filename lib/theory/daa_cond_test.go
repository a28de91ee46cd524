package theory

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// orthonormal returns an rows x cols matrix with orthonormal columns.
func orthonormal(rows, cols int, seed uint64) *mat.Dense {
	r := tensor.NewRNG(seed)
	g := mat.NewDense(rows, cols, nil)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			g.Set(i, j, r.Normal())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	return mat.DenseCopyOf(q.Slice(0, rows, 0, cols))
}

// synthJacobian is J = U diag(sv) W^T (N x D) with random orthonormal U, W:
// singular values known exactly. It returns J and a full orthonormal basis
// of R^N whose first len(sv) columns are U (the others span Col(J)-perp).
func synthJacobian(N, D int, sv []float64, seed uint64) (*Jacobian, *mat.Dense) {
	r := len(sv)
	Uf, W := orthonormal(N, N, seed), orthonormal(D, r, seed+1)
	US := mat.DenseCopyOf(Uf.Slice(0, N, 0, r))
	for k, s := range sv {
		for i := 0; i < N; i++ {
			US.Set(i, k, US.At(i, k)*s)
		}
	}
	var j mat.Dense
	j.Mul(US, W.T())
	data := make([]float64, N*D)
	for i := 0; i < N; i++ {
		for k := 0; k < D; k++ {
			data[i*D+k] = j.At(i, k)
		}
	}
	return &Jacobian{Examples: N, Outputs: 1, N: N, D: D, Data: data, Yhat: make([]float64, N)}, Uf
}

// combo returns sum_k c_k U[:, k].
func combo(U *mat.Dense, c map[int]float64) []float64 {
	N, _ := U.Dims()
	y := make([]float64, N)
	for k, v := range c {
		for i := range y {
			y[i] += v * U.At(i, k)
		}
	}
	return y
}

func geometric(r int, lo float64) []float64 {
	sv := make([]float64, r)
	for k := range sv {
		sv[k] = math.Pow(lo, float64(k)/float64(r-1))
	}
	return sv
}

// y in Col J through a direction at 5e-9 sigma_max: the tau = 1e-10 row
// keeps it and rho is at its (conditioning-scaled) floor; the other rows drop
// it and rho = 1/sqrt(2). The verdict is "tau-dependent", not "fails" (which
// a fixed 1e-9 threshold gave: rho was about 4e-9 there).
func TestDAATinyDirectionIsTauDependent(t *testing.T) {
	const N, D = 30, 40
	sv := append(geometric(19, 1e-3), 5e-9)
	J, U := synthJacobian(N, D, sv, 3)
	y := combo(U, map[int]float64{0: 1, 19: 1})
	rep, err := DAA(J, y, DAAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	r0, r1, r2 := rep.PerTau[0], rep.PerTau[1], rep.PerTau[2]
	if r0.Rank != 20 || !r0.AtFloor || r0.Floor < 1e-7 || r0.Floor > 1e-5 {
		t.Errorf("tau 1e-10: %+v", r0)
	}
	for _, r := range []TauResult{r1, r2} {
		if r.Rank != 19 || r.AtFloor || math.Abs(r.Rho-1/math.Sqrt2) > 1e-6 {
			t.Errorf("tau %g: %+v", r.Tau, r)
		}
	}
	if !strings.HasPrefix(rep.Verdict, "tau-dependent") {
		t.Errorf("verdict %q, want tau-dependent", rep.Verdict)
	}
	if !strings.Contains(rep.String(), "keep sigma > 1e-10") || !strings.Contains(rep.String(), "floor") {
		t.Errorf("report lacks the effective cut-off or floor:\n%s", rep)
	}
	// The same y without the tiny direction holds at every tau; y with a
	// component outside Col J fails at every tau.
	if rep, _ := DAA(J, combo(U, map[int]float64{0: 1, 5: 2}), DAAOptions{}); rep.Verdict != "holds" || rep.Margin < 1 {
		t.Errorf("y on well-conditioned directions: %s", rep)
	}
	yo := combo(U, map[int]float64{0: 1, 20: 0.5}) // column 20 is orthogonal to Col J
	if rep, _ := DAA(J, yo, DAAOptions{}); rep.Verdict != "fails" || rep.Margin < 3 {
		t.Errorf("y outside Col J: %s", rep)
	}
}

// A real network with a near-duplicate pair (distance 1e-8 and 1e-9) and
// different targets, and an exact duplicate pair with equal targets (so
// rank J < N and the projection is not trivially exact): y is in Col J
// (y_2 = y_3), but only through a direction
// of singular value about delta * sigma_max, so y is in Col J at the finest
// cut-off and rho jumps to about |y_0 - y_1| / (sqrt 2 ||y||) once that
// direction is dropped: "tau-dependent", never "fails". The first layer's
// weights are scaled by 10 and the inputs by 1/10 (same pre-activations, ten
// times the input sensitivity), so the pair's direction, about
// delta * sigma_max, stays above the finest cut-off 1e-10 sigma_max.
func TestDAANearDuplicates(t *testing.T) {
	m := models.SmallMLP(3, []int{64}, 1, nn.ActTanh, true, 3) // d = 321 >> N = 8
	scal(m.Layers[0].(*nn.Linear[float64]).Weight.Data, 10)
	y := []float64{1, -1, 0.5, 0.5, -0.2, 0.8, -0.6, 0.1}
	for _, delta := range []float64{1e-8, 1e-9} {
		x := randInput(5, 8, 3)
		xd := x.Data()
		scal(xd, 0.1)
		for k := 0; k < 3; k++ {
			xd[3+k] = xd[k] + delta*[]float64{0.6, 0.8, 0}[k]
			xd[9+k] = xd[6+k]
		}
		J, err := ComputeJacobian(m, x, JacobianOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := DAA(J, y, DAAOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("delta %g:\n%s", delta, rep)
		r0 := rep.PerTau[0]
		if r0.Rank != 7 || !r0.AtFloor {
			t.Errorf("delta %g: tau 1e-10 row should keep the near-duplicate direction at round-off: %+v", delta, r0)
		}
		last := rep.PerTau[len(rep.PerTau)-1]
		bound := math.Abs(y[0]-y[1]) / (math.Sqrt2 * nrm2(y))
		if last.Rank != 6 || last.Rho < 0.9*bound {
			t.Errorf("delta %g: tau 1e-6 row should drop it: %+v (bound %.3g)", delta, last, bound)
		}
		if !strings.HasPrefix(rep.Verdict, "tau-dependent") {
			t.Errorf("delta %g: verdict %q, want tau-dependent", delta, rep.Verdict)
		}
	}
}

// The K path cuts at KernelCut (well above the eigensolver's noise), squares
// the floor, and gives the rank and verdict of the J path at
// sigma_min / sigma_max = 1e-2, 1e-4, 1e-6 (the smallest value is placed a
// little above 1e-6, so the tau = 1e-6 cut-off is not a tie).
func TestDAAKernelMatchesJacobian(t *testing.T) {
	const N, D, r = 60, 80, 40 // rank-deficient: 20 zero eigenvalues of K
	for _, ratio := range []float64{1e-2, 1e-4, 1.2e-6} {
		J, U := synthJacobian(N, D, geometric(r, ratio), 7)
		in := combo(U, map[int]float64{0: 1, r / 2: -0.5, r - 1: 0.7})
		out := combo(U, map[int]float64{0: 1, r / 2: -0.5, r - 1: 0.7, r: 0.3})
		K := KernelOf(J)
		for name, y := range map[string][]float64{"in Col J": in, "outside": out} {
			a, err := DAA(J, y, DAAOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := DAAFromKernel(K, y, DAAOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := "holds"
			if name == "outside" {
				want = "fails"
			}
			if a.Verdict != want || b.Verdict != want+" (from K)" {
				t.Errorf("ratio %g, y %s: verdicts %q / %q, want %s\nJ:\n%s\nK:\n%s", ratio, name, a.Verdict, b.Verdict, want, a, b)
			}
			for i := range a.PerTau {
				if a.PerTau[i].Rank != r || b.PerTau[i].Rank != r {
					t.Errorf("ratio %g, tau %g: rank J %d, K %d, want %d", ratio, a.PerTau[i].Tau, a.PerTau[i].Rank, b.PerTau[i].Rank, r)
				}
				if name == "outside" && math.Abs(a.PerTau[i].Rho-b.PerTau[i].Rho) > 1e-3 {
					t.Errorf("ratio %g: rho J %.6g vs K %.6g", ratio, a.PerTau[i].Rho, b.PerTau[i].Rho)
				}
			}
			if ratio == 1.2e-6 && name == "in Col J" {
				t.Logf("J:\n%s\nK:\n%s", a, b)
			}
		}
	}
}

// A rank-deficient real MLP (d = 31 parameters, N = 60 rows): the K path
// must not count eigensolver noise as rank, and rho must agree with J's.
func TestDAAKernelRankRealMLP(t *testing.T) {
	m := models.SmallMLP(3, []int{4}, 3, nn.ActTanh, true, 2)
	x := randInput(4, 20, 3)
	r := tensor.NewRNG(9)
	y := make([]float64, 60)
	for i := range y {
		y[i] = r.Normal()
	}
	J, err := ComputeJacobian(m, x, JacobianOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := DAA(J, y, DAAOptions{})
	b, err := DAAFromKernel(KernelOf(J), y, DAAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("J:\n%s\nK:\n%s", a, b)
	for i := range a.PerTau {
		ra, rb := a.PerTau[i], b.PerTau[i]
		if ra.SmallestKept > 1e-6*a.Singular[0] && (ra.Rank != rb.Rank || math.Abs(ra.Rho-rb.Rho) > 1e-6) {
			t.Errorf("tau %g: J rank %d rho %.6g; K rank %d rho %.6g", ra.Tau, ra.Rank, ra.Rho, rb.Rank, rb.Rho)
		}
	}
	if a.Verdict != "fails" || b.Verdict != "fails (from K)" {
		t.Errorf("verdicts %q / %q", a.Verdict, b.Verdict)
	}
}

// SplitResidual computes ||U_r^T r|| directly: an in-column part of 1e-10
// (relative) is measured, not lost to cancellation in sqrt(1 - OutCol^2).
func TestSplitResidualInColSmall(t *testing.T) {
	const N, D = 20, 30
	J, U := synthJacobian(N, D, geometric(10, 1e-2), 11)
	y := make([]float64, N)
	for i := range y {
		y[i] = float64(i%3) - 1
		J.Yhat[i] = 1e-10*U.At(i, 3) + U.At(i, 10) + y[i]
	}
	sp, err := SplitResidual(J, y, 1e-8)
	if err != nil {
		t.Fatal(err)
	}
	want := 1e-10 / math.Sqrt(1+1e-20)
	if math.Abs(sp.InCol-want) > 1e-3*want || math.Abs(sp.OutCol-1) > 1e-12 {
		t.Errorf("InCol %.6g (want %.6g), OutCol %.15g", sp.InCol, want, sp.OutCol)
	}
}
