package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"repdyn/lib/checkpoint"
)

// pythonTorch is /usr/bin/python3 when it can import torch and numpy.
func pythonTorch(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import torch, numpy").CombinedOutput(); err != nil {
		t.Skipf("skipping the PyTorch round trip: %s cannot import torch and numpy (apt-get install python3-torch): %v %s", py, err, strings.TrimSpace(string(out)))
	}
	return py
}

type interopResult struct {
	Op     string   `json:"op"`
	Rel    float64  `json:"rel"`
	Rel64  float64  `json:"rel64"`
	Torch  float64  `json:"torch_rel64"`
	Keys   int      `json:"keys"`
	NBT    []int    `json:"nbt"`
	Files  []string `json:"files"`
	ErrMsg string   `json:"error"`
}

func runInterop(t *testing.T, py, dir, name string, jobs []map[string]any) []interopResult {
	t.Helper()
	jp, rp := filepath.Join(dir, name+".json"), filepath.Join(dir, name+".out.json")
	b, _ := json.Marshal(jobs)
	if err := os.WriteFile(jp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/torch_interop.py", jp, rp).CombinedOutput()
	if err != nil {
		t.Fatalf("torch_interop.py %s: %v\n%s", name, err, out)
	}
	var res struct {
		Results []interopResult `json:"results"`
		Torch   string          `json:"torch"`
		ST      bool            `json:"safetensors_package"`
	}
	rb, _ := os.ReadFile(rp)
	if err := json.Unmarshal(rb, &res); err != nil || len(res.Results) != len(jobs) {
		t.Fatalf("torch_interop.py %s: bad reply %s (%v)", name, rb, err)
	}
	t.Logf("PyTorch %s (safetensors package: %v)", res.Torch, res.ST)
	return res.Results
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	rc, out, errs := runCmdForTrainTest(t, args...)
	if rc != 0 {
		t.Fatalf("repdyn %s: rc %d\n%s\n%s", strings.Join(args, " "), rc, out, errs)
	}
	return out
}

// TestPyTorchInterop is the round trip both ways, 1e-5 relative
// (max|a-b| / max|b|) on the logits of the same inputs:
//
//   - repdyn -> PyTorch: a ResNet-20 and an MLP (the PyTorch mirrors of
//     lib/models) trained 3 steps with `repdyn train` (Adam: the checkpoint
//     holds optimizer state), `repdyn export`ed, load with
//     load_state_dict(strict=True) and give the logits `repdyn eval
//     --save-logits` wrote;
//   - PyTorch -> repdyn: PyTorch saves the state_dict (randomised batch-norm
//     statistics, I64 num_batches_tracked, F32/F16/BF16 weights, no repdyn
//     metadata), `repdyn eval --model` gives PyTorch's logits;
//   - torchvision's own ResNet-18 both ways: its BF16 file into `repdyn
//     eval`, and its F32 file through `repdyn export --dtype F16` back into
//     torchvision.
func TestPyTorchInterop(t *testing.T) {
	py := pythonTorch(t)
	dir := t.TempDir()
	const tol = 1e-5
	type arch struct {
		model, width string
		desc         map[string]any
		train        bool     // train with repdyn, export, load in PyTorch
		torchDTypes  []string // dtypes of the PyTorch-written files
	}
	archs := []arch{
		{"resnet20", "0.25", map[string]any{"kind": "resnet", "stem": "cifar", "blocks": []int{3, 3, 3}, "widths": []int{4, 8, 16},
			"in_channels": 3, "num_classes": 10}, true, []string{"F32", "F16", "BF16"}},
		{"mlp", "0.125", map[string]any{"kind": "mlp", "in_features": 3 * 32 * 32, "widths": []int{64, 64}, "num_classes": 10,
			"activation": "ReLU", "slope": 0.01, "bias": true}, true, []string{"F32", "F16", "BF16"}},
		{"resnet18", "1", map[string]any{"kind": "torchvision", "name": "resnet18", "num_classes": 10}, false, []string{"F32", "BF16"}},
	}
	// checkExport checks an exported file: no optimizer state, I64
	// counters, weights in dtype.
	checkExport := func(path string, dtype checkpoint.DType) {
		f, err := checkpoint.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range f.Tensors {
			if strings.HasPrefix(tt.Name, "optim.") || (strings.HasSuffix(tt.Name, "num_batches_tracked") != (tt.DType == checkpoint.I64)) ||
				(tt.DType != checkpoint.I64 && tt.DType != dtype) {
				t.Errorf("%s: tensor %s %s", path, tt.Name, tt.DType)
			}
		}
	}
	// evalJob evaluates file with repdyn (extra: --model etc.) and returns
	// the PyTorch job comparing the logits.
	evalJob := func(a arch, file string, extra ...string) map[string]any {
		base := strings.TrimSuffix(file, ".safetensors")
		x, l := base+"-x.npy", base+"-l.npy"
		mustRun(t, append([]string{"eval", "--checkpoint", file, "--subset", "64", "--save-inputs", x, "--save-logits", l}, extra...)...)
		return map[string]any{"op": "compare", "arch": a.desc, "file": file, "inputs": x, "logits": l}
	}
	var jobs1 []map[string]any
	for _, a := range archs {
		if a.train {
			out := filepath.Join(dir, a.model)
			mustRun(t, "train", "--model", a.model, "--width", a.width, "--dataset", "synthetic", "--subset", "256", "--test-subset", "1",
				"--epochs", "1", "--batch", "64", "--max-steps", "3", "--out", out, "--progress", "0", "--optimizer", "adam", "--lr", "0.01")
			exp := filepath.Join(dir, a.model+"-export.safetensors")
			mustRun(t, "export", "--checkpoint", filepath.Join(out, "last.safetensors"), "--out", exp)
			checkExport(exp, checkpoint.F32)
			jobs1 = append(jobs1, evalJob(a, exp))
		}
		jobs1 = append(jobs1, map[string]any{"op": "write", "arch": a.desc, "seed": 7, "dtypes": a.torchDTypes,
			"prefix": filepath.Join(dir, a.model+"-torch-")})
	}
	res := runInterop(t, py, dir, "export", jobs1)
	var jobs2 []map[string]any
	i := 0
	for _, a := range archs {
		if a.train {
			c := res[i]
			i++
			t.Logf("%s: repdyn -> PyTorch strict load: %d tensors, logits rel. diff %.2g (float64 PyTorch %.2g, PyTorch f32 vs f64 %.2g), num_batches_tracked %v",
				a.model, c.Keys, c.Rel, c.Rel64, c.Torch, c.NBT)
			if c.Rel > tol {
				t.Errorf("%s: exported model's logits differ from PyTorch's by %.3g > %g", a.model, c.Rel, tol)
			}
			if a.model == "resnet20" && (len(c.NBT) != 1 || c.NBT[0] != 3) {
				t.Errorf("%s: num_batches_tracked %v after 3 steps, want [3]", a.model, c.NBT)
			}
		}
		w := res[i]
		i++
		if len(w.Files) != len(a.torchDTypes) {
			t.Fatalf("%s: PyTorch wrote %v", a.model, w.Files)
		}
		spec := []string{"--model", a.model, "--width", a.width, "--dataset", "synthetic"}
		for k, file := range w.Files {
			if a.train || a.torchDTypes[k] != "F32" {
				jobs2 = append(jobs2, evalJob(a, file, spec...))
				continue
			}
			// torchvision -> repdyn export --dtype F16 -> torchvision
			exp := filepath.Join(dir, a.model+"-torch-export-F16.safetensors")
			mustRun(t, "export", "--checkpoint", file, "--out", exp, "--dtype", "F16")
			checkExport(exp, checkpoint.F16)
			jobs2 = append(jobs2, evalJob(a, exp, spec...))
		}
	}
	res2 := runInterop(t, py, dir, "import", jobs2)
	for i, r := range res2 {
		name := filepath.Base(jobs2[i]["file"].(string))
		t.Logf("%s: repdyn eval vs PyTorch (strict load): logits rel. diff %.2g (float64 PyTorch %.2g), num_batches_tracked %v", name, r.Rel, r.Rel64, r.NBT)
		if r.Rel > tol {
			t.Errorf("%s: repdyn's logits differ from PyTorch's by %.3g > %g", name, r.Rel, tol)
		}
		if !strings.HasPrefix(name, "mlp") && (len(r.NBT) != 1 || r.NBT[0] != 123) {
			t.Errorf("%s: num_batches_tracked %v, want [123] as PyTorch wrote it", name, r.NBT)
		}
	}
}

// TestEvalRefusesIntegerWeights: an integer dtype is accepted only for
// num_batches_tracked; an integer weight is refused with one line naming it.
func TestEvalRefusesIntegerWeights(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	mustRun(t, "train", "--model", "resnet20", "--width", "0.25", "--dataset", "synthetic", "--subset", "128", "--test-subset", "128",
		"--epochs", "1", "--batch", "64", "--max-steps", "1", "--out", out, "--progress", "0")
	f, err := checkpoint.Read(filepath.Join(out, "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var ts []checkpoint.Tensor
	for _, tt := range f.Tensors {
		if tt.Name == "fc.bias" {
			v, _ := tt.AsFloat64s()
			for i := range v {
				v[i] = float64(i)
			}
			tt, _ = checkpoint.FromFloat64As(tt.Name, checkpoint.I64, tt.Shape, v)
		}
		ts = append(ts, tt)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := checkpoint.Write(bad, ts, f.Metadata); err != nil {
		t.Fatal(err)
	}
	rc, _, errs := runCmdForTrainTest(t, "eval", "--checkpoint", bad)
	if rc != 1 || !strings.Contains(errs, `"fc.bias" has integer dtype I64`) || strings.Count(errs, "\n") != 1 {
		t.Errorf("eval of an I64 weight: rc %d, stderr %q", rc, errs)
	}
}

// TestNTKNumPy: `repdyn ntk` writes the NTK and the Jacobian as .npy files
// that numpy.load reads, with K = J J^T (checked in NumPy) symmetric and
// positive semi-definite.
func TestNTKNumPy(t *testing.T) {
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("skipping: /usr/bin/python3 cannot import numpy (apt-get install python3-numpy)")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	mustRun(t, "train", "--model", "resnet20", "--width", "0.25", "--dataset", "synthetic", "--subset", "128", "--test-subset", "128",
		"--epochs", "1", "--batch", "64", "--max-steps", "1", "--out", out, "--progress", "0")
	k, j := filepath.Join(dir, "K.npy"), filepath.Join(dir, "J.npy")
	mustRun(t, "ntk", "--checkpoint", filepath.Join(out, "last.safetensors"), "--n", "3", "--out", k, "--jacobian", j)
	tk, err := checkpoint.ReadNPY(k)
	if err != nil || tk.DType != checkpoint.F64 || len(tk.Shape) != 2 || tk.Shape[0] != 30 || tk.Shape[1] != 30 {
		t.Fatalf("K.npy: %v %v", tk, err)
	}
	script := `
import sys, numpy as np
K, J = np.load(sys.argv[1]), np.load(sys.argv[2])
assert K.shape == (30, 30) and J.shape[0] == 30 and K.dtype == np.float64, (K.shape, J.shape)
r = np.abs(K - J @ J.T).max() / np.abs(K).max()
assert r < 1e-12, r
assert np.abs(K - K.T).max() == 0
assert np.linalg.eigvalsh(K).min() > -1e-9 * np.abs(K).max()
print("ok", J.shape[1])
`
	o, err := exec.Command(py, "-c", script, k, j).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(o), "ok") {
		t.Fatalf("numpy: %v\n%s", err, o)
	}
}
