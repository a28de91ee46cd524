package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"repdyn/lib/data"
	"repdyn/lib/internal/parallel"
	"repdyn/lib/models"
	"repdyn/lib/optim"
	"repdyn/lib/train"
)

func init() {
	register("train", "train a model on a dataset (checkpoints, resume, Ctrl-C safe)", runTrain)
	register("eval", "evaluate a checkpoint on a dataset's test split", runEval)
}

// modelSpec is stored in every checkpoint `repdyn train` writes, so that
// `repdyn eval` can rebuild the model and its input normalisation.
type modelSpec struct {
	Model   string          `json:"model"`
	Config  models.Config   `json:"config"`
	Dataset string          `json:"dataset"`
	Norm    *data.Stats     `json:"norm,omitempty"`
	Train   json.RawMessage `json:"train,omitempty"` // the flags of the run
}

// synthetic is a dataset name known only to the command line: seeded
// Gaussian-blob images (3x32x32, 10 classes) for trying things out offline.
const synthetic = "synthetic"

func loadDataset(name string, split data.Split, n int) (*data.Dataset, error) {
	if name == synthetic {
		if n <= 0 {
			n = 2048
		}
		seed := uint64(1)
		if split == data.Test {
			seed, n = 2, max(n/4, 256)
		}
		return data.Synthetic(data.SynthConfig{N: n, C: 3, H: 32, W: 32, Classes: 10, Noise: 0.3, Seed: seed})
	}
	if !slices.Contains(data.Names(), name) {
		return nil, usagef("unknown dataset %q (known: %s, %s)", name, strings.Join(data.Names(), ", "), synthetic)
	}
	ds, err := data.Load(name, split, nil)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		ds = ds.First(n)
	}
	return ds, nil
}

func checkModelName(name string) error {
	if !slices.Contains(models.Names(), name) {
		return usagef("unknown model %q (known: %s)", name, strings.Join(models.Names(), ", "))
	}
	return nil
}

// digits are datasets whose images must not be mirrored.
var digits = map[string]bool{"mnist": true, "kmnist": true, "svhn": true, "semeion": true}

type trainFlags struct {
	Model      string  `json:"model"`
	Width      float64 `json:"width"`
	Dataset    string  `json:"dataset"`
	Epochs     int     `json:"epochs"`
	MaxSteps   int     `json:"max_steps,omitempty"`
	Batch      int     `json:"batch"`
	Optimizer  string  `json:"optimizer"`
	LR         float64 `json:"lr"`
	Momentum   float64 `json:"momentum"`
	Nesterov   bool    `json:"nesterov"`
	WD         float64 `json:"wd"`
	Schedule   string  `json:"schedule"`
	Warmup     float64 `json:"warmup_epochs"`
	Milestones string  `json:"milestones,omitempty"`
	StepEpochs int     `json:"step_epochs,omitempty"`
	Gamma      float64 `json:"gamma"`
	EtaMin     float64 `json:"eta_min"`
	Pad        int     `json:"pad"`
	Flip       string  `json:"flip"`
	Seed       uint64  `json:"seed"`
	Subset     int     `json:"subset,omitempty"`
	TestSubset int     `json:"test_subset,omitempty"`
}

const trainUsage = `usage: repdyn train --model NAME --dataset NAME [flags]

Trains NAME (see 'repdyn train -h' for models) on a dataset's training split,
evaluating on its test split after every epoch, with checkpoints in --out
(last.safetensors every epoch and on Ctrl-C, best.safetensors, and
metrics.jsonl: one JSON line per epoch, epochs numbered from 1 as on the
console). Ctrl-C (SIGINT) or SIGTERM stops within ~2 s after writing a
checkpoint and exits 130 (SIGINT) or 143 (SIGTERM); --resume continues from
--out/last.safetensors exactly where it stopped (same flags needed; --epochs
may be raised). 'repdyn export' turns a checkpoint into a file PyTorch loads.

Schedules (per optimizer step, after --warmup epochs of linear warm-up):
  const      constant --lr
  cosine     cosine from --lr to --eta-min over the remaining steps
  step       multiply by --gamma every --step-epochs epochs
  multistep  multiply by --gamma at each of --milestones (epochs, comma list;
             default 50% and 75% of --epochs)

flags:
`

