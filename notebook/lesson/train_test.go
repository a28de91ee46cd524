package lesson

import (
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"repdyn/lib/experiment"
	"repdyn/lib/train"
	"repdyn/notebook/cache"
)

// stdout runs f with os.Stdout captured.
func stdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	defer func() { os.Stdout = old }()
	f()
	w.Close()
	return <-done
}

func trainSpec() experiment.Spec {
	s := experiment.Default()
	s.Model, s.Dataset, s.Width = "mlp", experiment.Synthetic, 0.1
	s.Subset, s.TestSubset, s.Epochs, s.Batch, s.Warmup = 128, 256, 3, 32, 0.5
	return s
}

// TestTrain: a notebook training call trains, is interrupted by SIGINT (the
// stop button) with a checkpoint, resumes when called again, is then served
// from the cache (one line saying so), and REPDYN_NOCACHE=1 retrains from
// scratch to the same numbers.
func TestTrain(t *testing.T) {
	c := cache.Open(t.TempDir())
	s := trainSpec()
	// Keep SIGINT from killing the test process whatever the timing.
	hold := make(chan os.Signal, 1)
	signal.Notify(hold, os.Interrupt)
	defer signal.Stop(hold)
	digest, _ := experiment.DataDigest(s.Dataset)
	key, err := cache.RunKey(s.Hash(), digest)
	if err != nil {
		t.Fatal(err)
	}
	// Press "stop" after the 5th step: a real SIGINT to this process.
	testCallbacks = []train.Callback{{OnStep: func(si *train.StepInfo) error {
		if si.Step == 5 {
			syscall.Kill(os.Getpid(), syscall.SIGINT)
			time.Sleep(50 * time.Millisecond) // let the signal arrive
		}
		return nil
	}}}
	defer func() { testCallbacks = nil }()
	var out *experiment.Outcome
	text := stdout(t, func() { out, err = TrainIn(c, s) })
	if err != nil {
		t.Fatal(err)
	}
	testCallbacks = nil
	if !out.Interrupted || out.Steps < 5 || out.Steps >= 12 || !strings.Contains(text, "checkpoint saved; run the cell again to resume") {
		t.Fatalf("interrupted run: %+v\n%s", out, text)
	}
	text = stdout(t, func() { out, err = TrainIn(c, s) })
	if err != nil || out.Interrupted || out.Steps != 12 || len(out.Epochs) != 3 || !strings.Contains(text, "resuming at step") {
		t.Fatalf("resumed run: %+v %v\n%s", out, err, text)
	}
	resumed := out
	text = stdout(t, func() { out, err = TrainIn(c, s) })
	if err != nil || !strings.HasPrefix(text, "from the cache: mlp (width 0.1) on synthetic, trained ") || !strings.Contains(text, "REPDYN_NOCACHE=1 retrains") ||
		!out.Finished.Equal(resumed.Finished) {
		t.Fatalf("cached run: %+v %v\n%s", out, err, text)
	}
	var loaded *experiment.Outcome
	text = stdout(t, func() { loaded, err = LoadIn(c, s) })
	if err != nil || !loaded.Finished.Equal(resumed.Finished) || !strings.HasPrefix(text, "from the cache: ") {
		t.Fatalf("LoadIn: %+v %v\n%s", loaded, err, text)
	}
	if _, err := LoadIn(cache.Open(t.TempDir()), s); err == nil || !strings.Contains(err.Error(), "run the training cell first") {
		t.Errorf("LoadIn from an empty cache: %v", err)
	}
	t.Setenv("REPDYN_NOCACHE", "1")
	text = stdout(t, func() { out, err = TrainIn(c, s) })
	if err != nil || strings.Contains(text, "from the cache") || strings.Contains(text, "resuming") || out.Finished.Equal(resumed.Finished) {
		t.Fatalf("REPDYN_NOCACHE run: %+v %v\n%s", out, err, text)
	}
	if out.Final.EvalLoss != resumed.Final.EvalLoss || out.Final.TrainLoss != resumed.Final.TrainLoss {
		t.Errorf("fresh run %v/%v differs from the interrupted and resumed one %v/%v",
			out.Final.TrainLoss, out.Final.EvalLoss, resumed.Final.TrainLoss, resumed.Final.EvalLoss)
	}
	// A changed spec is another run.
	s.LR = 0.05
	key2, _ := cache.RunKey(s.Hash(), digest)
	if key2 == key {
		t.Error("changing the learning rate kept the key")
	}
	// Bad specs are one-line errors.
	s.Subset = -5
	if _, err := TrainIn(c, s); err == nil || !strings.Contains(err.Error(), "--subset -5") {
		t.Errorf("bad spec: %v", err)
	}
}

func TestRunKeyRefusesWithoutSources(t *testing.T) {
	t.Setenv("REPDYN_ROOT", t.TempDir())
	t.Setenv("REPDYN_LIB_VERSION", "")
	if _, err := cache.RunKey("h", "d"); err == nil || !strings.Contains(err.Error(), "cannot hash the library's sources") {
		t.Errorf("RunKey without sources: %v", err)
	}
}
