// Package train runs the training loop of repdyn's image classifiers:
// mini-batch steps with an optimizer and a learning-rate schedule,
// evaluation after every epoch, metrics through callbacks, checkpoints that
// resume bit-exactly, clean interruption, and NaN/Inf detection.
//
// # Use
//
//	tr, err := train.New(train.Config[float32]{
//		Model: model, Optimizer: opt, Schedule: sched,
//		Train: trainSet, Eval: testSet, BatchSize: 128,
//		Augment: &data.Augment{Pad: 4, FlipH: true, Norm: &stats},
//		Epochs: 30, Seed: 1, OutDir: "runs/r20",
//		Callbacks: []train.Callback{train.Progress(os.Stdout, 100)},
//	})
//	ctx, stop := train.SignalContext(context.Background())
//	defer stop()
//	res, err := tr.Run(ctx)
//
// # Determinism
//
// Everything random in a run is a function of its seeds: the model's
// initialisation (the caller's), the data order and augmentation (the
// loader's, a function of Config.Seed, the epoch and the batch index) and
// dropout masks (the layers'). The kernels are deterministic for any thread
// count, so the same configuration gives bit-identical losses and
// parameters, run after run.
//
// # Interruption (the notebook contract)
//
// Run takes a context. When it is canceled — SignalContext cancels it on
// SIGINT or SIGTERM, which is what Jupyter's "interrupt" sends to a GoNB cell
// process before killing it about 5 s later — Run stops within about 2
// seconds: it lets the current step finish if it does so within
// Config.InterruptGrace (default 1 s), and otherwise abandons it (the
// optimizer update is skipped and the batch-norm running statistics the
// abandoned forward pass touched are restored), writes OutDir/last.safetensors
// describing the state after the last completed step, and returns an error
// that satisfies errors.Is(err, ErrInterrupted). Run waits for an abandoned
// step's computation to drain after the checkpoint is written, so the model
// is consistent when Run returns. Since every GoNB cell is a new process, a
// training cell should set Resume: "auto": running the cell again after an
// interrupt continues the run exactly where it stopped.
//
// # Checkpoints and resuming
//
// A checkpoint is a safetensors file (lib/checkpoint, written atomically):
// the model's parameters and buffers under their PyTorch state_dict names,
// the optimizer's buffers under "optim.<param>.<buffer>", and in the
// metadata the JSON State (epoch, batch within the epoch, step, seed, best
// accuracy, per-epoch history, partial-epoch metric sums) and the caller's
// ModelSpec. OutDir/last.safetensors is rewritten after every epoch, every
// CheckpointEvery steps, on interruption and at the end; with KeepBest,
// OutDir/best.safetensors holds the epoch with the best evaluation accuracy.
// Config.Resume (or Trainer.Resume) restores everything, and the data loader
// is re-positioned at the same batch of the same epoch, so an interrupted and
// resumed run ends with exactly the parameters of an uninterrupted one.
//
// # NaN and Inf
//
// After each forward pass the loss is checked, and after each backward pass
// the gradients; a non-finite value stops the run before the optimizer
// update with a *NonFiniteError naming where it came from: the input batch,
// the first parameter or buffer (in model order) holding a non-finite value,
// the first layer whose output is non-finite (found by re-running the forward
// pass layer by layer), or the first parameter gradient that is non-finite in
// backpropagation order.
//
// # Command line
//
// `repdyn train` wraps this package (see `repdyn train -h`); `repdyn eval`
// evaluates a checkpoint and `repdyn bench train` measures training and
// inference throughput. The reference long run (not a test: about 7-10
// minutes per epoch on 2 shared cores; ResNet-20 should pass 93% test accuracy
// on Fashion-MNIST):
//
//	repdyn train --model resnet20 --dataset fashion-mnist --epochs 15 --batch 128 \
//	    --optimizer sgd --lr 0.1 --momentum 0.9 --nesterov --wd 5e-4 \
//	    --schedule cosine --warmup 1 --seed 1 --out runs/r20-fmnist --checkpoint-every 100
//
// (Ctrl-C it at any time; the same command with --resume continues it.)
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"repdyn/lib/data"
	"repdyn/lib/nn"
	"repdyn/lib/optim"
	"repdyn/lib/tensor"
)