func runTrain(args []string, stdout io.Writer) error {
	var f trainFlags
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, trainUsage)
		fs.PrintDefaults()
		fmt.Fprintf(stdout, "\nmodels: %s\ndatasets: %s, %s (3x32x32 blobs, offline)\n",
			strings.Join(models.Names(), ", "), strings.Join(data.Names(), ", "), synthetic)
	}
	fs.StringVar(&f.Model, "model", "", "model name (required)")
	fs.Float64Var(&f.Width, "width", 1, "width multiplier")
	fs.StringVar(&f.Dataset, "dataset", "", "dataset name (required)")
	fs.IntVar(&f.Epochs, "epochs", 30, "epochs")
	fs.IntVar(&f.MaxSteps, "max-steps", 0, "stop after this many optimizer steps (0: all epochs)")
	fs.IntVar(&f.Batch, "batch", 128, "batch size")
	fs.StringVar(&f.Optimizer, "optimizer", "sgd", "sgd, adam or adamw")
	fs.Float64Var(&f.LR, "lr", 0.1, "peak learning rate")
	fs.Float64Var(&f.Momentum, "momentum", 0.9, "SGD momentum (Adam: beta1)")
	fs.BoolVar(&f.Nesterov, "nesterov", false, "Nesterov momentum (sgd)")
	fs.Float64Var(&f.WD, "wd", 5e-4, "weight decay (not applied to biases and batch-norm parameters)")
	fs.StringVar(&f.Schedule, "schedule", "cosine", "const, cosine, step or multistep")
	fs.Float64Var(&f.Warmup, "warmup", 0, "linear warm-up, in epochs (may be fractional)")
	fs.StringVar(&f.Milestones, "milestones", "", "multistep: epochs at which to multiply the rate by --gamma")
	fs.IntVar(&f.StepEpochs, "step-epochs", 0, "step: epochs between decays (default epochs/3)")
	fs.Float64Var(&f.Gamma, "gamma", 0.1, "step/multistep decay factor")
	fs.Float64Var(&f.EtaMin, "eta-min", 0, "cosine: final learning rate")
	fs.IntVar(&f.Pad, "pad", -1, "random-crop padding (-1: 4 for 32x32 images, 2 for 28x28, else 0)")
	fs.StringVar(&f.Flip, "flip", "auto", "random horizontal flips: true, false or auto (off for digit datasets)")
	fs.Uint64Var(&f.Seed, "seed", 1, "seed of the initialisation, data order and augmentation")
	fs.IntVar(&f.Subset, "subset", 0, "train on the first N training images (0: all)")
	fs.IntVar(&f.TestSubset, "test-subset", 0, "evaluate on the first N test images (0: all)")
	out := fs.String("out", "", "output directory for checkpoints and metrics (default runs/MODEL-DATASET-sSEED)")
	resume := fs.Bool("resume", false, "resume from OUT/last.safetensors if it exists")
	threads := fs.Int("threads", 0, "compute threads (0: all cores)")
	progress := fs.Int("progress", 50, "print a line every N steps (0: only per epoch)")
	evalBatch := fs.Int("eval-batch", 256, "evaluation batch size")
	ckptEvery := fs.Int("checkpoint-every", 0, "also checkpoint every N steps")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if f.Model == "" || f.Dataset == "" {
		return usagef("--model and --dataset are required (see 'repdyn train -h')")
	}
	if err := checkModelName(f.Model); err != nil {
		return err
	}
	if *threads > 0 {
		parallel.SetThreads(*threads)
	}
	if *out == "" {
		*out = filepath.Join("runs", fmt.Sprintf("%s-%s-s%d", f.Model, f.Dataset, f.Seed))
	}
	trainSet, err := loadDataset(f.Dataset, data.Train, f.Subset)
	if err != nil {
		return err
	}
	testSet, err := loadDataset(f.Dataset, data.Test, f.TestSubset)
	if err != nil {
		return err
	}
	if f.Batch <= 0 || f.Batch > trainSet.N {
		return usagef("--batch %d: must be in 1..%d (training images)", f.Batch, trainSet.N)
	}

	// Normalisation: the dataset's published statistics, else computed.
	stats, err := data.KnownStats(f.Dataset)
	if err != nil {
		stats = data.ComputeStats(trainSet)
	}
	aug := &data.Augment{Norm: &stats, Pad: f.Pad}
	if f.Pad < 0 {
		switch trainSet.H {
		case 32:
			aug.Pad = 4
		case 28:
			aug.Pad = 2
		default:
			aug.Pad = 0
		}
	}
	switch f.Flip {
	case "auto":
		aug.FlipH = !digits[f.Dataset]
	case "true", "1", "yes":
		aug.FlipH = true
	case "false", "0", "no":
	default:
		return usagef("--flip %q: want true, false or auto", f.Flip)
	}
	f.Pad, f.Flip = aug.Pad, strconv.FormatBool(aug.FlipH)

	mcfg := models.Config{InChannels: trainSet.C, NumClasses: trainSet.Classes, Width: f.Width, Seed: f.Seed}
	if f.Model == "mlp" {
		mcfg.InFeatures = trainSet.C * trainSet.H * trainSet.W
	}
	model, err := models.New[float32](f.Model, mcfg)
	if err != nil {
		return err
	}

	var opt optim.Optimizer[float32]
	switch f.Optimizer {
	case "sgd":
		opt, err = optim.NewSGD(model.Params(), optim.SGDConfig{LR: f.LR, Momentum: f.Momentum, Nesterov: f.Nesterov, WeightDecay: f.WD})
	case "adam", "adamw":
		c := optim.DefaultAdam()
		c.LR, c.WeightDecay = f.LR, f.WD
		if f.Momentum > 0 {
			c.Beta1 = f.Momentum
		}
		if f.Optimizer == "adam" {
			opt, err = optim.NewAdam(model.Params(), c)
		} else {
			opt, err = optim.NewAdamW(model.Params(), c)
		}
	default:
		return usagef("unknown --optimizer %q (want sgd, adam or adamw)", f.Optimizer)
	}
	if err != nil {
		return err
	}

	bpe := trainSet.N / f.Batch // DropLast: no tiny last batch for batch norm
	total := f.Epochs * bpe
	if f.MaxSteps > 0 && f.MaxSteps < total {
		total = f.MaxSteps
	}
	warm := int(math.Round(f.Warmup * float64(bpe)))
	var sched optim.Schedule
	switch f.Schedule {
	case "const", "constant":
		sched = optim.Constant(f.LR)
	case "cosine":
		sched = optim.Cosine(f.LR, f.EtaMin, max(total-warm, 1))
	case "step":
		if f.StepEpochs <= 0 {
			f.StepEpochs = max(f.Epochs/3, 1)
		}
		sched = optim.StepDecay(f.LR, f.StepEpochs*bpe, f.Gamma)
	case "multistep":
		ms, err := parseMilestones(f.Milestones, f.Epochs)
		if err != nil {
			return err
		}
		for i := range ms {
			ms[i] = max(ms[i]*bpe-warm, 0)
		}
		sched = optim.MultiStep(f.LR, ms, f.Gamma)
	default:
		return usagef("unknown --schedule %q (want const, cosine, step or multistep)", f.Schedule)
	}
	sched = optim.Warmup(sched, warm)

	flagsJSON, _ := json.Marshal(f)
	spec := modelSpec{Model: f.Model, Config: mcfg, Dataset: f.Dataset, Norm: &stats, Train: flagsJSON}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	metrics, err := train.OpenAppend(filepath.Join(*out, "metrics.jsonl")) // never through a symlink
	if err != nil {
		return err
	}
	defer metrics.Close()
	cfg := train.Config[float32]{
		Model: model, Optimizer: opt, Schedule: sched,
		Train: trainSet, Eval: testSet, BatchSize: f.Batch, DropLast: true, Augment: aug, EvalBatch: *evalBatch,
		Epochs: f.Epochs, MaxSteps: f.MaxSteps, Seed: f.Seed, OutDir: *out, KeepBest: true,
		CheckpointEvery: *ckptEvery, ModelSpec: spec,
		Callbacks: []train.Callback{train.Progress(stdout, *progress), {OnEpoch: func(e *train.EpochInfo) error {
			r := *e
			r.Epoch++ // numbered from 1, as train.Progress prints it
			return json.NewEncoder(metrics).Encode(r)
		}}},
	}
	if *resume {
		cfg.Resume = "auto"
	}
	tr, err := train.New(cfg)
	if err != nil {
		return err
	}
	st := tr.State()
	summ, _ := model.Summary([]int{1, trainSet.C, trainSet.H, trainSet.W})
	params := 0
	if summ != nil {
		params = summ.TotalParams
	}
	fmt.Fprintf(stdout, "repdyn train: %s (%d params) on %s (%d train / %d test images %dx%dx%d), %s, %v, batch %d, %d steps/epoch, %d threads; out %s\n",
		f.Model, params, f.Dataset, trainSet.N, testSet.N, trainSet.C, trainSet.H, trainSet.W,
		f.Optimizer, sched, f.Batch, bpe, parallel.Threads(), *out)
	if st.Step > 0 {
		fmt.Fprintf(stdout, "resuming at epoch %d, batch %d (step %d)\n", st.Epoch+1, st.Batch, st.Step)
	}
	ctx, stop := train.SignalContext(context.Background())
	defer stop()
	res, err := tr.Run(ctx)
	if err != nil {
		if errors.Is(err, train.ErrInterrupted) {
			fmt.Fprintf(stdout, "interrupted; resume with the same flags and --resume\n")
		}
		return err
	}
	fmt.Fprintf(stdout, "done: %d steps; best test accuracy %.4f (epoch %d); checkpoints %s, %s\n",
		res.State.Step, res.State.BestAcc, res.State.BestEpoch+1, res.LastCheckpoint, res.BestCheckpoint)
	return nil
}

