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
