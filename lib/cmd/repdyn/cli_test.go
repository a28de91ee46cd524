package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"repdyn/lib/cpuinfo"
	"repdyn/lib/train"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// repdynBinary builds the command once per test binary (a real process, for
// exit statuses and signals).
func repdynBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "repdyn-cli-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "repdyn")
		args := []string{"build", "-o", binPath}
		if strings.HasPrefix(cpuinfo.Get().NoAsmReason, "built without assembly") {
			args = append(args, "-tags", "noasm") // as this test binary was built
		}
		if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("building repdyn: %v", binErr)
	}
	return binPath
}

func runBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(repdynBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// TestCLIConventions checks exit statuses and where messages go: usage on
// stderr and 2 without arguments, one-line usage errors with 2, help on
// stdout with 0, failures on one stderr line with 1, and the version.
func TestCLIConventions(t *testing.T) {
	rc, out, errs := runBinary(t)
	if rc != 2 || out != "" || !strings.HasPrefix(errs, "usage: repdyn <command>") {
		t.Errorf("no arguments: rc %d, stdout %q, stderr %q; want 2, usage on stderr", rc, out, errs)
	}
	for _, a := range []string{"help", "-h", "--help"} {
		rc, out, errs := runBinary(t, a)
		if rc != 0 || errs != "" || !strings.HasPrefix(out, "usage: repdyn <command>") {
			t.Errorf("%s: rc %d, stdout %q, stderr %q", a, rc, out, errs)
		}
	}
	usageErrors := [][]string{
		{"frobnicate"},
		{"train", "--nope"},
		{"train", "--epochs", "many"},
		{"train"},
		{"train", "--model", "resnet21", "--dataset", "synthetic"},
		{"train", "--model", "resnet20", "--dataset", "synthetic", "--optimizer", "lbfgs"},
		{"train", "--model", "resnet20", "--dataset", "synthetic", "extra"},
		{"eval"},
		{"eval", "--checkpoint"},
		{"export", "--checkpoint", "x.safetensors"},
		{"export", "--checkpoint", "x", "--out", "y", "--dtype", "I8"},
		{"ntk", "--checkpoint", "x", "--out", "y", "--mode", "train"},
		{"bench"},
		{"bench", "nope"},
		{"bench", "gemm", "--m", "x"},
		{"data"},
		{"data", "fetch2"},
		{"version", "extra"},
		{"help", "nope"},
	}
	for _, a := range usageErrors {
		rc, out, errs := runBinary(t, a...)
		if rc != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "repdyn") {
			t.Errorf("%v: rc %d, stdout %q, stderr %q; want 2 and one line on stderr", a, rc, out, errs)
		}
	}
	rc, out, errs = runBinary(t, "eval", "--checkpoint", filepath.Join(t.TempDir(), "missing.safetensors"), "--dataset", "synthetic")
	if rc != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "missing.safetensors") {
		t.Errorf("eval of a missing file: rc %d, stdout %q, stderr %q; want 1 and one line naming the file", rc, out, errs)
	}
	lvl := cpuinfo.Get().Selected
	for _, a := range [][]string{{"--version"}, {"version"}} {
		rc, out, errs := runBinary(t, a...)
		if rc != 0 || errs != "" || !strings.HasPrefix(out, "repdyn ") || !strings.Contains(out, runtime.Version()) ||
			!strings.Contains(out, "kernels "+lvl) || strings.Count(out, "\n") != 1 {
			t.Errorf("%v: rc %d, stdout %q, stderr %q; want one line with the module, %s and kernels %s", a, rc, out, errs, runtime.Version(), lvl)
		}
	}
	rc, out, _ = runBinary(t, "version", "--json")
	var v versionInfo
	if rc != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Module != "repdyn" || v.Go != runtime.Version() || v.Kernels != lvl || v.Version == "" {
		t.Errorf("version --json: rc %d, %q", rc, out)
	}
	if v.Revision == "" {
		t.Logf("version --json has no VCS revision (not built from a git checkout?): %s", out)
	}
}

// TestSubcommandHelp: every command's -h is complete like train's: a usage
// line, a description, the flags, on stdout, exit 0.
func TestSubcommandHelp(t *testing.T) {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	for n := range benchmarks {
		names = append(names, "bench "+n)
	}
	names = append(names, "data list", "data fetch", "data verify")
	sort.Strings(names)
	for _, n := range names {
		args := append(strings.Fields(n), "-h")
		rc, out, errs := runCmdForTrainTest(t, args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if rc != 0 || errs != "" || !strings.HasPrefix(out, "usage: repdyn "+strings.Fields(n)[0]) || len(lines) < 6 {
			t.Errorf("%s -h: rc %d, stderr %q, %d lines:\n%s", n, rc, errs, len(lines), out)
			continue
		}
		// a description paragraph after the usage line, and flags (each with help text)
		if n != "bench" && n != "data" && !strings.Contains(out, "\n  -") {
			t.Errorf("%s -h lists no flags:\n%s", n, out)
		}
	}
}

// TestInterruptExitStatus sends a real SIGINT (and SIGTERM) to a training
// run: it exits 130 (143) after writing last.safetensors, whose state says
// interrupted, with one line on stderr.
func TestInterruptExitStatus(t *testing.T) {
	bin := repdynBinary(t)
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		dir := t.TempDir()
		cmd := exec.Command(bin, "train", "--model", "resnet20", "--width", "0.25", "--dataset", "synthetic", "--subset", "2048",
			"--test-subset", "256", "--epochs", "100", "--batch", "32", "--progress", "1", "--threads", "1", "--out", dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		var console []string
		sent := false
		deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
		for sc.Scan() {
			console = append(console, sc.Text())
			if !sent && strings.Contains(sc.Text(), " step 2/") { // training is under way
				cmd.Process.Signal(c.sig)
				sent = true
			}
		}
		err = cmd.Wait()
		deadline.Stop()
		rc := cmd.ProcessState.ExitCode()
		errs := errb.String()
		if !sent || rc != c.code || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "interrupted") {
			t.Errorf("%v: sent %v, exit %d (%v), stderr %q; want %d and one line\nstdout:\n%s", c.sig, sent, rc, err, errs, c.code, strings.Join(console, "\n"))
			continue
		}
		ck, err := train.Open(filepath.Join(dir, "last.safetensors"))
		if err != nil {
			t.Errorf("%v: no checkpoint after the interrupt: %v", c.sig, err)
			continue
		}
		if ck.State == nil || !ck.State.Interrupted || ck.State.Step < 2 {
			t.Errorf("%v: checkpoint state %+v, want interrupted after >= 2 steps", c.sig, ck.State)
		}
	}
}

// TestEpochNumbering: the console and metrics.jsonl number epochs alike
// (from 1).
func TestEpochNumbering(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, "train", "--model", "mlp", "--width", "0.0625", "--dataset", "synthetic", "--subset", "128", "--test-subset", "64",
		"--epochs", "2", "--batch", "64", "--progress", "0", "--out", dir)
	if !strings.Contains(out, "epoch 1 done") || !strings.Contains(out, "epoch 2 done") || strings.Contains(out, "epoch 0") {
		t.Errorf("console:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var epochs []int
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e struct{ Epoch int }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		epochs = append(epochs, e.Epoch)
	}
	if len(epochs) != 2 || epochs[0] != 1 || epochs[1] != 2 {
		t.Errorf("metrics.jsonl epochs %v, want [1 2] as on the console", epochs)
	}
}

func TestMain(m *testing.M) {
	rc := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(rc)
}
