package optim

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"

	"repdyn/lib/nn"
)

func lastLine(b []byte) string {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return string(b)
}

type torchCase struct {
	Name string         `json:"name"`
	Kind string         `json:"kind"`
	Cfg  map[string]any `json:"cfg"`
}

// TestAgainstTorch runs torch.optim.SGD/Adam/AdamW and ours on the same
// 3x4 weight (decayed) and 4-vector bias (a NoDecay parameter; in torch its
// own group with weight_decay 0) for 6 steps with a changing learning rate
// and gradients that depend on the parameters.
func TestAgainstTorch(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3: skipping the comparison with torch.optim")
	}
	w0 := []float64{0.3, -0.7, 1.1, 0.05, -1.3, 0.8, 0.2, -0.4, 0.9, -0.15, 0.6, -1.0}
	b0 := []float64{0.1, -0.2, 0.3, -0.4}
	a := []float64{0.5, -0.25, 0.75, 1.0, -0.5, 0.3, 0.2, -0.8, 0.1, 0.4, -0.6, 0.9}
	c := [][3]float64{{0.1, 0.5, -0.1}, {-0.2, 0.7, 0.2}, {0.05, -0.3, 0.1}, {0.3, 0.2, -0.3}, {-0.1, 1.1, 0.0}, {0.2, -0.5, 0.4}}
	lrs := []float64{0.05, 0.1, 0.1, 0.07, 0.03, 0.01}
	cases := []torchCase{
		{"sgd", "sgd", map[string]any{"lr": 0.1}},
		{"sgd_mom", "sgd", map[string]any{"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}},
		{"sgd_damp", "sgd", map[string]any{"lr": 0.1, "momentum": 0.8, "dampening": 0.3, "weight_decay": 1e-2}},
		{"sgd_nesterov", "sgd", map[string]any{"lr": 0.1, "momentum": 0.9, "nesterov": true, "weight_decay": 1e-2}},
		{"adam", "adam", map[string]any{"lr": 0.01, "betas": []float64{0.9, 0.999}, "eps": 1e-8}},
		{"adam_wd", "adam", map[string]any{"lr": 0.01, "betas": []float64{0.8, 0.99}, "eps": 1e-6, "weight_decay": 0.1}},
		{"adam_ams", "adam", map[string]any{"lr": 0.01, "betas": []float64{0.9, 0.99}, "eps": 1e-3, "amsgrad": true}},
		{"adamw", "adamw", map[string]any{"lr": 0.01, "betas": []float64{0.9, 0.999}, "eps": 1e-8, "weight_decay": 0.05}},
		{"adamw_ams", "adamw", map[string]any{"lr": 0.01, "betas": []float64{0.9, 0.999}, "eps": 1e-8, "weight_decay": 0.05, "amsgrad": true}},
	}
	for _, tc := range cases {
		tc.Cfg["lrs"] = lrs
	}
	dtypes := []string{"float64", "float32"}
	var specs []map[string]any
	for _, dtype := range dtypes {
		specs = append(specs, map[string]any{"dtype": dtype, "w": w0, "wshape": []int{3, 4}, "b": b0, "a": a, "c": c, "cases": cases})
	}
	in, _ := json.Marshal(specs)
	cmd := exec.Command("/usr/bin/python3", "testdata/torch_optim.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "Error") && strings.Contains(stderr.String(), "import torch") {
			t.Skipf("torch not importable by /usr/bin/python3 (install python3-torch): skipping the comparison with torch.optim: %s", lastLine(stderr.Bytes()))
		}
		t.Fatalf("torch: %v\n%s", err, stderr.String())
	}
	var refs []map[string]struct{ W, B []float64 }
	if err := json.Unmarshal(out, &refs); err != nil || len(refs) != len(dtypes) {
		t.Fatalf("torch output: %v\n%s", err, out)
	}
	for di, dtype := range dtypes {
		ref := refs[di]
		maxRel := 0.0
		for _, tc := range cases {
			var gw, gb []float64
			if dtype == "float64" {
				gw, gb = runTorchCase[float64](t, tc, w0, b0, a, c, lrs)
			} else {
				gw, gb = runTorchCase[float32](t, tc, w0, b0, a, c, lrs)
			}
			tol := 1e-14
			if dtype == "float32" {
				tol = 1e-6
			}
			r := ref[tc.Name]
			for _, pair := range []struct {
				name      string
				got, want []float64
			}{{"w", gw, r.W}, {"b", gb, r.B}} {
				if len(pair.got) != len(pair.want) {
					t.Fatalf("%s %s %s: %d values, torch %d", dtype, tc.Name, pair.name, len(pair.got), len(pair.want))
				}
				for i := range pair.got {
					d := math.Abs(pair.got[i] - pair.want[i])
					maxRel = math.Max(maxRel, d/math.Max(1, math.Abs(pair.want[i])))
					if d > tol*math.Max(1, math.Abs(pair.want[i])) {
						t.Errorf("%s %s %s[%d] = %.10g, torch %.10g", dtype, tc.Name, pair.name, i, pair.got[i], pair.want[i])
					}
				}
			}
		}
		t.Logf("%s: largest difference from torch.optim after 6 steps: %.3g (relative to max(1, |value|))", dtype, maxRel)
	}
}

func runTorchCase[T nn.Float](t *testing.T, tc torchCase, w0, b0, a []float64, c [][3]float64, lrs []float64) (w, b []float64) {
	conv := func(v []float64) []T {
		r := make([]T, len(v))
		for i, x := range v {
			r[i] = T(x)
		}
		return r
	}
	pw := &nn.Param[T]{Name: "w", Shape: []int{3, 4}, Data: conv(w0), Grad: make([]T, 12)}
	pb := &nn.Param[T]{Name: "b", Shape: []int{4}, Data: conv(b0), Grad: make([]T, 4), NoDecay: true}
	ps := []*nn.Param[T]{pw, pb}
	at := conv(a)
	f := func(k string) float64 {
		v, _ := tc.Cfg[k].(float64)
		return v
	}
	boolArg := func(k string) bool { v, _ := tc.Cfg[k].(bool); return v }
	var o Optimizer[T]
	var err error
	switch tc.Kind {
	case "sgd":
		o, err = NewSGD(ps, SGDConfig{LR: f("lr"), Momentum: f("momentum"), Dampening: f("dampening"), WeightDecay: f("weight_decay"), Nesterov: boolArg("nesterov")})
	default:
		betas := tc.Cfg["betas"].([]float64)
		cfg := AdamConfig{LR: f("lr"), Beta1: betas[0], Beta2: betas[1], Eps: f("eps"), WeightDecay: f("weight_decay"), AMSGrad: boolArg("amsgrad")}
		if tc.Kind == "adam" {
			o, err = NewAdam(ps, cfg)
		} else {
			o, err = NewAdamW(ps, cfg)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, lr := range lrs {
		o.SetLR(lr)
		for i := range pw.Data {
			pw.Grad[i] = at[i]*pw.Data[i]*pw.Data[i] + T(c[k][0])
		}
		for i := range pb.Data {
			pb.Grad[i] = pb.Data[i]*T(c[k][1]) + T(c[k][2])
		}
		o.Step()
	}
	back := func(v []T) []float64 {
		r := make([]float64, len(v))
		for i, x := range v {
			r[i] = float64(x)
		}
		return r
	}
	return back(pw.Data), back(pb.Data)
}
