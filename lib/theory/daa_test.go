package theory

import (
	"math"
	"strings"
	"testing"

	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// R7: a width-1 bias-free ReLU chain has rank J <= d_x at every depth
// (1-homogeneity in w_1 puts every later column in the span of the w_1
// block), though d = d_x + L - 1 grows with L; so DAA fails for generic y
// once n > d_x. With positive weights (the chain active on about half the
// inputs) the rank is exactly d_x. (This test used the loose bound d_x + 1
// of an earlier THEORY.md.)
func TestWidthOneChainRank(t *testing.T) {
	const dx, n = 3, 12
	x := randInput(21, n, dx)
	y := make([]float64, n)
	r := tensor.NewRNG(4)
	for i := range y {
		y[i] = r.Normal()
	}
	for depth := 1; depth <= 10; depth++ {
		for _, pos := range []bool{true, false} {
			m := models.WidthOneChain(dx, depth, uint64(depth), pos)
			J, err := ComputeJacobian(m, x, JacobianOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := DAA(J, y, DAAOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range rep.PerTau {
				if tr.Rank > dx || (pos && tr.Rank != dx) {
					t.Errorf("depth %d (positive %v): rank %d, want <= d_x = %d (= d_x when positive) at tau %g (d = %d)", depth, pos, tr.Rank, dx, tr.Tau, J.D)
				}
			}
			if !strings.HasPrefix(rep.Verdict, "fails") {
				t.Errorf("depth %d: verdict %q, want fails", depth, rep.Verdict)
			}
			if depth == 10 && pos {
				t.Logf("depth %d, d = %d, N = %d:\n%s", depth, J.D, J.N, rep)
			}
		}
	}
}

// Data-side obstruction: duplicate inputs with different targets give equal
// rows of J, so rho >= |y1 - y2| / (sqrt(2) ||y||) whatever the model.
func TestDuplicateInputsObstruct(t *testing.T) {
	m := models.SmallMLP(4, []int{64}, 1, nn.ActTanh, true, 3) // d = 385 >> n = 6
	x := randInput(5, 6, 4)
	xd := x.Data()
	copy(xd[4:8], xd[0:4]) // example 1 duplicates example 0
	y := []float64{1, -1, 0.5, 0.3, -0.2, 0.8}
	rep, J, err := AnalyzeDAA(m, x, y, JacobianOptions{}, DAAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bound := math.Abs(y[0]-y[1]) / (math.Sqrt2 * nrm2(y))
	for _, tr := range rep.PerTau {
		if tr.Rank != 5 || tr.Rho < bound*(1-1e-9) || tr.Rho < 1e-3 {
			t.Errorf("tau %g: rank %d, rho %.3g (bound %.3g)", tr.Tau, tr.Rank, tr.Rho, bound)
		}
	}
	if rep.Verdict != "fails" || rep.Margin < 5 {
		t.Errorf("verdict %q margin %.1f", rep.Verdict, rep.Margin)
	}
	// The same model on distinct inputs: rank N, DAA for every target.
	x2 := randInput(5, 6, 4)
	rep2, _, _ := AnalyzeDAA(m, x2, y, JacobianOptions{}, DAAOptions{})
	if !strings.HasPrefix(rep2.Verdict, "holds for every target") {
		t.Errorf("distinct inputs: %s", rep2)
	}
	// subset checks: examples {0,1} fail (necessary condition violated);
	// the head columns alone certify DAA on distinct inputs.
	rep.AddExampleSubset("{0,1}", J, []int{0, 1}, y)
	if c := rep.Checks[len(rep.Checks)-1]; c.Holds || c.Rho < 0.5 {
		t.Errorf("example subset: %v", c)
	}
	J2, _ := ComputeJacobian(m, x2, JacobianOptions{})
	rep2.AddColumnSubset("head (layers.2)", J2, J2.GroupColumns("layers.2.weight", "layers.2.bias"), y)
	if c := rep2.Checks[len(rep2.Checks)-1]; !c.Holds {
		t.Errorf("column subset: %v", c)
	}
	t.Logf("duplicates (rho bound %.4f):\n%s\ndistinct:\n%s", bound, rep, rep2)
}

// R6 special case: last-hidden width + 1 >= n with rank [H, 1] = n gives DAA
// for all targets; a narrow last hidden layer does not certify.
func TestHeadBlockCertificate(t *testing.T) {
	x := randInput(8, 10, 3)
	y := OneHot([]int{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}, 3, 1)
	wide := models.SmallMLP(3, []int{16, 12}, 3, nn.ActReLU, true, 2)
	rep, _, err := AnalyzeDAA(wide, x, y, JacobianOptions{}, DAAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Checks[0]
	if !strings.HasPrefix(c.Name, "head-block") || !c.Holds || c.Rank != 10 {
		t.Errorf("wide: %v", c)
	}
	if !strings.HasPrefix(rep.Verdict, "holds") {
		t.Errorf("wide verdict %q", rep.Verdict)
	}
	narrow := models.SmallMLP(3, []int{16, 4}, 3, nn.ActReLU, true, 2)
	rep2, _, _ := AnalyzeDAA(narrow, x, y, JacobianOptions{}, DAAOptions{})
	if c := rep2.Checks[0]; c.Holds || c.Rank != 5 {
		t.Errorf("narrow: %v", c)
	}
	t.Logf("wide:\n%s\nnarrow:\n%s", rep, rep2)
}

func TestHeadFeaturesResNet(t *testing.T) {
	m := tinyResNet(t)
	x := randInput(2, 4, 2, 6, 6)
	for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
		H, n, mH, head, err := HeadFeatures(m, x, mode)
		if err != nil {
			t.Fatal(err)
		}
		// head(H) must equal the model output.
		y, _, _ := Outputs(m, x, mode)
		out := make([]float64, n*head.Out)
		gemmNT(n, head.Out, mH, H, head.Weight.Data, 0, out)
		for i := range out {
			out[i] += head.Bias.Data[i%head.Out]
		}
		if e := relErr(out, y); e > 1e-13 {
			t.Errorf("%v: head(H) differs from f: %.3g", mode, e)
		}
	}
}

func TestDAAFromKernelAgrees(t *testing.T) {
	x := randInput(9, 8, 3)
	xd := x.Data()
	copy(xd[3:6], xd[0:3])
	y := []float64{1, 0, 1, 0, 1, 0, 1, 1}
	m := models.SmallMLP(3, []int{12}, 1, nn.ActTanh, true, 6)
	J, _ := ComputeJacobian(m, x, JacobianOptions{})
	a, _ := DAA(J, y, DAAOptions{})
	b, err := DAAFromKernel(KernelOf(J), y, DAAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.PerTau[1].Rank != a.PerTau[1].Rank || math.Abs(b.PerTau[1].Rho-a.PerTau[1].Rho) > 1e-6 || b.Verdict != "fails (from K)" {
		t.Errorf("from J:\n%s\nfrom K:\n%s", a, b)
	}
}
