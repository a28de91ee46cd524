package experiment

import (
	"context"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"repdyn/lib/train"
)

func tiny() Spec {
	s := Default()
	s.Model, s.Dataset, s.Width = "mlp", Synthetic, 0.05
	s.Subset, s.TestSubset, s.Epochs, s.Batch, s.MaxSteps = 64, 64, 2, 32, 3
	return s
}

func TestValidate(t *testing.T) {
	if err := tiny().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*Spec)
		want string
	}{
		{func(s *Spec) { s.Model, s.Dataset = "", "" }, "--model and --dataset are required"},
		{func(s *Spec) { s.Model = "resnet21" }, `unknown model "resnet21"`},
		{func(s *Spec) { s.Dataset = "cifar11" }, `unknown dataset "cifar11"`},
		{func(s *Spec) { s.Optimizer = "lbfgs" }, `unknown --optimizer "lbfgs"`},
		{func(s *Spec) { s.Schedule = "linear" }, `unknown --schedule "linear"`},
		{func(s *Spec) { s.Flip = "maybe" }, `--flip "maybe"`},
		{func(s *Spec) { s.Subset = -5 }, "--subset -5: must be >= 0"},
		{func(s *Spec) { s.TestSubset = -1 }, "--test-subset -1"},
		{func(s *Spec) { s.Width = 0 }, "--width 0: must be in (0, 64]"},
		{func(s *Spec) { s.Width = 1e5 }, "--width 100000"},
		{func(s *Spec) { s.Width = math.NaN() }, "--width NaN"},
		{func(s *Spec) { s.Epochs = 0 }, "--epochs 0: must be in 1.."},
		{func(s *Spec) { s.MaxSteps = -1 }, "--max-steps -1"},
		{func(s *Spec) { s.Batch = 0 }, "--batch 0"},
		{func(s *Spec) { s.LR = -0.1 }, "--lr -0.1"},
		{func(s *Spec) { s.LR = math.Inf(1) }, "--lr +Inf"},
		{func(s *Spec) { s.Momentum = 1 }, "--momentum 1"},
		{func(s *Spec) { s.WD = -1 }, "--wd -1"},
		{func(s *Spec) { s.Warmup = 3 }, "--warmup 3: must be in [0, --epochs 2]"},
		{func(s *Spec) { s.Gamma = 0 }, "--gamma 0"},
		{func(s *Spec) { s.EtaMin = -1 }, "--eta-min -1"},
		{func(s *Spec) { s.Pad = -2 }, "--pad -2"},
		{func(s *Spec) { s.StepEpochs = -1 }, "--step-epochs -1"},
		{func(s *Spec) { s.Milestones = "1,x" }, `--milestones "1,x"`},
	} {
		s := tiny()
		c.edit(&s)
		err := s.Validate()
		var e *Error
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") || !errors.As(err, &e) {
			t.Errorf("%+v: got %v, want a one-line *Error containing %q", s, err, c.want)
		}
	}
}

func TestHash(t *testing.T) {
	a := tiny()
	// The canonical hash of a fixed spec never changes silently: cache keys
	// and checkpoints depend on it. Update this constant only together with
	// hashVersion.
	const golden = "4b18657d088a48a7aab3d8e940706997"
	if got := a.Hash(); len(got) != 64 || got[:32] != golden {
		t.Errorf("Hash() = %s, want prefix %s (changing the hash invalidates every cache entry: bump hashVersion)", got, golden)
	}
	b := a
	b.Flip = "true" // synthetic is not a digit set: auto means true
	c := a
	c.Schedule, b.Schedule = "constant", "const"
	c.Schedule = "const"
	if b.Hash() != c.Hash() {
		t.Errorf("equivalent specs hash differently: %s vs %s", b.Hash(), c.Hash())
	}
	d := a
	d.LR = 0.2
	if d.Hash() == a.Hash() {
		t.Error("changing lr did not change the hash")
	}
	m := a
	m.Dataset = "mnist"
	m2 := m
	m2.Flip = "false" // digits: auto means false
	if m.Hash() != m2.Hash() {
		t.Error("flip auto and false differ on mnist")
	}
	// JSON round trip keeps the hash.
	p, err := Parse(a.JSON())
	if err != nil || p != a || p.Hash() != a.Hash() {
		t.Fatalf("Parse(JSON()) = %+v, %v", p, err)
	}
	if _, err := Parse([]byte(`{"model": "mlp", "learning_rate": 3}`)); err == nil || !strings.Contains(err.Error(), "learning_rate") {
		t.Errorf("unknown field: %v", err)
	}
	if p, err := Parse([]byte(`{"model": "mlp", "dataset": "mnist"}`)); err != nil || p.LR != 0.1 || p.Epochs != 30 {
		t.Errorf("Parse does not start from the defaults: %+v %v", p, err)
	}
}

func TestDiff(t *testing.T) {
	a, b := tiny(), tiny()
	b.LR, b.Schedule, b.WD, b.Epochs = 5, "const", 0, 10
	got := strings.Join(Diff(a, b), "; ")
	want := "--lr 5 differs from the checkpoint's 0.1; --wd 0 differs from the checkpoint's 0.0005; --schedule const differs from the checkpoint's cosine"
	if got != want {
		t.Errorf("Diff:\n got %s\nwant %s", got, want)
	}
}

func TestFlagsAndSpecFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "spec.json")
	base := tiny()
	base.LR = 0.3
	if err := os.WriteFile(file, base.JSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Default()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	final := Flags(fs, &s)
	if err := fs.Parse([]string{"--spec", file, "--lr", "0.05", "--seed", "7"}); err != nil {
		t.Fatal(err)
	}
	got, err := final()
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.LR, want.Seed = 0.05, 7
	if got != want {
		t.Errorf("spec file + flags:\n got %+v\nwant %+v", got, want)
	}
}

func run(t *testing.T, s Spec, dir string, mode Mode) (*Outcome, error) {
	t.Helper()
	r, err := Open(s, dir, Options{Mode: mode})
	if err != nil {
		return nil, err
	}
	return r.Run(context.Background())
}

func TestOpenModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	s := tiny()
	out, err := run(t, s, dir, New)
	if err != nil {
		t.Fatal(err)
	}
	if out.Steps != 3 || out.Hash != s.Hash() || out.Spec.Pad != 4 || out.Spec.Flip != "true" || out.Data.TrainN != 64 {
		t.Fatalf("outcome %+v", out)
	}
	// New into a folder holding a run: refused, nothing touched.
	before, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if _, err := run(t, s, dir, New); err == nil || !strings.Contains(err.Error(), "already holds a run (last.safetensors, best.safetensors, metrics.jsonl)") {
		t.Fatalf("new run into an existing folder: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl")); string(after) != string(before) {
		t.Error("the refused run changed metrics.jsonl")
	}
	// Resume with a changed configuration names every difference.
	c := s
	c.LR, c.Schedule, c.WD, c.Flip, c.Pad, c.TestSubset = 5, "const", 0, "false", 0, 32
	_, err = run(t, c, dir, Resume)
	for _, w := range []string{"--lr 5 differs from the checkpoint's 0.1", "--wd 0 differs", "--schedule const differs from the checkpoint's cosine",
		"--pad 0 differs from the checkpoint's 4", "--flip false differs from the checkpoint's true", "--test-subset 32 differs"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("resume with changed flags: %v, want %q", err, w)
		}
	}
	// Resume with more steps continues.
	m := s
	m.MaxSteps = 4
	out, err = run(t, m, dir, Resume)
	if err != nil || out.Steps != 4 {
		t.Fatalf("resume: %+v %v", out, err)
	}
	// A changed dataset digest is named too.
	b, err := s.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Data.Digest = "0123456789abcdef"
	if err := checkResume(b, filepath.Join(dir, "last.safetensors")); err == nil || !strings.Contains(err.Error(), "dataset synthetic: its files differ from the checkpoint's (digest 0123456789ab") {
		t.Errorf("digest: %v", err)
	}
	// Fresh starts over: one run's metrics only.
	out, err = run(t, s, dir, Fresh)
	if err != nil || out.Steps != 3 {
		t.Fatalf("fresh: %+v %v", out, err)
	}
	lines, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if n := strings.Count(string(lines), "\n"); n != 2 {
		t.Errorf("metrics.jsonl after --fresh has %d lines, want 2 (one run of 2 epochs):\n%s", n, lines)
	}
	// The outcome reloads and evaluates to the accuracy it recorded.
	loss, acc, err := out.Evaluate(context.Background(), nil)
	if err != nil || acc != out.Final.EvalAcc || loss != out.Final.EvalLoss {
		t.Errorf("Evaluate: %v %v %v, want %v %v", loss, acc, err, out.Final.EvalLoss, out.Final.EvalAcc)
	}
}

func TestOpenValidatesBeforeCreating(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	s := tiny()
	s.Epochs = 0
	if _, err := Open(s, dir, Options{}); err == nil {
		t.Fatal("epochs 0 accepted")
	}
	s = tiny()
	s.Batch = 65 // more than the 64 training images
	if _, err := Open(s, dir, Options{}); err == nil || !strings.Contains(err.Error(), "--batch 65: must be in 1..64") {
		t.Fatalf("batch: %v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a rejected spec created the run folder")
	}
}

func TestInterruptedOutcome(t *testing.T) {
	dir := t.TempDir()
	s := tiny()
	ctx, cancel := context.WithCancelCause(context.Background())
	r, err := Open(s, dir, Options{Mode: Resume, Callbacks: []train.Callback{{OnStep: func(si *train.StepInfo) error {
		if si.Step == 1 {
			cancel(train.ErrInterrupted)
		}
		return nil
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Run(ctx)
	if !errors.Is(err, train.ErrInterrupted) || out == nil || !out.Interrupted || out.Steps != 1 {
		t.Fatalf("interrupted run: %+v %v", out, err)
	}
	r, err = Open(s, dir, Options{Mode: Resume})
	if err != nil || r.Resumed != 1 {
		t.Fatalf("reopen: %v resumed %v", err, r)
	}
	if out, err = r.Run(context.Background()); err != nil || out.Steps != 3 || out.Interrupted {
		t.Fatalf("resumed run: %+v %v", out, err)
	}
}