func parseMilestones(s string, epochs int) ([]int, error) {
	if s == "" {
		return []int{max(epochs/2, 1), max(epochs*3/4, 1)}, nil
	}
	var ms []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 0 {
			return nil, usagef("--milestones %q: want a comma list of epochs", s)
		}
		ms = append(ms, v)
	}
	return ms, nil
}

const evalUsage = `usage: repdyn eval --checkpoint FILE [flags]

Evaluates a checkpoint in eval mode (batch norm with its running statistics)
on a dataset split and prints the accuracy and the mean cross-entropy loss.
FILE is a safetensors state_dict: written by 'repdyn train' or 'repdyn
export', or by PyTorch (F16/BF16 tensors are cast on load, integer
num_batches_tracked counters accepted). The model, its width and the input
normalisation come from the checkpoint's model spec; for a file without one
(e.g. saved by PyTorch) name the architecture with --model and --width, and
the images are normalised with the dataset's published statistics (none for
synthetic). Every tensor must match the model by name and shape.

--save-logits F.npy and --save-inputs F.npy write the logits [N, classes]
and the normalised inputs [N, C, H, W] the model saw (float32, numpy.load).

flags:
`

func runEval(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, evalUsage)
		fs.PrintDefaults()
		fmt.Fprintf(stdout, "\nmodels: %s\ndatasets: %s, %s (3x32x32 blobs, offline)\n",
			strings.Join(models.Names(), ", "), strings.Join(data.Names(), ", "), synthetic)
	}
	ckpt := fs.String("checkpoint", "", "checkpoint file (required)")
	dsName := fs.String("dataset", "", "dataset (default: the one the checkpoint was trained on)")
	split := fs.String("split", "test", "split to evaluate")
	modelName := fs.String("model", "", "model name, for checkpoints without a model spec (overrides it)")
	width := fs.Float64("width", 1, "width multiplier, with --model")
	batch := fs.Int("batch", 256, "batch size")
	subset := fs.Int("subset", 0, "evaluate the first N images (0: all)")
	threads := fs.Int("threads", 0, "compute threads (0: all cores)")
	asJSON := fs.Bool("json", false, "print one JSON line")
	saveLogits := fs.String("save-logits", "", "write the logits to this .npy file")
	saveInputs := fs.String("save-inputs", "", "write the normalised inputs to this .npy file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *ckpt == "" {
		return usagef("--checkpoint is required (see 'repdyn eval -h')")
	}
	if *threads > 0 {
		parallel.SetThreads(*threads)
	}
	c, err := train.Open(*ckpt)
	if err != nil {
		return err
	}
	var spec modelSpec
	has, err := c.ModelSpec(&spec)
	if err != nil {
		return err
	}
	if *dsName == "" {
		if spec.Dataset == "" {
			return usagef("--dataset is required (the checkpoint does not name its dataset)")
		}
		*dsName = spec.Dataset
	}
	ds, err := loadDataset(*dsName, data.Split(*split), *subset)
	if err != nil {
		return err
	}
	if *modelName != "" {
		if err := checkModelName(*modelName); err != nil {
			return err
		}
		spec.Model = *modelName
		spec.Config = models.Config{InChannels: ds.C, NumClasses: ds.Classes, Width: *width}
		if *modelName == "mlp" {
			spec.Config.InFeatures = ds.C * ds.H * ds.W
		}
	} else if !has {
		return usagef("%s has no model spec; name the architecture with --model", *ckpt)
	}
	cfg := spec.Config
	if cfg.InChannels != 0 && cfg.InChannels != ds.C {
		return fmt.Errorf("dataset %s has %d-channel images but the checkpoint's %s takes %d channels", *dsName, ds.C, spec.Model, cfg.InChannels)
	}
	if cfg.NumClasses != 0 && cfg.NumClasses != ds.Classes {
		return fmt.Errorf("dataset %s has %d classes but the checkpoint's %s has %d outputs", *dsName, ds.Classes, spec.Model, cfg.NumClasses)
	}
	model, err := train.NewModel[float32](c, spec.Model, cfg) // shapes checked against the file first
	if err != nil {
		return err
	}
	norm := spec.Norm
	if norm == nil {
		if st, err := data.KnownStats(*dsName); err == nil {
			norm = &st
		}
	}
	ctx, stop := train.SignalContext(context.Background())
	defer stop()
	loss, acc, err := train.Evaluate(ctx, model, ds, *batch, norm)
	if err != nil {
		return err
	}
	if *saveLogits != "" || *saveInputs != "" {
		if err := saveEvalArrays(ctx, model, ds, *batch, norm, *saveLogits, *saveInputs); err != nil {
			return err
		}
	}
	if *asJSON {
		return emit(stdout, map[string]any{"checkpoint": *ckpt, "model": spec.Model, "dataset": *dsName, "split": *split,
			"images": ds.N, "loss": loss, "accuracy": acc})
	}
	fmt.Fprintf(stdout, "%s (%s) on %s/%s: accuracy %.4f, loss %.4f (%d images)\n", *ckpt, spec.Model, *dsName, *split, acc, loss, ds.N)
	return nil
}
