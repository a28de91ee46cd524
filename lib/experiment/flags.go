package experiment

import (
	"flag"
	"fmt"
	"os"
)

// Flags binds the `repdyn train` flags of every Spec field to s (their
// defaults are s's current values) and adds --spec FILE: a JSON spec read
// over the defaults, which the flags given on the command line override.
// After fs.Parse, call the returned function: it applies --spec and returns
// the final Spec (or a one-line *Error).
func Flags(fs *flag.FlagSet, s *Spec) func() (Spec, error) {
	bind(fs, s)
	file := fs.String("spec", "", "JSON experiment spec (fields of 'repdyn train -h'; flags given override it)")
	return func() (Spec, error) {
		if *file == "" {
			return *s, nil
		}
		b, err := os.ReadFile(*file)
		if err != nil {
			return *s, errf("--spec: %v", err)
		}
		base, err := Parse(b)
		if err != nil {
			return *s, errf("--spec %s: %v", *file, err)
		}
		// Re-apply the flags that were set on the command line.
		over := flag.NewFlagSet("spec", flag.ContinueOnError)
		bind(over, &base)
		var ferr error
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "spec" || over.Lookup(f.Name) == nil || ferr != nil {
				return
			}
			ferr = over.Set(f.Name, f.Value.String())
		})
		if ferr != nil {
			return base, errf("--spec %s: %v", *file, ferr)
		}
		return base, nil
	}
}

func bind(fs *flag.FlagSet, s *Spec) {
	fs.StringVar(&s.Model, "model", s.Model, "model name (required)")
	fs.Float64Var(&s.Width, "width", s.Width, fmt.Sprintf("width multiplier, in (0, %d]", MaxWidth))
	fs.StringVar(&s.Dataset, "dataset", s.Dataset, "dataset name (required)")
	fs.IntVar(&s.Epochs, "epochs", s.Epochs, "epochs")
	fs.IntVar(&s.MaxSteps, "max-steps", s.MaxSteps, "stop after this many optimizer steps (0: all epochs)")
	fs.IntVar(&s.Batch, "batch", s.Batch, "batch size")
	fs.StringVar(&s.Optimizer, "optimizer", s.Optimizer, "sgd, adam or adamw")
	fs.Float64Var(&s.LR, "lr", s.LR, "peak learning rate")
	fs.Float64Var(&s.Momentum, "momentum", s.Momentum, "SGD momentum (Adam: beta1)")
	fs.BoolVar(&s.Nesterov, "nesterov", s.Nesterov, "Nesterov momentum (sgd)")
	fs.Float64Var(&s.WD, "wd", s.WD, "weight decay (not applied to biases and batch-norm parameters)")
	fs.StringVar(&s.Schedule, "schedule", s.Schedule, "const, cosine, step or multistep")
	fs.Float64Var(&s.Warmup, "warmup", s.Warmup, "linear warm-up, in epochs (may be fractional)")
	fs.StringVar(&s.Milestones, "milestones", s.Milestones, "multistep: epochs at which to multiply the rate by --gamma")
	fs.IntVar(&s.StepEpochs, "step-epochs", s.StepEpochs, "step: epochs between decays (default epochs/3)")
	fs.Float64Var(&s.Gamma, "gamma", s.Gamma, "step/multistep decay factor")
	fs.Float64Var(&s.EtaMin, "eta-min", s.EtaMin, "cosine: final learning rate")
	fs.IntVar(&s.Pad, "pad", s.Pad, "random-crop padding (-1: 4 for 32x32 images, 2 for 28x28, else 0)")
	fs.StringVar(&s.Flip, "flip", s.Flip, "random horizontal flips: true, false or auto (off for digit datasets)")
	fs.Uint64Var(&s.Seed, "seed", s.Seed, "seed of the initialisation, data order and augmentation")
	fs.IntVar(&s.Subset, "subset", s.Subset, "train on the first N training images (0: all)")
	fs.IntVar(&s.TestSubset, "test-subset", s.TestSubset, "evaluate on the first N test images (0: all)")
}
