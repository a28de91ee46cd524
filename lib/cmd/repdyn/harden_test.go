package main

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"repdyn/lib/checkpoint"
	"repdyn/lib/models"
	"repdyn/lib/train"
)

// craftedCheckpoint writes a valid MLP checkpoint for the synthetic dataset
// (3x32x32, 10 classes) whose stored model spec is then replaced by spec
// (JSON), as an adversarial user would edit it.
func craftedCheckpoint(t *testing.T, dir, name, spec string) string {
	t.Helper()
	cfg := models.Config{InChannels: 3, NumClasses: 10, InFeatures: 3 * 32 * 32, Hidden: []int{8}}
	m, err := models.New[float32]("mlp", cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := train.Save[float32](path, m, nil, nil, map[string]any{"model": "mlp", "config": cfg, "dataset": "synthetic"}); err != nil {
		t.Fatal(err)
	}
	if spec == "" {
		return path
	}
	f, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Metadata[train.MetaModel] = spec
	if err := checkpoint.Write(path, f.Tensors, f.Metadata); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEvalCraftedSpec: a checkpoint's model spec must not control allocation
// (probe 1 of issue 17). Each crafted spec fails with exit status 1 and a
// one-line error naming the field, allocating nothing like what it asks for.
func TestEvalCraftedSpec(t *testing.T) {
	dir := t.TempDir()
	good := craftedCheckpoint(t, dir, "good.safetensors", "")
	if rc, out, errs := runCmdForTrainTest(t, "eval", "--checkpoint", good, "--subset", "64"); rc != 0 {
		t.Fatalf("good checkpoint: rc %d\n%s\n%s", rc, out, errs)
	}
	mlp := `{"model":"mlp","dataset":"synthetic","config":{"InChannels":3,"NumClasses":10,"InFeatures":3072,"Hidden":%s}}`
	for _, c := range []struct {
		name, spec, want string
	}{
		{"hidden2e9", strings.Replace(mlp, "%s", "[2000000000]", 1), "Hidden[0] = 2000000000"},
		{"hidden2e5x2", strings.Replace(mlp, "%s", "[200000,200000]", 1), "Hidden [200000 200000]"},
		// Within the bounds (3.6 GB) but not what the file holds.
		{"hidden3e4x2", strings.Replace(mlp, "%s", "[30000,30000]", 1), `tensor "layers.0.weight" has shape [8 3072] in the checkpoint and [30000 3072]`},
		{"resnet20", `{"model":"resnet20","dataset":"synthetic","config":{"InChannels":3,"NumClasses":10,"Width":100000}}`, "Width 100000"},
		{"depth", `{"model":"resnet20","dataset":"synthetic","config":{"InChannels":3,"NumClasses":10,"Width":1}}`, `has no tensor "conv1.weight"`},
		{"classes", `{"model":"mlp","dataset":"synthetic","config":{"InChannels":3,"NumClasses":0,"InFeatures":3072,"Hidden":[8]}}`, ""},
	} {
		path := craftedCheckpoint(t, dir, c.name+".safetensors", c.spec)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rc, out, errs := runCmdForTrainTest(t, "eval", "--checkpoint", path, "--subset", "64")
		runtime.ReadMemStats(&after)
		if c.want == "" { // NumClasses 0 means the default, 10: it fits
			if rc != 0 {
				t.Errorf("%s: rc %d\n%s", c.name, rc, errs)
			}
			continue
		}
		if rc != 1 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%s: rc %d, stderr %q, want exit 1 and one line containing %q (stdout %q)", c.name, rc, errs, c.want, out)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 200<<20 {
			t.Errorf("%s: eval allocated %d MB before failing", c.name, d>>20)
		}
	}
}
