package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmdForTrainTest(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(args, &out, &errb)
	return rc, out.String(), errb.String()
}

// TestTrainEvalCommands trains a quarter-width ResNet-20 on the offline
// synthetic dataset for a few steps, resumes it, evaluates the checkpoint
// and checks the error messages for bad names and mismatched checkpoints.
func TestTrainEvalCommands(t *testing.T) {
	dir := t.TempDir()
	common := []string{"train", "--model", "resnet20", "--width", "0.25", "--dataset", "synthetic", "--subset", "256",
		"--test-subset", "256", "--epochs", "2", "--batch", "64", "--out", dir, "--progress", "0", "--warmup", "0.5"}
	rc, out, errs := runCmdForTrainTest(t, append(common, "--max-steps", "3")...)
	if rc != 0 {
		t.Fatalf("train: rc %d\n%s\n%s", rc, out, errs)
	}
	rc, out, errs = runCmdForTrainTest(t, append(common, "--resume")...)
	if rc != 0 || !strings.Contains(out, "resuming at epoch 1, batch 3 (step 3)") || !strings.Contains(out, "done: 8 steps") {
		t.Fatalf("resume: rc %d\n%s\n%s", rc, out, errs)
	}
	for _, f := range []string{"last.safetensors", "best.safetensors", "metrics.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	ckpt := filepath.Join(dir, "last.safetensors")
	rc, out, errs = runCmdForTrainTest(t, "eval", "--checkpoint", ckpt, "--json", "--subset", "256")
	var res struct {
		Accuracy float64
		Images   int
		Model    string
	}
	if rc != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Images != 256 || res.Model != "resnet20" {
		t.Fatalf("eval: rc %d\n%s\n%s", rc, out, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--model", "resnet21", "--dataset", "synthetic"}, `unknown model "resnet21"`},
		{[]string{"train", "--model", "resnet20", "--dataset", "cifar11"}, `unknown dataset "cifar11"`},
		{[]string{"train", "--model", "resnet20", "--dataset", "synthetic", "--optimizer", "lbfgs"}, `unknown --optimizer "lbfgs"`},
		{[]string{"eval", "--checkpoint", ckpt, "--model", "resnet32", "--width", "0.25"}, `"layer1.3.conv1.weight"`},
		{[]string{"eval", "--checkpoint", ckpt, "--dataset", "nope"}, `unknown dataset "nope"`},
	} {
		rc, out, errs := runCmdForTrainTest(t, c.args...)
		if rc == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: rc %d, stderr %q, want it to contain %q (stdout %q)", c.args, rc, errs, c.want, out)
		}
	}
}

// TestTrainValidation: out-of-range flags are one-line usage errors (exit
// status 2) found before the output folder is created.
func TestTrainValidation(t *testing.T) {
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--subset", "-5"}, "--subset -5: must be >= 0"},
		{[]string{"--threads", "-4"}, "--threads -4: must be in 0..4096"},
		{[]string{"--width", "0"}, "--width 0: must be in (0, 64]"},
		{[]string{"--epochs", "0"}, "--epochs 0: must be in 1..1000000"},
		{[]string{"--batch", "-1"}, "--batch -1"},
		{[]string{"--lr", "NaN"}, "--lr NaN"},
		{[]string{"--test-subset", "-1"}, "--test-subset -1"},
		{[]string{"--resume", "--fresh"}, "--resume and --fresh exclude each other"},
		{[]string{"--batch", "300"}, "--batch 300: must be in 1..256 (training images)"},
		{[]string{"--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
	} {
		out := filepath.Join(t.TempDir(), "run")
		args := append([]string{"train", "--model", "mlp", "--dataset", "synthetic", "--subset", "256", "--out", out}, c.flags...)
		rc, stdout, errs := runCmdForTrainTest(t, args...)
		if rc != 2 || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: rc %d, stderr %q; want rc 2 and one line containing %q (stdout %q)", c.flags, rc, errs, c.want, stdout)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: the rejected run created %s", c.flags, out)
		}
	}
}

// TestTrainResumeAndOverwrite: --resume compares every stored flag and the
// data, naming each difference; a new run into a folder holding one is
// refused without --resume or --fresh.
func TestTrainResumeAndOverwrite(t *testing.T) {
	dir := t.TempDir()
	common := []string{"train", "--model", "mlp", "--width", "0.1", "--dataset", "synthetic", "--subset", "128",
		"--test-subset", "256", "--epochs", "2", "--batch", "32", "--out", dir, "--progress", "0"}
	rc, out, errs := runCmdForTrainTest(t, append(common, "--max-steps", "2")...)
	if rc != 0 {
		t.Fatalf("train: rc %d\n%s\n%s", rc, out, errs)
	}
	metrics := func() string { b, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl")); return string(b) }
	first := metrics()
	for _, c := range []struct {
		flags []string
		want  []string
	}{
		{[]string{"--resume", "--lr", "5", "--schedule", "const", "--wd", "0"}, []string{
			"resume: --lr 5 differs from the checkpoint's 0.1; --wd 0 differs from the checkpoint's 0.0005; --schedule const differs from the checkpoint's cosine"}},
		{[]string{"--resume", "--flip", "false", "--pad", "0"}, []string{"--pad 0 differs from the checkpoint's 4; --flip false differs from the checkpoint's true"}},
		{[]string{"--resume", "--subset", "96"}, []string{"--subset 96 differs from the checkpoint's 128", "96 training images differ from the checkpoint's 128"}},
		{[]string{"--resume", "--seed", "2", "--optimizer", "adam"}, []string{"--optimizer adam differs from the checkpoint's sgd", "--seed 2 differs from the checkpoint's 1"}},
		{nil, []string{"already holds a run (last.safetensors, best.safetensors, metrics.jsonl): add --resume to continue it or --fresh to replace it"}},
	} {
		rc, out, errs := runCmdForTrainTest(t, append(common, c.flags...)...)
		for _, w := range c.want {
			if rc != 2 || !strings.Contains(errs, w) || strings.Count(errs, "\n") != 1 {
				t.Errorf("%v: rc %d, stderr %q; want rc 2 and one line containing %q (stdout %q)", c.flags, rc, errs, w, out)
			}
		}
		if m := metrics(); m != first {
			t.Errorf("%v: the refused run changed metrics.jsonl:\n%s", c.flags, m)
		}
	}
	// Same flags (more steps) resume; --fresh starts over with one run's metrics.
	if rc, out, errs := runCmdForTrainTest(t, append(common, "--resume")...); rc != 0 || !strings.Contains(out, "resuming at epoch 1, batch 2 (step 2)") {
		t.Fatalf("resume: rc %d\n%s\n%s", rc, out, errs)
	}
	if rc, out, errs := runCmdForTrainTest(t, append(common, "--fresh")...); rc != 0 || strings.Contains(out, "resuming") {
		t.Fatalf("fresh: rc %d\n%s\n%s", rc, out, errs)
	}
	if n := strings.Count(metrics(), "\n"); n != 2 {
		t.Errorf("metrics.jsonl after --fresh has %d lines, want 2 (one run of 2 epochs):\n%s", n, metrics())
	}
}
