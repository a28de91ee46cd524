package theory

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// TestTorchParity compares J and K with torch.autograd.functional.jacobian
// (testdata/parity.py) for an MLP and a small CIFAR ResNet in eval mode,
// float64, same weights. Skipped (with a message) when /usr/bin/python3
// cannot import torch.
func TestTorchParity(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skipf("PyTorch parity skipped: %s cannot import torch (%v); install Debian's python3-torch", py, err)
	}
	mlp, err := models.MLP[float64](models.Config{InChannels: 1, InFeatures: 5, Hidden: []int{7, 6}, NumClasses: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	res, err := models.CIFARResNet[float64](8, models.Config{InChannels: 2, NumClasses: 3, Width: 0.25, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	randomize(res, 11, 0.4) // non-trivial running statistics and BN affine
	cases := []struct {
		name, arch string
		cfg        map[string]any
		m          nn.Module[float64]
		x          *tensor.Tensor[float64]
	}{
		{"mlp", "mlp", map[string]any{"in": 5, "hidden": []int{7, 6}, "classes": 3}, mlp, randInput(1, 6, 5)},
		{"resnet8", "cifar-resnet", map[string]any{"in": 2, "depth": 8, "widths": []int{4, 8, 16}, "classes": 3}, res, randInput(2, 4, 2, 8, 8)},
	}
	for _, c := range cases {
		K, err := ComputeNTK(c.m, c.x, NTKOptions{KeepJ: true})
		if err != nil {
			t.Fatal(err)
		}
		J := K.J
		state, shapes := map[string][]float64{}, map[string][]int{}
		var names []string
		for _, p := range c.m.Params() {
			state[p.Name], shapes[p.Name] = p.Data, p.Shape
			names = append(names, p.Name)
		}
		for _, b := range c.m.Buffers() {
			state[b.Name], shapes[b.Name] = b.Data, b.Shape
		}
		b, _ := json.Marshal(map[string]any{"arch": c.arch, "config": c.cfg, "state": state, "shapes": shapes,
			"param_names": names, "x": c.x.Data(), "x_shape": c.x.Shape(), "J": J.Data, "K": K.K, "yhat": J.Yhat})
		path := filepath.Join(t.TempDir(), c.name+".json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "testdata/parity.py", path).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: parity.py: %v\n%s", c.name, err, out)
		}
		var r struct {
			N, D             int
			JRel, KRel, YRel float64
			Torch            string
		}
		var raw map[string]any
		if err := json.Unmarshal(out, &raw); err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		r.JRel, r.KRel, r.YRel = raw["j_rel"].(float64), raw["k_rel"].(float64), raw["yhat_rel"].(float64)
		r.Torch = raw["torch"].(string)
		if int(raw["N"].(float64)) != J.N || int(raw["D"].(float64)) != J.D {
			t.Errorf("%s: torch N, D = %v, %v; repdyn %d, %d", c.name, raw["N"], raw["D"], J.N, J.D)
		}
		if r.JRel > 1e-10 || r.KRel > 1e-10 || r.YRel > 1e-10 {
			t.Errorf("%s: J rel %.3g, K rel %.3g, yhat rel %.3g (want <= 1e-10)", c.name, r.JRel, r.KRel, r.YRel)
		}
		t.Logf("%s vs torch %s: N=%d D=%d, max rel error J %.2e, K %.2e, outputs %.2e", c.name, r.Torch, J.N, J.D, r.JRel, r.KRel, r.YRel)
	}
}
