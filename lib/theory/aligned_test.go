package theory

import (
	"context"
	"math"
	"testing"

	"repdyn/lib/data"
	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/optim"
	"repdyn/lib/tensor"
	"repdyn/lib/train"
)

// A bottleneck MLP (hidden widths 16, 1) cannot fit random labels of 4
// classes: its logits lie on a line, so the base run stalls at a positive
// cross-entropy. Aligned training (snapshot of the first hidden layer, 16
// features < n = 32, then a frozen random ReLU map to 64 features) has rank
// Phi = n, hence DAA at every point of phase 2, and its train loss goes to
// inf L = 0 with the same optimizer, schedule, steps and seeds.
func TestAlignedTrainingBeatsStall(t *testing.T) {
	ds := data.RandomLabels(data.Blobs(32, 4, 4, 3, 1), 2)
	const steps, tau = 800, 60
	mcfg := models.Config{InChannels: 1, InFeatures: 4, Hidden: []int{16, 1}, NumClasses: 4, Seed: 5}
	run := AlignedRun[float64]{
		NewModel: func() (nn.Module[float64], error) { return models.MLP[float64](mcfg) },
		NewOptimizer: func(ps []*nn.Param[float64]) (optim.Optimizer[float64], error) {
			return optim.NewSGD(ps, optim.SGDConfig{LR: 0.05, Momentum: 0.9})
		},
		Train:   train.Config[float64]{Train: ds, BatchSize: 32, Epochs: steps, Seed: 3, Prefetch: -1},
		Aligned: AlignedConfig{Tau: tau, SnapshotLayers: 3, RandomFeatures: 64, Seed: 9, FeatureScale: 1},
	}
	res, err := RunAligned(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Certificate
	if !c.Holds || c.Rank != 32 {
		t.Fatalf("certificate: %v", c)
	}
	bh, ah := res.Base.State.History, res.Aligned.State.History
	for e := 0; e < tau; e++ {
		if bh[e].TrainLoss != ah[e].TrainLoss {
			t.Fatalf("phase 1 differs from the base run at step %d: %v vs %v", e, bh[e].TrainLoss, ah[e].TrainLoss)
		}
	}
	bl, al := res.Base.Final.TrainLoss, res.Aligned.Final.TrainLoss
	if bl < 0.5 || al > 0.02 || al > bl/20 {
		t.Errorf("base final loss %.4f (want a stall > 0.5), aligned %.4f (want -> 0)", bl, al)
	}
	t.Logf("%v; p = %d; train loss at tau: %.4f; final: base %.4f (acc %.2f), aligned %.5f (acc %.2f)",
		c, res.Features, bh[tau-1].TrainLoss, bl, res.Base.Final.TrainAcc, al, res.Aligned.Final.TrainAcc)
}

// The aligned model has the V-block I_m (x) Phi in its Jacobian: the DAA
// report on f~ holds for arbitrary targets once rank Phi = n.
func TestAlignedModelDAA(t *testing.T) {
	chain := models.WidthOneChain(3, 4, 2, true) // rank J <= 4: DAA fails for n = 10
	base := nn.NewSequential("", append([]nn.Module[float64]{nn.NewFlatten[float64]("in")}, chain.Layers...)...)
	a, err := NewAlignedModel[float64](base, AlignedConfig{InputShape: []int{3}, SnapshotLayers: 1, RandomFeatures: 24, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(51, 10, 3)
	y := make([]float64, 10)
	for i := range y {
		y[i] = float64(i%3) - 1
	}
	before, _, _ := AnalyzeDAA(a, x, y, JacobianOptions{}, DAAOptions{})
	f0, _, _ := Outputs(a, x, nn.Eval)
	if err := a.Switch(); err != nil {
		t.Fatal(err)
	}
	f1, _, _ := Outputs(a, x, nn.Eval)
	if relErr(f1, f0) != 0 {
		t.Error("switch changed the function")
	}
	for i := range a.V.Weight.Data { // move V off zero: still aligned
		a.V.Weight.Data[i] = 0.1 * float64(i%5)
	}
	after, J, _ := AnalyzeDAA(a, x, y, JacobianOptions{}, DAAOptions{})
	cert, _ := a.PhiCertificate(x, "the 10 examples")
	if before.Verdict != "fails" || !cert.Holds || after.PerTau[1].Rank != 10 || after.PerTau[1].Rho > 1e-12 {
		t.Errorf("before: %s\nafter: %s\ncert: %v", before, after, cert)
	}
	// J v through the aligned model's forward-mode rule agrees with J.
	v := make([]float64, J.D)
	for i := range v {
		v[i] = float64(i%7) - 3
	}
	jv, _, err := Jv(a, x, v, JacobianOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e := relErr(jv, J.MatVec(v)); e > 1e-12 {
		t.Errorf("aligned Jv error %.3g", e)
	}
	t.Logf("base chain: %s; aligned: rank %d, rho %.2g; %v", before.Verdict, after.PerTau[1].Rank, after.PerTau[1].Rho, cert)
}

// Aligned ResNet: snapshot = stem + first stage (image-shaped), followed by
// the frozen random 3x3 convolution + ReLU; the switch keeps the function,
// rank Phi = n on the examples, and the Jacobian of f~ (both BN modes) has
// full row rank.
func TestAlignedResNet(t *testing.T) {
	m := tinyResNet(t)
	a, err := NewAlignedModel[float64](m, AlignedConfig{InputShape: []int{2, 6, 6}, SnapshotLayers: 4, RandomFeatures: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if a.Features() != 72 { // ceil(40/36) = 2 channels x 36
		t.Errorf("p = %d", a.Features())
	}
	x := randInput(71, 5, 2, 6, 6)
	f0, _, _ := Outputs(a, x, nn.Eval)
	if err := a.Switch(); err != nil {
		t.Fatal(err)
	}
	f1, _, _ := Outputs(a, x, nn.Eval)
	if relErr(f1, f0) != 0 {
		t.Error("switch changed the function")
	}
	cert, err := a.PhiCertificate(x, "5 examples")
	if err != nil || !cert.Holds {
		t.Fatalf("certificate %v %v", cert, err)
	}
	y := OneHot([]int{0, 1, 2, 1, 0}, 3, 1)
	for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
		rep, J, err := AnalyzeDAA(a, x, y, JacobianOptions{Mode: mode}, DAAOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cols := J.GroupColumns("aligned.V.weight")
		rep.AddColumnSubset("V block", J, cols, y)
		if c := rep.Checks[len(rep.Checks)-1]; !c.Holds || c.Rank != 15 {
			t.Errorf("%v: V block %v", mode, c)
		}
		t.Logf("%v: %s; %v", mode, rep.Verdict, rep.Checks[len(rep.Checks)-1])
	}
}

// TestAlignedFeatureScale checks the V-block's scale c: the default
// 1/sqrt(p), the function c V phi in Forward, and the gradient c phi^T dy
// that V receives, against finite differences of the loss in V.
func TestAlignedFeatureScale(t *testing.T) {
	base, err := models.New[float64]("mlp", models.Config{InFeatures: 3, NumClasses: 2, Hidden: []int{6}, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAlignedModel[float64](base, AlignedConfig{InputShape: []int{3}, SnapshotLayers: 1, RandomFeatures: 25, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Switch(); err != nil {
		t.Fatal(err)
	}
	if got := a.Scale(); math.Abs(got-1/math.Sqrt(float64(a.Features()))) > 1e-15 {
		t.Fatalf("default scale %v, want 1/sqrt(%d)", got, a.Features())
	}
	r := tensor.NewRNG(5)
	for i := range a.V.Weight.Data {
		a.V.Weight.Data[i] = r.Normal()
	}
	x := tensor.Must(tensor.New[float64](4, 3))
	for i := range x.Data() {
		x.Data()[i] = r.Normal()
	}
	loss := func() float64 { // sum of squares of the outputs / 2
		y, err := a.Forward(x, nn.Eval)
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for _, v := range y.Contiguous().Data() {
			s += v * v / 2
		}
		return s
	}
	y, _ := a.Forward(x, nn.Eval)
	dy := y.Contiguous().Clone()
	clear(a.V.Weight.Grad)
	if _, err := a.Backward(dy); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 7, len(a.V.Weight.Data) - 1} {
		w := a.V.Weight.Data[i]
		a.V.Weight.Data[i] = w + 1e-6
		lp := loss()
		a.V.Weight.Data[i] = w - 1e-6
		lm := loss()
		a.V.Weight.Data[i] = w
		fd := (lp - lm) / 2e-6
		if g := a.V.Weight.Grad[i]; math.Abs(g-fd) > 1e-6*(1+math.Abs(fd)) {
			t.Errorf("dL/dV[%d] = %v, finite differences %v", i, g, fd)
		}
	}
}
