package theory

import (
	"strings"
	"testing"

	"repdyn/lib/models"
	"repdyn/lib/nn"
)

func TestCMSLinearHeadAndNonExamples(t *testing.T) {
	x := randInput(31, 5, 4)
	base := func() *nn.Sequential[float64] { return models.SmallMLP(4, []int{7, 6}, 3, nn.ActTanh, true, 9) }

	// A linear head: residual at round-off, in both batch-norm modes.
	withBN := nn.NewSequential[float64]("", nn.NewLinear[float64]("a", 4, 6, true), nn.NewBatchNorm1d[float64]("bn", 6),
		nn.NewReLU[float64]("r"), nn.NewLinear[float64]("head", 6, 3, true))
	randomize(withBN, 3, 0.8)
	for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
		rep, err := CMSAuto("linear+bn+relu+linear", withBN, x, mode)
		if err != nil {
			t.Fatal(err)
		}
		c := rep.Result("last affine layer")
		if c == nil || !c.Holds || c.Residual > 1e-13 {
			t.Errorf("%v: linear head: %v", mode, c)
		}
		// the first layer feeds a BN: 0-homogeneous, so "layer a + later
		// biases" (p = 1) must fail
		if c := rep.Result("layer a + later biases"); c == nil || c.Holds {
			t.Errorf("%v: weights feeding BN: %v", mode, c)
		}
		t.Logf("%s", rep)
	}

	// Non-examples: sigmoid, tanh, softmax outputs kept inside the model.
	for _, tc := range []struct {
		name string
		out  nn.Module[float64]
	}{{"sigmoid output", nn.NewSigmoid[float64]("out")}, {"tanh output", nn.NewTanh[float64]("out")}, {"softmax output", NewSoftmax("out")}} {
		m := base()
		m.Append(tc.out)
		rep, err := CMSAuto(tc.name, m, x, nn.Eval)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Holds() {
			t.Errorf("%s: CMS should fail:\n%s", tc.name, rep)
		}
		if c := rep.Result("last affine layer"); c.Residual < 1e-3 {
			t.Errorf("%s: residual %.3g not clearly above round-off", tc.name, c.Residual)
		}
		t.Logf("%s", rep)
	}

	// Final batch-norm affine (p = 1).
	bnOut := nn.NewSequential[float64]("", nn.NewLinear[float64]("a", 4, 6, true), nn.NewReLU[float64]("r"),
		nn.NewLinear[float64]("b", 6, 3, true), nn.NewBatchNorm1d[float64]("bn", 3))
	randomize(bnOut, 5, 0.8)
	for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
		rep, _ := CMSAuto("bn output", bnOut, x, mode)
		if c := rep.Result("final batch-norm affine"); c == nil || !c.Holds {
			t.Errorf("%v: final BN affine: %v", mode, c)
		}
		if mode == nn.BatchStats {
			// BN without its affine part after the last Linear: "last affine
			// layer" is 0-homogeneous there, so it fails.
			if c := rep.Result("last affine layer"); c.Holds {
				t.Errorf("last affine before batch-stats BN should fail: %v", c)
			}
		}
	}
}

func TestCMSHomogeneous(t *testing.T) {
	x := randInput(33, 6, 4)
	// bias-free ReLU network with max pooling: every layer (p = 1) and all
	// weights (p = L) hold.
	conv := nn.NewSequential[float64]("", nn.NewConv2d[float64]("c1", 1, 3, 3, 1, 1, false), nn.NewReLU[float64]("r1"),
		nn.NewMaxPool2d[float64]("mp", 2, 2, 0), nn.NewConv2d[float64]("c2", 3, 4, 3, 1, 1, false), nn.NewLeakyReLU[float64]("r2", 0.1),
		nn.NewAvgPool2d[float64]("ap", 2, 2, 0), nn.NewFlatten[float64]("f"), nn.NewLinear[float64]("fc", 4, 2, false))
	randomize(conv, 7, 0.7)
	xi := randInput(34, 3, 1, 4, 4)
	rep, err := CMSAuto("bias-free conv net", conv, xi, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Results {
		if !c.Holds {
			t.Errorf("%s: %.3g", c.Name, c.Residual)
		}
	}
	if c := rep.Result("all weights"); c.P != 3 {
		t.Errorf("all weights p = %g", c.P)
	}
	t.Logf("%s", rep)
	// with biases: "layer + later biases" holds, "all weights" fails.
	b := models.SmallMLP(4, []int{5, 5}, 2, nn.ActReLU, true, 4)
	rep2, _ := CMSAuto("relu mlp with biases", b, x, nn.Eval)
	for _, c := range rep2.Results {
		want := c.Name != "all weights"
		if c.Holds != want {
			t.Errorf("%s: holds=%v residual %.3g", c.Name, c.Holds, c.Residual)
		}
	}
	t.Logf("%s", rep2)
}

// Every model of lib/models ends in a Linear head: CMS holds with S = the
// head, p = 1, in both batch-norm modes.
func TestCMSAllModels(t *testing.T) {
	for _, name := range models.Names() {
		cfg := models.Config{InChannels: 2, NumClasses: 3, Width: 1.0 / 16, Seed: 1}
		size := 32
		if name == "mlp" {
			cfg = models.Config{InChannels: 1, InFeatures: 12, Hidden: []int{8, 8}, NumClasses: 3, Seed: 1}
			size = 0
		}
		m, err := models.New[float64](name, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x := randInput(1, 2, cfg.InChannels, size, size)
		if size == 0 {
			x = randInput(1, 2, 12)
		}
		for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
			rep, err := CMSAuto(name, m, x, mode)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			c := rep.Result("last affine layer")
			if c == nil || !c.Holds || !strings.Contains(strings.Join(c.Params, ","), "bias") {
				t.Errorf("%s %v: %v", name, mode, c)
			}
			if mode == nn.Eval {
				t.Logf("%s: last affine layer residual %.2e; %d candidates, holding: %s", name, c.Residual, len(rep.Results), holding(rep))
			}
		}
	}
}

func holding(r *CMSReport) string {
	var s []string
	for _, c := range r.Results {
		if c.Holds {
			s = append(s, c.Name)
		}
	}
	return strings.Join(s, "; ")
}
