package theory

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"repdyn/lib/models"
	"repdyn/lib/nn"
)

// A Phi certificate that holds by rank but is useless in practice: a
// near-duplicate pair (distance 1e-4) makes sigma_min / sigma_max of Phi
// about 1e-5, and the certificate reports it with lambda_min = c^2
// sigma_min^2 and the about 1e11 steps R5 implies, checked against an
// independent SVD of Phi.
func TestPhiCertificateConditioning(t *testing.T) {
	base := nn.NewSequential("", nn.NewFlatten[float64]("in"), nn.NewLinear[float64]("l0", 3, 16, true), nn.NewTanh[float64]("t0"), nn.NewLinear[float64]("head", 16, 2, true))
	randomize(base, 3, 0.8)
	a, err := NewAlignedModel[float64](base, AlignedConfig{InputShape: []int{3}, SnapshotLayers: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Switch(); err != nil {
		t.Fatal(err)
	}
	x := randInput(13, 8, 3)
	xd := x.Data()
	for k := 0; k < 3; k++ {
		xd[3+k] = xd[k] + 1e-4*[]float64{0.6, 0, 0.8}[k]
	}
	c, err := a.PhiCertificate(x, "8 examples")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", c)
	phi, _ := a.Phi(x)
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(8, 16, phi.Contiguous().Data()), mat.SVDNone) {
		t.Fatal("SVD")
	}
	sv := svd.Values(nil)
	ratio := sv[7] / sv[0]
	scale := a.Scale()
	if !c.Holds || c.Rank != 8 || ratio < 1e-6 || ratio > 1e-4 {
		t.Fatalf("rank %d holds %v, independent ratio %.3g", c.Rank, c.Holds, ratio)
	}
	if math.Abs(c.SigmaRatio/ratio-1) > 1e-6 || math.Abs(c.LambdaMin/(scale*scale*sv[7]*sv[7])-1) > 1e-6 {
		t.Errorf("ratio %.6g vs %.6g, lambda_min %.6g vs %.6g", c.SigmaRatio, ratio, c.LambdaMin, scale*scale*sv[7]*sv[7])
	}
	// L_t <= (1 - ratio^2)^t L_0 reaches 1e-6 after ln(1e6) / ratio^2 steps.
	if want := math.Log(1e6) / (ratio * ratio); math.Abs(c.Steps/want-1) > 1e-3 || c.Steps < 1e9 {
		t.Errorf("steps %.4g, want %.4g", c.Steps, want)
	}
	if !strings.Contains(c.String(), "R5 steps to 1e-6") {
		t.Errorf("String lacks the step count: %s", c)
	}
	// Well-conditioned inputs: a few hundred steps at most.
	c2, _ := a.PhiCertificate(randInput(14, 6, 3), "6 examples")
	if !c2.Holds || c2.SigmaRatio < 1e-2 || c2.Steps > 1e6 {
		t.Errorf("well-conditioned: %v", c2)
	}
}

// The head-block, column-subset and example-subset checks report their
// conditioning too.
func TestCheckConditioning(t *testing.T) {
	x := randInput(8, 10, 3)
	y := OneHot([]int{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}, 3, 1)
	m := models.SmallMLP(3, []int{16, 12}, 3, nn.ActReLU, true, 2)
	rep, J, err := AnalyzeDAA(m, x, y, JacobianOptions{}, DAAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep.AddColumnSubset("head", J, J.GroupColumns("layers.4.weight", "layers.4.bias"), y)
	rep.AddExampleSubset("{0..4}", J, []int{0, 1, 2, 3, 4}, y)
	for _, c := range rep.Checks {
		if c.SigmaMax <= 0 || c.SigmaRatio <= 0 || c.SigmaRatio > 1 || c.LambdaMin != c.SigmaMin*c.SigmaMin || c.Steps != R5Steps(c.SigmaRatio, 1e-6) {
			t.Errorf("%v: %+v", c.Name, c)
		}
	}
	H, n, mH, _, _ := HeadFeatures(m, x, nn.Eval)
	hb := HeadBlockCertificate(H, n, mH, true, 1e-8)
	hc := rep.Checks[1] // column subset: the head columns of J are I_3 (x) [H, 1]
	if math.Abs(hc.SigmaRatio/hb.SigmaRatio-1) > 1e-8 || hc.Rank != 3*hb.Rank {
		t.Errorf("head columns %v vs head block %v", hc, hb)
	}
	t.Logf("\n%s", rep)
}