// ErrInterrupted is returned (wrapped) by Run when its context is canceled.
var ErrInterrupted = errors.New("training interrupted")

// testHookEval, if set (by tests), runs before each end-of-epoch evaluation.
var testHookEval func()

// ErrStop may be returned by a callback to end training early without error.
var ErrStop = errors.New("stop training")

// Config describes a training run.
type Config[T nn.Float] struct {
	Model     nn.Module[T]
	Loss      Loss[T] // nil: cross-entropy (nn.CrossEntropy)
	Optimizer optim.Optimizer[T]
	// Schedule gives the learning rate of each step; nil keeps the
	// optimizer's learning rate at New constant.
	Schedule optim.Schedule

	Train *data.Dataset
	Eval  *data.Dataset // nil: no evaluation
	// BatchSize is the training batch size; the training set is shuffled
	// every epoch.
	BatchSize int
	// DropLast drops the last, smaller batch of each epoch.
	DropLast bool
	// Augment is the per-image training transform (crop, flip,
	// normalisation); nil: none.
	Augment *data.Augment
	// EvalNorm normalises evaluation images; nil: Augment.Norm.
	EvalNorm *data.Stats
	// EvalBatch is the evaluation batch size (default 256).
	EvalBatch int
	// Prefetch is how many batches a goroutine prepares ahead (default 2;
	// negative: none).
	Prefetch int

	Epochs int
	// MaxSteps, if positive, ends training after this many optimizer steps
	// in total (possibly in the middle of an epoch).
	MaxSteps int
	// Seed seeds the data order and augmentation.
	Seed uint64

	// OutDir receives last.safetensors (and best.safetensors); "" writes
	// no checkpoints.
	OutDir string
	// CheckpointEvery also writes last.safetensors every this many steps
	// (0: only at epoch ends, on interruption and at the end).
	CheckpointEvery int
	// KeepBest keeps best.safetensors, the epoch of best evaluation accuracy.
	KeepBest bool
	// ModelSpec is stored (as JSON) in checkpoints so that tools can rebuild
	// the model (e.g. {"name": "resnet20", ...}); may be nil.
	ModelSpec any
	// Resume is a checkpoint to resume from; "auto" means
	// OutDir/last.safetensors if it exists (a fresh start otherwise).
	Resume string

	Callbacks []Callback

	// NoGradCheck skips the per-step scan of the gradients for NaN/Inf
	// (the loss is always checked).
	NoGradCheck bool
	// InterruptGrace is how long an interrupted step may still take to
	// complete before it is abandoned (default 1 s).
	InterruptGrace time.Duration
}

// Result summarises a finished (or interrupted) run.
type Result struct {
	State          State
	LastCheckpoint string // "" if none was written
	BestCheckpoint string
	// Final is the last epoch's (or, when MaxSteps ended the run
	// mid-epoch, the partial epoch's) metrics.
	Final EpochInfo
}

// Trainer runs a Config. Use New, optionally Resume, then Run.
type Trainer[T nn.Float] struct {
	cfg   Config[T]
	st    State
	sched optim.Schedule
	loss  Loss[T]

	// step machinery
	mu        sync.Mutex
	abandon   bool
	committed bool
	snap      [][]T // buffer snapshot taken before each step
	stepDone  chan struct{}
	drain     func() // waits for an abandoned evaluation batch
	xbuf      []T
	labels    []int

	lastCkpt, bestCkpt string
}

