package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
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

// TestBenchBadSizes: every size flag of `repdyn bench` is checked when
// parsed (probe 5 of issue 17: `bench gemm --m -5` panicked in makeslice).
// A flag error is a usage error (status 2, main.go's conventions); a size
// that parses but would allocate too much is a failure (status 1); either
// way one line, never a trace.
func TestBenchBadSizes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "gemm", "--m", "-5"}, `invalid value "-5" for flag -m`},
		{[]string{"bench", "gemm", "--n", "0"}, `flag -n`},
		{[]string{"bench", "gemm", "--k", "-1"}, `flag -k`},
		{[]string{"bench", "gemm", "--reps", "-2"}, `flag -reps`},
		{[]string{"bench", "gemm", "--m", "100000", "--n", "100000", "--k", "1"}, `more than 2147483648 values`},
		{[]string{"bench", "gemm", "--threads", "0"}, `--threads "0"`},
		{[]string{"bench", "conv", "--batch", "-5"}, `flag -batch`},
		{[]string{"bench", "conv", "--cin", "0"}, `flag -cin`},
		{[]string{"bench", "conv", "--cout", "-1"}, `flag -cout`},
		{[]string{"bench", "conv", "--hw", "-3"}, `flag -hw`},
		{[]string{"bench", "conv", "--kernel", "0"}, `flag -kernel`},
		{[]string{"bench", "conv", "--stride", "0"}, `flag -stride`},
		{[]string{"bench", "conv", "--pad", "-2"}, `flag -pad`},
		{[]string{"bench", "conv", "--threads", "-4"}, `flag -threads`},
		{[]string{"bench", "conv", "--reps", "0"}, `--reps`},
		{[]string{"bench", "conv", "--reps", "1000000000000"}, `--reps`},
		{[]string{"bench", "train", "--batch", "-1"}, `flag -batch`},
		{[]string{"bench", "train", "--hw", "-5"}, `flag -hw`},
		{[]string{"bench", "train", "--steps", "0"}, `flag -steps`},
		{[]string{"bench", "train", "--warmup", "-1"}, `flag -warmup`},
		{[]string{"bench", "train", "--batch", "100000", "--model", "resnet18"}, `activations of resnet18`},
		{[]string{"bench", "train", "--threads", "-4"}, `--threads "-4"`},
		{[]string{"bench", "loader", "--n", "-5"}, `flag -n`},
		{[]string{"bench", "loader", "--batch", "0"}, `flag -batch`},
		{[]string{"bench", "loader", "--epochs", "-1"}, `--epochs -1`},
		{[]string{"bench", "loader", "--n", "1000000"}, `more than 2147483648 values`},
	} {
		rc, _, errs := runCmdForTrainTest(t, c.args...)
		want := 1
		if strings.Contains(c.want, "flag -") {
			want = 2
		}
		if rc != want || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: rc %d, stderr %q, want exit %d and one line containing %q", c.args, rc, errs, want, c.want)
		}
	}
}

// TestEvalDevZero: `eval --checkpoint /dev/zero` is refused at once
// instead of reading until out of memory.
func TestEvalDevZero(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	rc, _, errs := runCmdForTrainTest(t, "eval", "--checkpoint", "/dev/zero", "--dataset", "synthetic")
	if rc != 1 || !strings.Contains(errs, "not a regular file") {
		t.Fatalf("rc %d, stderr %q", rc, errs)
	}
}

// TestTrainMetricsSymlink: a metrics.jsonl symlink in --out must not make
// training append outside the folder.
func TestTrainMetricsSymlink(t *testing.T) {
	dir := t.TempDir()
	out, outside := filepath.Join(dir, "run"), filepath.Join(dir, "outside.txt")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(out, "metrics.jsonl")); err != nil {
		t.Fatal(err)
	}
	rc, _, errs := runCmdForTrainTest(t, "train", "--model", "mlp", "--dataset", "synthetic", "--subset", "128",
		"--test-subset", "64", "--epochs", "1", "--batch", "64", "--out", out, "--progress", "0")
	b, err := os.ReadFile(outside)
	if err != nil || string(b) != "precious\n" {
		t.Fatalf("training wrote through the symlink: %q (%v); rc %d, stderr %q", b, err, rc, errs)
	}
	if rc == 0 {
		t.Fatalf("training into a folder whose metrics.jsonl is a symlink succeeded")
	}
}

// TestHelperEvalUnderLimit is not a test: run by TestEvalCraftedSpecUlimit
// as a child process, it limits its address space to 4 GB (ulimit -v
// 4000000) and runs repdyn with the arguments in REPDYN_TEST_ARGS.
func TestHelperEvalUnderLimit(t *testing.T) {
	args := os.Getenv("REPDYN_TEST_ARGS")
	if args == "" {
		t.Skip("helper process")
	}
	lim := syscall.Rlimit{Cur: 4000000 << 10, Max: 4000000 << 10}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		os.Exit(99)
	}
	os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
}

// TestEvalCraftedSpecUlimit runs `repdyn eval` on the crafted checkpoints
// of issue 17 in a process limited to 4 GB of address space: exit status 1,
// one line naming the field, no runtime trace.
func TestEvalCraftedSpecUlimit(t *testing.T) {
	dir := t.TempDir()
	mlp := `{"model":"mlp","dataset":"synthetic","config":{"InChannels":3,"NumClasses":10,"InFeatures":3072,"Hidden":%s}}`
	for _, c := range []struct{ name, spec, want string }{
		{"hidden2e9", strings.Replace(mlp, "%s", "[2000000000]", 1), "Hidden[0] = 2000000000"},
		{"hidden2e5x2", strings.Replace(mlp, "%s", "[200000,200000]", 1), "Hidden [200000 200000]"},
		{"hidden3e4x2", strings.Replace(mlp, "%s", "[30000,30000]", 1), `"layers.0.weight"`},
		{"resnet20", `{"model":"resnet20","dataset":"synthetic","config":{"InChannels":3,"NumClasses":10,"Width":100000}}`, "Width 100000"},
	} {
		path := craftedCheckpoint(t, dir, c.name+".safetensors", c.spec)
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperEvalUnderLimit$")
		cmd.Env = append(os.Environ(), "REPDYN_TEST_ARGS="+strings.Join([]string{"eval", "--checkpoint", path, "--subset", "64"}, "\x1f"))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		rc := cmd.ProcessState.ExitCode()
		msg := strings.TrimSpace(stderr.String())
		if rc != 1 || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") {
			t.Errorf("%s: rc %d (%v), stderr %q; want exit 1 and one line containing %q", c.name, rc, err, msg, c.want)
		}
	}
}
