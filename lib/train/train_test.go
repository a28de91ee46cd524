package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"repdyn/lib/data"
	"repdyn/lib/internal/cpu"
	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/optim"
	"repdyn/lib/tensor"
)

// tiny returns a small ResNet-20 (width 1/4: 4/8/16 channels, with batch
// norm and projection shortcuts) on 8x8 synthetic images.
func tinyModel(t testing.TB, seed uint64) *models.Model[float32] {
	t.Helper()
	m, err := models.New[float32]("resnet20", models.Config{InChannels: 3, NumClasses: 4, Width: 0.25, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tinyData(t testing.TB, n int, seed uint64) *data.Dataset {
	t.Helper()
	ds, err := data.Synthetic(data.SynthConfig{N: n, C: 3, H: 8, W: 8, Classes: 4, Noise: 0.3, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

type setup struct {
	model *models.Model[float32]
	opt   optim.Optimizer[float32]
	cfg   Config[float32]
}

// newSetup: 80 training images in batches of 16 (5 per epoch), SGD with
// Nesterov momentum and weight decay, warm-up + cosine, crop/flip
// augmentation, evaluation on 32 images.
func newSetup(t testing.TB, dir string, maxSteps int, useAdam bool) *setup {
	t.Helper()
	m := tinyModel(t, 7)
	var opt optim.Optimizer[float32]
	var err error
	if useAdam {
		c := optim.DefaultAdamW()
		c.LR = 3e-3
		opt, err = optim.NewAdamW(m.Params(), c)
	} else {
		opt, err = optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4})
	}
	if err != nil {
		t.Fatal(err)
	}
	st := data.Stats{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}
	return &setup{model: m, opt: opt, cfg: Config[float32]{
		Model: m, Optimizer: opt, Schedule: optim.Warmup(optim.Cosine(0.1, 0.001, 12), 3),
		Train: tinyData(t, 80, 1), Eval: tinyData(t, 32, 2), BatchSize: 16,
		Augment: &data.Augment{Pad: 1, FlipH: true, Norm: &st}, EvalBatch: 16,
		Epochs: 3, MaxSteps: maxSteps, Seed: 11, OutDir: dir, KeepBest: true,
		ModelSpec: map[string]any{"name": "resnet20", "width": 0.25},
	}}
}

func snapshot[T nn.Float](m nn.Module[T]) map[string][]T {
	r := map[string][]T{}
	for k, v := range nn.StateDict(m) {
		r[k] = slices.Clone(v)
	}
	return r
}

func sameState(t *testing.T, what string, a, b map[string][]float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d tensors", what, len(a), len(b))
	}
	for k, va := range a {
		vb := b[k]
		for i := range va {
			if math.Float32bits(va[i]) != math.Float32bits(vb[i]) {
				t.Fatalf("%s: %s[%d] = %v vs %v (not bit-identical)", what, k, i, va[i], vb[i])
			}
		}
	}
}

func run(t *testing.T, s *setup, ctx context.Context) (*Result, *History, error) {
	t.Helper()
	h := &History{}
	s.cfg.Callbacks = append(s.cfg.Callbacks, h.Callback())
	tr, err := New(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(ctx)
	return res, h, err
}

func TestDeterministic(t *testing.T) {
	a := newSetup(t, "", 0, false)
	a.cfg.Epochs = 2
	ra, ha, err := run(t, a, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := newSetup(t, "", 0, false)
	b.cfg.Epochs = 2
	b.cfg.Prefetch = -1 // prefetching must not matter
	_, hb, err := run(t, b, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	la, lb := ha.Losses(), hb.Losses()
	if len(la) != 10 || !slices.Equal(la, lb) {
		t.Fatalf("losses differ:\n%v\n%v", la, lb)
	}
	sameState(t, "params", snapshot[float32](a.model), snapshot[float32](b.model))
	if len(ha.Epochs) != 2 || !ha.Epochs[1].HasEval || ra.State.Step != 10 || !ra.State.Done {
		t.Fatalf("epochs %+v state %+v", ha.Epochs, ra.State)
	}
	if la[0] == la[len(la)-1] {
		t.Error("loss did not change")
	}
	c := newSetup(t, "", 0, false)
	c.cfg.Epochs = 2
	c.cfg.Seed = 12
	_, hc, err := run(t, c, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(la, hc.Losses()) {
		t.Error("another seed gave the same losses")
	}
}

// TestResumeExact interrupts runs at several steps (mid-epoch, at an epoch
// boundary, in the evaluation) and resumes them from the checkpoint: the
// final parameters, buffers and optimizer state must be bit-identical to an
// uninterrupted run's.
func TestResumeExact(t *testing.T) {
	const total = 12 // 2 full epochs of 5 steps and 2 steps of the third
	for _, adam := range []bool{false, true} {
		ref := newSetup(t, t.TempDir(), total, adam)
		rres, rh, err := run(t, ref, context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := snapshot[float32](ref.model)
		wantOpt := ref.opt.State()
		for _, j := range []int{3, 5, 0} {
			dir := t.TempDir()
			a := newSetup(t, dir, total, adam)
			ctx, cancel := context.WithCancel(context.Background())
			if j > 0 {
				a.cfg.Callbacks = []Callback{{OnStep: func(s *StepInfo) error {
					if s.Step == j {
						cancel()
					}
					return nil
				}}}
			} else {
				// j = 0: cancel at the start of the first evaluation.
				testHookEval = cancel
			}
			_, _, err := run(t, a, ctx)
			cancel()
			testHookEval = nil
			if j == 0 && (err == nil || !strings.Contains(err.Error(), "during evaluation")) {
				t.Fatalf("j=0: %v, want an interrupt during evaluation", err)
			}
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("j=%d: Run returned %v, want ErrInterrupted", j, err)
			}
			b := newSetup(t, dir, total, adam)
			b.cfg.Resume = "auto"
			res, h, err := run(t, b, context.Background())
			if err != nil {
				t.Fatalf("j=%d: resumed run: %v", j, err)
			}
			if res.State.Step != total || !res.State.Done {
				t.Fatalf("j=%d: resumed run ended at %+v", j, res.State)
			}
			sameState(t, "resumed params", want, snapshot[float32](b.model))
			got := b.opt.State()
			if got.Steps != wantOpt.Steps || len(got.Tensors) != len(wantOpt.Tensors) {
				t.Fatalf("optimizer state: %d steps %d tensors, want %d %d", got.Steps, len(got.Tensors), wantOpt.Steps, len(wantOpt.Tensors))
			}
			for i, tt := range got.Tensors {
				if !slices.Equal(tt.Data, wantOpt.Tensors[i].Data) {
					t.Fatalf("optimizer tensor %s differs", tt.Name)
				}
			}
			{
				// The resumed run's step losses continue the reference's.
				from := j
				if j == 0 {
					from = 5
				}
				rl := rh.Losses()
				if got := h.Losses(); !slices.Equal(got, rl[from:]) {
					t.Fatalf("j=%d: resumed losses %v, want %v", j, got, rl[from:])
				}
				if n := len(res.State.History); n != len(rres.State.History) {
					t.Fatalf("history has %d epochs, want %d", n, len(rres.State.History))
				}
				for i, e := range res.State.History {
					r := rres.State.History[i]
					if e.TrainLoss != r.TrainLoss || e.TrainAcc != r.TrainAcc || e.EvalAcc != r.EvalAcc || e.EvalLoss != r.EvalLoss {
						t.Fatalf("epoch %d metrics %+v, want %+v", i, e, r)
					}
				}
			}
		}
	}
}

// slowLoss is cross-entropy that sleeps during the steps after the first,
// so that an interrupt catches a step in the middle.
type slowLoss struct {
	nn.CrossEntropy[float32]
	calls int
	delay time.Duration
}

func (l *slowLoss) Forward(y *tensor.Tensor[float32], labels []int) (float64, *tensor.Tensor[float32], error) {
	l.calls++
	if l.calls > 2 {
		time.Sleep(l.delay)
	}
	return l.CrossEntropy.Forward(y, labels)
}

// TestInterruptSignal sends the process SIGINT while a (slow) step runs:
// Run must return within 2 s with a checkpoint of the state before that
// step, the model must be as before the step, and resuming must reproduce
// the uninterrupted run exactly.
func TestInterruptSignal(t *testing.T) {
	const total = 6
	ref := newSetup(t, "", total, false)
	if _, _, err := run(t, ref, context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := newSetup(t, dir, total, false)
	a.cfg.Loss = &slowLoss{delay: 3 * time.Second}
	a.cfg.InterruptGrace = 300 * time.Millisecond
	var before map[string][]float32
	sent := make(chan time.Time, 1)
	a.cfg.Callbacks = []Callback{{OnStep: func(s *StepInfo) error {
		if s.Step == 2 {
			before = snapshot[float32](a.model)
			go func() {
				time.Sleep(200 * time.Millisecond) // inside step 3's sleep
				sent <- time.Now()
				syscall.Kill(os.Getpid(), syscall.SIGINT)
			}()
		}
		return nil
	}}}
	ctx, stop := SignalContext(context.Background())
	defer stop()
	_, _, err := run(t, a, ctx)
	returned := time.Now()
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run returned %v, want ErrInterrupted", err)
	}
	if !strings.Contains(err.Error(), "abandoned") {
		t.Errorf("error %q does not say the step was abandoned", err)
	}
	// Run waits for the abandoned step to drain (3 s sleep), so measure
	// when the checkpoint appeared instead of when Run returned.
	fi, serr := os.Stat(filepath.Join(dir, "last.safetensors"))
	if serr != nil {
		t.Fatal(serr)
	}
	sig := <-sent
	if d := fi.ModTime().Sub(sig); d > 2*time.Second || d < 0 {
		t.Errorf("checkpoint written %v after the signal, want < 2 s", d)
	}
	t.Logf("checkpoint %v after SIGINT; Run returned %v after it", fi.ModTime().Sub(sig), returned.Sub(sig))
	sameState(t, "model after abandoned step", before, snapshot[float32](a.model))
	c, err := Open(filepath.Join(dir, "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Step != 2 || c.State.Batch != 2 || !c.State.Interrupted {
		t.Fatalf("checkpoint state %+v, want step 2", c.State)
	}
	b := newSetup(t, dir, total, false)
	b.cfg.Resume = "auto"
	if _, _, err := run(t, b, context.Background()); err != nil {
		t.Fatal(err)
	}
	sameState(t, "resumed after abandoned step", snapshot[float32](ref.model), snapshot[float32](b.model))
}

// TestInterruptBetweenSteps: a canceled context with quick steps stops at
// once after the current step.
func TestInterruptBetweenSteps(t *testing.T) {
	a := newSetup(t, t.TempDir(), 0, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, _, err := run(t, a, ctx)
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if res.State.Step != 0 || res.LastCheckpoint == "" {
		t.Fatalf("result %+v", res)
	}
}

func TestNaNParameter(t *testing.T) {
	a := newSetup(t, "", 8, false)
	a.cfg.Callbacks = []Callback{{OnStep: func(s *StepInfo) error {
		if s.Step == 3 {
			for _, p := range a.model.Params() {
				if p.Name == "layer2.0.conv1.weight" {
					p.Data[5] = float32(math.NaN())
				}
			}
		}
		return nil
	}}}
	_, _, err := run(t, a, context.Background())
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Where != "parameter" || nf.Name != "layer2.0.conv1.weight" || nf.Step != 3 {
		t.Fatalf("err = %v (%+v)", err, nf)
	}
	t.Log(err)
}

func TestInfActivation(t *testing.T) {
	a := newSetup(t, "", 8, false)
	a.cfg.Callbacks = []Callback{{OnStep: func(s *StepInfo) error {
		if s.Step == 2 {
			for _, p := range a.model.Params() {
				if p.Name == "layer3.1.conv2.weight" {
					for i := range p.Data {
						p.Data[i] = 3e38
					}
				}
			}
		}
		return nil
	}}}
	_, _, err := run(t, a, context.Background())
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Where != "forward" || nf.Name != "layer3.1.conv2" {
		t.Fatalf("err = %v (%+v)", err, nf)
	}
	t.Log(err)
}

// nanGradLoss returns a finite loss but a NaN in the gradient of one logit.
type nanGradLoss struct{ nn.CrossEntropy[float32] }

func (l *nanGradLoss) Forward(y *tensor.Tensor[float32], labels []int) (float64, *tensor.Tensor[float32], error) {
	v, g, err := l.CrossEntropy.Forward(y, labels)
	g.Data()[1] = float32(math.NaN())
	return v, g, err
}

func TestNaNGradient(t *testing.T) {
	a := newSetup(t, "", 3, false)
	a.cfg.Loss = &nanGradLoss{}
	before := snapshot[float32](a.model)
	_, _, err := run(t, a, context.Background())
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Where != "gradient" || nf.Name != "fc.bias" {
		t.Fatalf("err = %v (%+v)", err, nf)
	}
	// The failing step made no update and left the buffers as they were.
	sameState(t, "model after failed step", before, snapshot[float32](a.model))
}

func TestNaNInput(t *testing.T) {
	a := newSetup(t, "", 3, false)
	for i := 0; i < a.cfg.Train.N; i++ {
		a.cfg.Train.Images[i*a.cfg.Train.ImageSize()+100] = float32(math.Inf(1))
	}
	_, _, err := run(t, a, context.Background())
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Where != "input" {
		t.Fatalf("err = %v (%+v)", err, nf)
	}
}

func TestCheckpointMismatch(t *testing.T) {
	dir := t.TempDir()
	m := tinyModel(t, 1)
	p := filepath.Join(dir, "m.safetensors")
	if err := Save[float32](p, m, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	c, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	m32, _ := models.New[float32]("resnet32", models.Config{NumClasses: 4, Width: 0.25})
	if err := c.LoadModel(m32); err == nil || !strings.Contains(err.Error(), `"layer1.3.conv1.weight"`) {
		t.Errorf("resnet20 checkpoint into resnet32: %v", err)
	}
	wide, _ := models.New[float32]("resnet20", models.Config{NumClasses: 4, Width: 0.5})
	if err := c.LoadModel(wide); err == nil || !strings.Contains(err.Error(), `"conv1.weight"`) {
		t.Errorf("width mismatch: %v", err)
	}
	m56, _ := models.New[float32]("resnet32", models.Config{NumClasses: 4, Width: 0.25})
	p2 := filepath.Join(dir, "m32.safetensors")
	if err := Save[float32](p2, m56, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	c2, _ := Open(p2)
	if err := c2.LoadModel(m); err == nil || !strings.Contains(err.Error(), `"layer1.3.`) || !strings.Contains(err.Error(), "is not in the model") {
		t.Errorf("resnet32 checkpoint into resnet20: %v", err)
	}
	// float64 model from a float32 checkpoint.
	m64, _ := models.New[float64]("resnet20", models.Config{NumClasses: 4, Width: 0.25})
	if err := c.LoadModel(m64); err != nil {
		t.Fatal(err)
	}
	if float32(m64.Params()[0].Data[3]) != m.Params()[0].Data[3] {
		t.Error("float64 load differs")
	}
}

// TestFashionMNISTSmoke trains for one epoch on 2048 Fashion-MNIST images:
// an MLP (fast everywhere) and, with the assembly kernels, a half-width
// ResNet-20 (SMOKE="N batch lr width" and SMOKE_MODEL=name override the
// ResNet set-up).
func TestFashionMNISTSmoke(t *testing.T) {
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"); err != nil {
		t.Skip("Fashion-MNIST not installed in /usr/share/datasets/fashion-mnist")
	}
	opts := &data.Options{Offline: true}
	tr, err := data.Load("fashion-mnist", data.Train, opts)
	if err != nil {
		t.Fatal(err)
	}
	te, err := data.Load("fashion-mnist", data.Test, opts)
	if err != nil {
		t.Fatal(err)
	}
	te = te.First(512)
	t.Run("mlp", func(t *testing.T) { smoke(t, tr, te, "mlp", 2048, 32, 0.05, 1, 0.6) })
	t.Run("resnet20", func(t *testing.T) {
		if !cpu.HasAVX2() || os.Getenv("REPDYN_NOASM") != "" {
			t.Skip("portable kernels: too slow for a default test")
		}
		nTrain, bs, lr, width := 2048, 32, 0.05, 0.5
		if v := os.Getenv("SMOKE"); v != "" {
			fmt.Sscan(v, &nTrain, &bs, &lr, &width)
		}
		arch := "resnet20"
		if v := os.Getenv("SMOKE_MODEL"); v != "" {
			arch = v
		}
		smoke(t, tr, te, arch, nTrain, bs, lr, width, 0.25)
	})
}

func smoke(t *testing.T, tr, te *data.Dataset, arch string, nTrain, bs int, lr, width, minAcc float64) {
	tr = tr.First(nTrain)
	m, err := models.New[float32](arch, models.Config{InChannels: 1, NumClasses: 10, Width: width, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.NewSGD(m.Params(), optim.SGDConfig{LR: lr, Momentum: 0.9, WeightDecay: 5e-4})
	st := data.ComputeStats(tr)
	trn, err := New(Config[float32]{Model: m, Optimizer: opt, Schedule: optim.Warmup(optim.Constant(lr), 4),
		Train: tr, Eval: te, BatchSize: bs, Augment: &data.Augment{Norm: &st}, Epochs: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := trn.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := res.Final
	t.Logf("%s: 1 epoch on %d images: train loss %.3f acc %.3f, test acc %.3f, %.0f img/s", arch, nTrain, e.TrainLoss, e.TrainAcc, e.EvalAcc, e.ImagesPerSec)
	if !e.HasEval || e.EvalAcc < minAcc || e.TrainLoss > 2.0 {
		t.Errorf("after one epoch: test accuracy %.3f (want > %v), train loss %.3f (want < 2)", e.EvalAcc, minAcc, e.TrainLoss)
	}
}

// TestFloat64 trains a float64 model (the theory toolkit's type) and checks
// that its checkpoint is F64 and resumes.
func TestFloat64(t *testing.T) {
	dir := t.TempDir()
	mk := func(resume string, max int) (*models.Model[float64], *Result) {
		m, err := models.New[float64]("resnet20", models.Config{NumClasses: 4, Width: 0.25, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		opt, _ := optim.NewAdam(m.Params(), optim.DefaultAdam())
		tr, err := New(Config[float64]{Model: m, Optimizer: opt, Train: tinyData(t, 64, 1), BatchSize: 16,
			MaxSteps: max, Seed: 5, OutDir: dir, Resume: resume})
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return m, res
	}
	_, res := mk("", 2)
	c, err := Open(res.LastCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.DType != "float64" || c.File.Tensors[0].DType != "F64" {
		t.Fatalf("dtype %s / %s", c.State.DType, c.File.Tensors[0].DType)
	}
	m2, res := mk("auto", 5)
	if res.State.Step != 5 {
		t.Fatalf("resumed run ended at step %d", res.State.Step)
	}
	dir = t.TempDir()
	m3, _ := mk("", 5)
	for i, p := range m2.Params() {
		if !slices.Equal(p.Data, m3.Params()[i].Data) {
			t.Fatalf("%s differs between resumed and uninterrupted float64 runs", p.Name)
		}
	}
}

type panicLoss struct{ nn.CrossEntropy[float32] }

func (l *panicLoss) Forward(*tensor.Tensor[float32], []int) (float64, *tensor.Tensor[float32], error) {
	panic("boom")
}

// TestStepPanic: a panic inside a step comes back as an error from Run.
func TestStepPanic(t *testing.T) {
	a := newSetup(t, "", 2, false)
	a.cfg.Loss = &panicLoss{}
	var out strings.Builder
	a.cfg.Callbacks = []Callback{Progress(&out, 1)}
	_, _, err := run(t, a, context.Background())
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("err = %v", err)
	}
}

func TestProgress(t *testing.T) {
	a := newSetup(t, "", 0, false)
	a.cfg.Epochs = 1
	var out strings.Builder
	a.cfg.Callbacks = []Callback{Progress(&out, 2)}
	if _, _, err := run(t, a, context.Background()); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "epoch 1 step 2/5: loss ") || !strings.Contains(s, "epoch 1 step 4/5") ||
		!strings.Contains(s, "epoch 1 done (step 5,") || !strings.Contains(s, "; eval loss ") {
		t.Errorf("progress output:\n%s", s)
	}
}