// New validates cfg and returns a trainer at the start of training (or at
// the checkpoint named by cfg.Resume).
func New[T nn.Float](cfg Config[T]) (*Trainer[T], error) {
	switch {
	case cfg.Model == nil:
		return nil, fmt.Errorf("train: Config.Model is nil")
	case cfg.Optimizer == nil:
		return nil, fmt.Errorf("train: Config.Optimizer is nil")
	case cfg.Train == nil || cfg.Train.N == 0:
		return nil, fmt.Errorf("train: Config.Train is empty")
	case cfg.BatchSize <= 0:
		return nil, fmt.Errorf("train: Config.BatchSize must be positive, got %d", cfg.BatchSize)
	case cfg.Epochs <= 0 && cfg.MaxSteps <= 0:
		return nil, fmt.Errorf("train: set Config.Epochs or Config.MaxSteps")
	case cfg.DropLast && cfg.Train.N < cfg.BatchSize:
		return nil, fmt.Errorf("train: DropLast with %d training images and batch size %d leaves no batch", cfg.Train.N, cfg.BatchSize)
	}
	if cfg.Epochs <= 0 {
		cfg.Epochs = math.MaxInt32
	}
	if cfg.EvalBatch <= 0 {
		cfg.EvalBatch = 256
	}
	if cfg.Prefetch == 0 {
		cfg.Prefetch = 2
	} else if cfg.Prefetch < 0 {
		cfg.Prefetch = 0
	}
	if cfg.InterruptGrace <= 0 {
		cfg.InterruptGrace = time.Second
	}
	if cfg.EvalNorm == nil && cfg.Augment != nil {
		cfg.EvalNorm = cfg.Augment.Norm
	}
	t := &Trainer[T]{cfg: cfg, sched: cfg.Schedule, loss: cfg.Loss}
	if t.sched == nil {
		t.sched = optim.Constant(cfg.Optimizer.LR())
	}
	if t.loss == nil {
		t.loss = &nn.CrossEntropy[T]{}
	}
	for _, b := range cfg.Model.Buffers() {
		t.snap = append(t.snap, make([]T, len(b.Data)))
	}
	t.st = State{
		Version: stateVersion, DType: dtypeOf[T](), Seed: cfg.Seed, BatchSize: cfg.BatchSize,
		TrainN: cfg.Train.N, Epochs: cfg.Epochs, MaxSteps: cfg.MaxSteps,
		Optimizer: cfg.Optimizer.Kind(), Schedule: t.sched.String(), BestAcc: -1, BestEpoch: -1,
	}
	switch cfg.Resume {
	case "":
	case "auto":
		if cfg.OutDir != "" {
			p := filepath.Join(cfg.OutDir, "last.safetensors")
			if _, err := os.Stat(p); err == nil {
				if err := t.Resume(p); err != nil {
					return nil, err
				}
			}
		}
	default:
		if err := t.Resume(cfg.Resume); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// State returns the current training state.
func (t *Trainer[T]) State() State { return t.st }

// AddCallback appends cb to the trainer's callbacks (before Run), e.g. a
// notebook display attached to a trainer built elsewhere.
func (t *Trainer[T]) AddCallback(cb Callback) { t.cfg.Callbacks = append(t.cfg.Callbacks, cb) }

// TotalSteps is the number of optimizer steps the whole run takes (Epochs
// or MaxSteps, whichever ends it first).
func (t *Trainer[T]) TotalSteps() int { return t.totalSteps() }

// Resume restores the model, the optimizer and the training position from a
// checkpoint written by a run of the same configuration (seed, batch size
// and training set size must match, or the continuation could not be
// exact; Epochs and MaxSteps may be raised to train longer).
func (t *Trainer[T]) Resume(path string) error {
	c, err := Open(path)
	if err != nil {
		return err
	}
	if c.State == nil {
		return fmt.Errorf("train: %s has no training state (weights only?); cannot resume from it", path)
	}
	s := c.State
	switch {
	case s.Seed != t.cfg.Seed:
		return fmt.Errorf("train: checkpoint %s was trained with seed %d, this run has seed %d", path, s.Seed, t.cfg.Seed)
	case s.BatchSize != t.cfg.BatchSize:
		return fmt.Errorf("train: checkpoint %s was trained with batch size %d, this run has %d", path, s.BatchSize, t.cfg.BatchSize)
	case s.TrainN != t.cfg.Train.N:
		return fmt.Errorf("train: checkpoint %s was trained on %d images, this run has %d", path, s.TrainN, t.cfg.Train.N)
	case s.Optimizer != t.cfg.Optimizer.Kind():
		return fmt.Errorf("train: checkpoint %s has %s optimizer state, this run uses %s", path, s.Optimizer, t.cfg.Optimizer.Kind())
	}
	if err := c.LoadModel(t.cfg.Model); err != nil {
		return err
	}
	if err := LoadOptimizer(c, t.cfg.Optimizer); err != nil {
		return err
	}
	st := *s
	st.Epochs, st.MaxSteps, st.Schedule = t.cfg.Epochs, t.cfg.MaxSteps, t.sched.String()
	st.Interrupted = false
	if st.Done && (st.Epoch < st.Epochs && (st.MaxSteps <= 0 || st.Step < st.MaxSteps)) {
		st.Done = false // a longer run continues a finished one
	}
	t.st = st
	if t.cfg.OutDir != "" {
		t.lastCkpt = filepath.Join(t.cfg.OutDir, "last.safetensors")
		if p := filepath.Join(t.cfg.OutDir, "best.safetensors"); fileExists(p) {
			t.bestCkpt = p
		}
	}
	return nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// stepOut is the outcome of one step.
type stepOut struct {
	loss    float64
	correct int
	err     error
}

// Run trains until Epochs (or MaxSteps) are done, ctx is canceled, a
// callback stops it or a step fails.
func (t *Trainer[T]) Run(ctx context.Context) (*Result, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if t.cfg.OutDir != "" {
		if err := os.MkdirAll(t.cfg.OutDir, 0o755); err != nil {
			return nil, err
		}
	}
	st := &t.st
	res := &Result{}
	finish := func(err error) (*Result, error) {
		res.State = *st
		res.LastCheckpoint, res.BestCheckpoint = t.lastCkpt, t.bestCkpt
		if n := len(st.History); n > 0 && res.Final.Seconds == 0 {
			res.Final = st.History[n-1]
		}
		return res, err
	}
	interrupted := func(what string) (*Result, error) {
		if what != "" {
			what = " " + what
		}
		st.Interrupted = true
		path, err := t.checkpoint(nil)
		if t.drain != nil {
			t.drain()
			t.drain = nil
		}
		if err != nil {
			return finish(fmt.Errorf("%w%s and the checkpoint could not be written: %w", ErrInterrupted, what, err))
		}
		cause := context.Cause(ctx)
		if errors.Is(cause, ErrInterrupted) {
			return finish(fmt.Errorf("%w%s after %d steps (epoch %d, batch %d); checkpoint %s",
				cause, what, st.Step, st.Epoch+1, st.Batch, orNone(path)))
		}
		return finish(fmt.Errorf("%w%s after %d steps (epoch %d, batch %d); checkpoint %s: %w",
			ErrInterrupted, what, st.Step, st.Epoch+1, st.Batch, orNone(path), cause))
	}
	stopped := func(err error) (*Result, error) {
		if _, cerr := t.checkpoint(nil); cerr != nil {
			return finish(errors.Join(err, cerr))
		}
		if errors.Is(err, ErrStop) {
			return finish(nil)
		}
		return finish(err)
	}

	if st.Done {
		return finish(nil)
	}
	if st.EvalPending {
		if ok, err := t.endEpoch(ctx, nil); !ok {
			if err != nil {
				return stopped(err)
			}
			return interrupted("during evaluation")
		}
	}
	for st.Epoch < t.cfg.Epochs && !t.maxed() {
		if ctx.Err() != nil {
			return interrupted("")
		}
		ld, err := data.NewLoader(t.cfg.Train, data.LoaderConfig{
			BatchSize: t.cfg.BatchSize, Shuffle: true, Seed: t.cfg.Seed, DropLast: t.cfg.DropLast,
			Augment: t.cfg.Augment, Prefetch: t.cfg.Prefetch, StartEpoch: st.Epoch,
		})
		if err != nil {
			return finish(err)
		}
		// Re-position inside the epoch when resuming.
		for i := 0; i < st.Batch; i++ {
			b, ok := ld.Next()
			if !ok {
				ld.Close()
				return finish(fmt.Errorf("train: cannot resume at batch %d of epoch %d: the epoch has only %d batches", st.Batch, st.Epoch+1, i))
			}
			ld.Recycle(b)
		}
		for !t.maxed() {
			if ctx.Err() != nil {
				ld.Close()
				return interrupted("")
			}
			b, ok := ld.Next()
			if !ok {
				break
			}
			lr := t.sched.LR(st.Step)
			t.cfg.Optimizer.SetLR(lr)
			x, labels, err := batchInput(b, &t.xbuf, &t.labels)
			if err != nil {
				ld.Close()
				return finish(err)
			}
			t0 := time.Now()
			out, done, wasInterrupted := t.step(ctx, x, labels, b)
			dt := time.Since(t0)
			if !done {
				// Abandoned: checkpoint the pre-step state (buffers from the
				// snapshot), then let the step drain and restore the buffers.
				st.Interrupted = true
				path, cerr := t.checkpoint(t.snap)
				<-t.stepDone
				t.restoreBuffers()
				ld.Close()
				if cerr != nil {
					return finish(fmt.Errorf("%w and the checkpoint could not be written: %w", ErrInterrupted, cerr))
				}
				return finish(fmt.Errorf("%w during step %d (abandoned; epoch %d, batch %d); checkpoint %s: %w",
					ErrInterrupted, st.Step+1, st.Epoch+1, st.Batch, orNone(path), context.Cause(ctx)))
			}
			if out.err != nil {
				t.restoreBuffers()
				ld.Close()
				var nf *NonFiniteError
				if errors.As(out.err, &nf) {
					nf.Step, nf.Epoch, nf.Batch = st.Step, st.Epoch, st.Batch
				}
				return finish(out.err)
			}
			st.Step++
			st.Batch++
			st.LR = lr
			st.OptSteps = t.cfg.Optimizer.Steps()
			st.EpochLoss += out.loss * float64(b.B)
			st.EpochCorrect += out.correct
			st.EpochImages += b.B
			st.EpochSeconds += dt.Seconds()
			info := StepInfo{Epoch: st.Epoch, Batch: st.Batch - 1, Step: st.Step, TotalSteps: t.totalSteps(), Loss: out.loss,
				Acc: float64(out.correct) / float64(b.B), LR: lr, Images: b.B,
				ImagesPerSec: float64(b.B) / dt.Seconds(), Elapsed: dt}
			ld.Recycle(b)
			for _, cb := range t.cfg.Callbacks {
				if cb.OnStep != nil {
					if err := cb.OnStep(&info); err != nil {
						ld.Close()
						return stopped(err)
					}
				}
			}
			if wasInterrupted {
				ld.Close()
				return interrupted("")
			}
			if t.cfg.CheckpointEvery > 0 && st.Step%t.cfg.CheckpointEvery == 0 {
				if _, err := t.checkpoint(nil); err != nil {
					ld.Close()
					return finish(err)
				}
			}
		}
		ld.Close()
		partial := t.maxed() && st.Batch < t.batchesPerEpoch()
		if !partial {
			st.Epoch++
			st.Batch = 0
		}
		if ok, err := t.endEpoch(ctx, &partial); !ok {
			if err != nil {
				return stopped(err)
			}
			return interrupted("during evaluation")
		}
		if partial {
			break
		}
	}
	st.Done = true
	if _, err := t.checkpoint(nil); err != nil {
		return finish(err)
	}
	return finish(nil)
}

func orNone(p string) string {
	if p == "" {
		return "(none: no OutDir)"
	}
	return p
}

func (t *Trainer[T]) maxed() bool { return t.cfg.MaxSteps > 0 && t.st.Step >= t.cfg.MaxSteps }

// totalSteps is the number of steps of the whole run.
func (t *Trainer[T]) totalSteps() int {
	n := t.cfg.MaxSteps
	if t.cfg.Epochs < math.MaxInt32 {
		if e := t.cfg.Epochs * t.batchesPerEpoch(); n <= 0 || e < n {
			n = e
		}
	}
	return n
}

func (t *Trainer[T]) batchesPerEpoch() int {
	n, b := t.cfg.Train.N, t.cfg.BatchSize
	if t.cfg.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// endEpoch evaluates and records the epoch that just ended (st.Epoch-1, or
// st.Epoch for a partial epoch). It returns ok=false with a nil error when
// ctx was canceled during evaluation (the state then has EvalPending set),
// and ok=false with the error when a callback stopped training.
func (t *Trainer[T]) endEpoch(ctx context.Context, partial *bool) (bool, error) {
	st := &t.st
	ep := st.Epoch - 1
	if partial != nil && *partial {
		ep = st.Epoch
	}
	info := EpochInfo{Epoch: ep, Step: st.Step, LR: st.LR}
	if st.EpochImages > 0 {
		info.TrainLoss = st.EpochLoss / float64(st.EpochImages)
		info.TrainAcc = float64(st.EpochCorrect) / float64(st.EpochImages)
		info.ImagesPerSec = float64(st.EpochImages) / st.EpochSeconds
	}
	info.Seconds = st.EpochSeconds
	if t.cfg.Eval != nil {
		if testHookEval != nil {
			testHookEval()
		}
		t0 := time.Now()
		loss, acc, drain, err := evaluate(ctx, t.cfg.Model, t.cfg.Eval, t.cfg.EvalBatch, t.cfg.EvalNorm)
		t.drain = drain // run by Run after the checkpoint
		if err != nil {
			if ctx.Err() != nil {
				st.EvalPending = partial == nil || !*partial
				return false, nil
			}
			return false, err
		}
		info.Seconds += time.Since(t0).Seconds()
		info.HasEval, info.EvalLoss, info.EvalAcc = true, loss, acc
		if acc > st.BestAcc {
			st.BestAcc, st.BestEpoch = acc, ep
			info.Best = true
		}
	}
	st.EvalPending = false
	st.EpochLoss, st.EpochCorrect, st.EpochImages, st.EpochSeconds = 0, 0, 0, 0
	st.History = append(st.History, info)
	if info.Best && t.cfg.KeepBest && t.cfg.OutDir != "" {
		p := filepath.Join(t.cfg.OutDir, "best.safetensors")
		if err := t.write(p, nil); err != nil {
			return false, err
		}
		t.bestCkpt = p
	}
	path, err := t.checkpoint(nil)
	if err != nil {
		return false, err
	}
	info.Checkpoint = path
	st.History[len(st.History)-1].Checkpoint = path
	for _, cb := range t.cfg.Callbacks {
		if cb.OnEpoch != nil {
			if err := cb.OnEpoch(&info); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// checkpoint writes OutDir/last.safetensors (buffers from bufs if not nil).
func (t *Trainer[T]) checkpoint(bufs [][]T) (string, error) {
	if t.cfg.OutDir == "" {
		return "", nil
	}
	p := filepath.Join(t.cfg.OutDir, "last.safetensors")
	if err := t.write(p, bufs); err != nil {
		return "", err
	}
	t.lastCkpt = p
	return p, nil
}

func (t *Trainer[T]) write(p string, bufs [][]T) error {
	if err := save(p, t.cfg.Model, bufs, t.cfg.Optimizer, &t.st, t.cfg.ModelSpec); err != nil {
		return fmt.Errorf("train: writing checkpoint: %w", err)
	}
	for _, cb := range t.cfg.Callbacks {
		if cb.OnCheckpoint != nil {
			st := t.st
			cb.OnCheckpoint(p, &st)
		}
	}
	return nil
}

func (t *Trainer[T]) snapshotBuffers() {
	for i, b := range t.cfg.Model.Buffers() {
		copy(t.snap[i], b.Data)
	}
}

func (t *Trainer[T]) restoreBuffers() {
	for i, b := range t.cfg.Model.Buffers() {
		copy(b.Data, t.snap[i])
	}
}

// step runs one training step on a worker goroutine. done reports whether
// the step completed (false: abandoned after an interrupt; its goroutine
// still runs and signals t.stepDone when it ends); interrupted reports that
// ctx was canceled during the step.
func (t *Trainer[T]) step(ctx context.Context, x *tensor.Tensor[T], labels []int, b *data.Batch) (out stepOut, done, interrupted bool) {
	t.snapshotBuffers()
	t.mu.Lock()
	t.abandon, t.committed = false, false
	t.mu.Unlock()
	ch := make(chan stepOut, 1)
	t.stepDone = make(chan struct{})
	go func() {
		defer close(t.stepDone)
		defer func() {
			// A panic in a layer must not kill a notebook's process from a
			// goroutine its caller cannot recover: report it as an error.
			if r := recover(); r != nil {
				ch <- stepOut{err: fmt.Errorf("train: step panicked: %v", r)}
			}
		}()
		ch <- t.compute(x, labels)
	}()
	select {
	case o := <-ch:
		return o, true, false
	case <-ctx.Done():
	}
	timer := time.NewTimer(t.cfg.InterruptGrace)
	defer timer.Stop()
	select {
	case o := <-ch:
		return o, true, true
	case <-timer.C:
	}
	t.mu.Lock()
	t.abandon = true
	committed := t.committed
	t.mu.Unlock()
	if committed {
		return <-ch, true, true
	}
	return stepOut{}, false, true
}

// compute is the body of a step: forward, loss, backward, checks, update.
func (t *Trainer[T]) compute(x *tensor.Tensor[T], labels []int) stepOut {
	m := t.cfg.Model
	nn.ZeroGrad(m)
	y, err := m.Forward(x, nn.Train)
	if err != nil {
		return stepOut{err: fmt.Errorf("train: forward: %w", err)}
	}
	loss, dy, err := t.loss.Forward(y, labels)
	if err != nil {
		return stepOut{err: fmt.Errorf("train: loss: %w", err)}
	}
	corr := correct(y, labels)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return stepOut{err: t.diagnose(x, loss)}
	}
	if _, err := m.Backward(dy); err != nil {
		return stepOut{err: fmt.Errorf("train: backward: %w", err)}
	}
	if !t.cfg.NoGradCheck {
		if name, v, ok := checkGrads(t.cfg.Optimizer.Params()); !ok {
			return stepOut{err: &NonFiniteError{Where: "gradient", Name: name, Value: v, Loss: loss}}
		}
	}
	t.commit()
	return stepOut{loss: loss, correct: corr}
}

// commit applies the optimizer update unless the step was abandoned.
func (t *Trainer[T]) commit() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.abandon {
		t.cfg.Optimizer.Step()
		t.committed = true
	}
}

func (t *Trainer[T]) diagnose(x *tensor.Tensor[T], loss float64) error {
	e := &NonFiniteError{Loss: loss, Value: loss, Where: "loss"}
	// This step's forward pass may have spoilt the running statistics:
	// look at the values from before the step.
	t.restoreBuffers()
	if j := firstNonFinite(x.Contiguous().Data()); j >= 0 {
		e.Where, e.Value = "input", float64(x.Contiguous().Data()[j])
		return e
	}
	if where, name, v, ok := checkState(t.cfg.Model); !ok {
		e.Where, e.Name, e.Value = where, name, v
		return e
	}
	if name, v := diagnoseForward(t.cfg.Model, x); name != "" {
		e.Where, e.Name, e.Value = "forward", name, v
	}
	return e
}
