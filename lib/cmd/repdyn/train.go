package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"repdyn/lib/data"
	"repdyn/lib/experiment"
	"repdyn/lib/internal/parallel"
	"repdyn/lib/models"
	"repdyn/lib/train"
)

func init() {
	register("train", "train a model on a dataset (checkpoints, resume, Ctrl-C safe)", runTrain)
	register("eval", "evaluate a checkpoint on a dataset's test split", runEval)
}

// modelSpec is the part of a checkpoint's model spec (experiment.Meta)
// that `repdyn eval` needs to rebuild the model and its input normalisation.
type modelSpec struct {
	Model   string        `json:"model"`
	Config  models.Config `json:"config"`
	Dataset string        `json:"dataset"`
	Norm    *data.Stats   `json:"norm,omitempty"`
}

func loadDataset(name string, split data.Split, n int) (*data.Dataset, error) {
	return experiment.LoadDataset(name, split, n, nil)
}

func checkModelName(name string) error {
	if !slices.Contains(models.Names(), name) {
		return usagef("unknown model %q (known: %s)", name, strings.Join(models.Names(), ", "))
	}
	return nil
}

const trainUsage = `usage: repdyn train --model NAME --dataset NAME [flags]

Trains NAME (see 'repdyn train -h' for models) on a dataset's training split,
evaluating on its test split after every epoch, with checkpoints in --out
(last.safetensors every epoch and on Ctrl-C, best.safetensors, and
metrics.jsonl: one JSON line per epoch, epochs numbered from 1 as on the
console). Ctrl-C (SIGINT) or SIGTERM stops within ~2 s after writing a
checkpoint and exits 130 (SIGINT) or 143 (SIGTERM); --resume continues from --out/last.safetensors exactly where it stopped (the
flags must match the checkpoint's; --epochs and --max-steps may be raised).
A folder that already holds a run is refused unless --resume or --fresh
(which deletes that run's files) is given. --spec FILE reads the experiment
from JSON (lib/experiment.Spec); flags given with it override its fields.
'repdyn export' turns a checkpoint into a file PyTorch loads.

Schedules (per optimizer step, after --warmup epochs of linear warm-up):
  const      constant --lr
  cosine     cosine from --lr to --eta-min over the remaining steps
  step       multiply by --gamma every --step-epochs epochs
  multistep  multiply by --gamma at each of --milestones (epochs, comma list;
             default 50% and 75% of --epochs)

flags:
`

// maxThreads bounds --threads.
const maxThreads = 4096

func runTrain(args []string, stdout io.Writer) error {
	spec := experiment.Default()
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, trainUsage)
		fs.PrintDefaults()
		fmt.Fprintf(stdout, "\nmodels: %s\ndatasets: %s, %s (3x32x32 blobs, offline)\n",
			strings.Join(models.Names(), ", "), strings.Join(data.Names(), ", "), experiment.Synthetic)
	}
	final := experiment.Flags(fs, &spec)
	out := fs.String("out", "", "output directory for checkpoints and metrics (default runs/MODEL-DATASET-sSEED)")
	resume := fs.Bool("resume", false, "resume from OUT/last.safetensors if it exists (same flags as the checkpoint's)")
	fresh := fs.Bool("fresh", false, "delete the run already in OUT (checkpoints, metrics) and start over")
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
	spec, err := final()
	if err != nil {
		return err
	}
	switch {
	case *threads < 0 || *threads > maxThreads:
		return usageError{fmt.Errorf("--threads %d: must be in 0..%d (0: all cores)", *threads, maxThreads)}
	case *progress < 0:
		return usageError{fmt.Errorf("--progress %d: must be >= 0 (0: only per epoch)", *progress)}
	case *evalBatch < 1 || *evalBatch > experiment.MaxBatch:
		return usageError{fmt.Errorf("--eval-batch %d: must be in 1..%d", *evalBatch, experiment.MaxBatch)}
	case *ckptEvery < 0:
		return usageError{fmt.Errorf("--checkpoint-every %d: must be >= 0 (0: only per epoch)", *ckptEvery)}
	case *resume && *fresh:
		return usageError{errors.New("--resume and --fresh exclude each other")}
	}
	if err := spec.Validate(); err != nil {
		return err
	}
	if *threads > 0 {
		parallel.SetThreads(*threads)
	}
	if *out == "" {
		*out = filepath.Join("runs", fmt.Sprintf("%s-%s-s%d", spec.Model, spec.Dataset, spec.Seed))
	}
	opts := experiment.Options{Mode: experiment.New, CheckpointEvery: *ckptEvery, EvalBatch: *evalBatch,
		Callbacks: []train.Callback{train.Progress(stdout, *progress)}}
	if *resume {
		opts.Mode = experiment.Resume
	} else if *fresh {
		opts.Mode = experiment.Fresh
	}
	r, err := experiment.Open(spec, *out, opts)
	if err != nil {
		return err
	}
	defer r.Close()
	b := r.Built
	fmt.Fprintf(stdout, "repdyn train: %s (%d params) on %s (%d train / %d test images %dx%dx%d), %s, %v, batch %d, %d steps/epoch, %d threads; out %s\n",
		b.Spec.Model, r.Params(), b.Spec.Dataset, b.Train.N, b.Test.N, b.Train.C, b.Train.H, b.Train.W,
		b.Spec.Optimizer, b.Schedule, b.Spec.Batch, b.StepsPerEpoch, parallel.Threads(), *out)
	if st := r.Trainer.State(); st.Step > 0 {
		fmt.Fprintf(stdout, "resuming at epoch %d, batch %d (step %d)\n", st.Epoch+1, st.Batch, st.Step)
	}
	ctx, stop := train.SignalContext(context.Background())
	defer stop()
	res, err := r.Run(ctx)
	if err != nil {
		if errors.Is(err, train.ErrInterrupted) {
			fmt.Fprintf(stdout, "interrupted; resume with the same flags and --resume\n")
		}
		return err
	}
	fmt.Fprintf(stdout, "done: %d steps; best test accuracy %.4f (epoch %d); checkpoints %s, %s\n",
		res.Steps, res.BestAcc, res.BestEpoch+1, res.LastCheckpoint, res.BestCheckpoint)
	return nil
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
			strings.Join(models.Names(), ", "), strings.Join(data.Names(), ", "), experiment.Synthetic)
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
	model, err := experiment.NewModel[float32](c, spec.Model, cfg) // shapes checked against the file first
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
