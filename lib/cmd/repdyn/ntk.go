package main

import (
	"flag"
	"fmt"
	"io"

	"repdyn/lib/checkpoint"
	"repdyn/lib/data"
	"repdyn/lib/internal/parallel"
	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
	"repdyn/lib/theory"
	"repdyn/lib/train"
)

func init() {
	register("ntk", "empirical NTK (and Jacobian) of a checkpoint on N images, as .npy for NumPy", runNTK)
}

const ntkUsage = `usage: repdyn ntk --checkpoint FILE --out K.npy [flags]

Computes, in float64, the empirical neural tangent kernel K = J J^T of the
checkpoint's model on the first --n images of a dataset split, where J is
the Jacobian of all logits (rows: image-major, n*classes of them) with
respect to all parameters (lib/theory.ComputeNTK), and writes K as an
[n*classes, n*classes] float64 .npy file; --jacobian also writes J
[n*classes, parameters] (columns in the model's parameter order). In
NumPy: K = numpy.load("K.npy"). The model and normalisation come from the
checkpoint as in 'repdyn eval' (--model/--width for files without a spec).
--mode eval uses batch norm's running statistics (images independent),
--mode batch the statistics of the n images (one coupled batch).

flags:
`

func runNTK(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ntk", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = flagUsage(fs, stdout, ntkUsage, "")
	ckpt := fs.String("checkpoint", "", "checkpoint file (required)")
	out := fs.String("out", "", "write the NTK to this .npy file (required)")
	jac := fs.String("jacobian", "", "also write the Jacobian to this .npy file")
	dsName := fs.String("dataset", "", "dataset (default: the checkpoint's)")
	split := fs.String("split", "test", "split")
	n := fs.Int("n", 8, "images (the first n of the split)")
	mode := fs.String("mode", "eval", "batch-norm mode: eval (running statistics) or batch (statistics of the n images)")
	modelName := fs.String("model", "", "model name, for checkpoints without a model spec")
	width := fs.Float64("width", 1, "width multiplier, with --model")
	threads := fs.Int("threads", 0, "compute threads (0: all cores)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *ckpt == "" || *out == "" {
		return usagef("--checkpoint and --out are required (see 'repdyn ntk -h')")
	}
	if *n < 1 {
		return usagef("--n %d: want at least 1", *n)
	}
	var m nn.Mode
	switch *mode {
	case "eval":
		m = nn.Eval
	case "batch":
		m = nn.BatchStats
	default:
		return usagef("--mode %q: want eval or batch", *mode)
	}
	if *threads > 0 {
		parallel.SetThreads(*threads)
	}
	name := *dsName
	if name == "" {
		c, err := checkpointSpecDataset(*ckpt)
		if err != nil {
			return err
		}
		name = c
	}
	ds, err := loadDataset(name, data.Split(*split), *n)
	if err != nil {
		return err
	}
	ds = ds.First(min(*n, ds.N))
	m32, spec, err := checkpointModel(*ckpt, *modelName, *width, ds)
	if err != nil {
		return err
	}
	model, err := models.Convert[float64](m32)
	if err != nil {
		return err
	}
	norm := spec.Norm
	if norm == nil {
		if st, err := data.KnownStats(name); err == nil {
			norm = &st
		}
	}
	x32, err := normalisedInputs(ds, norm)
	if err != nil {
		return err
	}
	x64 := make([]float64, len(x32))
	for i, v := range x32 {
		x64[i] = float64(v)
	}
	x, err := tensor.FromSlice(x64, ds.N, ds.C, ds.H, ds.W)
	if err != nil {
		return err
	}
	k, err := theory.ComputeNTK(model, x, theory.NTKOptions{JacobianOptions: theory.JacobianOptions{Mode: m}, KeepJ: *jac != ""})
	if err != nil {
		return err
	}
	if err := checkpoint.WriteNPY(*out, []int{k.N, k.N}, k.K); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: NTK [%d, %d] of %s on %d %s/%s images (%s mode)\n", *out, k.N, k.N, spec.Model, ds.N, name, *split, *mode)
	if *jac != "" {
		j := k.J
		if j == nil {
			if j, err = theory.ComputeJacobian(model, x, theory.JacobianOptions{Mode: m}); err != nil {
				return err
			}
		}
		if err := checkpoint.WriteNPY(*jac, []int{j.N, j.D}, j.Data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: Jacobian [%d, %d]\n", *jac, j.N, j.D)
	}
	return nil
}

// checkpointSpecDataset returns the dataset named in a checkpoint's model spec.
func checkpointSpecDataset(path string) (string, error) {
	c, err := checkpoint.Read(path)
	if err != nil {
		return "", err
	}
	var spec modelSpec
	if _, ok := c.Metadata[train.MetaModel]; ok {
		if err := checkpoint.GetJSON(c.Metadata, train.MetaModel, &spec); err != nil {
			return "", err
		}
	}
	if spec.Dataset == "" {
		return "", usagef("--dataset is required (%s does not name its dataset)", path)
	}
	return spec.Dataset, nil
}
