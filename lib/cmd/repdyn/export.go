package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"repdyn/lib/checkpoint"
	"repdyn/lib/data"
	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
	"repdyn/lib/train"
)

func init() {
	register("export", "write a checkpoint's weights and buffers for PyTorch (load_state_dict strict=True)", runExport)
}

const exportUsage = `usage: repdyn export --checkpoint FILE --out FILE [--dtype F32|F64|F16|BF16]

Writes the model's parameters and buffers of a checkpoint to a safetensors
file that PyTorch loads with load_state_dict(strict=True) into the
torchvision-style module lib/models mirrors: PyTorch's state_dict names, the
weights in --dtype (default F32, PyTorch's default), batch norm's
num_batches_tracked as I64 scalars, and no optimizer state or training
position (the model spec stays in the metadata, so 'repdyn eval' still
rebuilds the model). When the checkpoint has a model spec it is first loaded
into that model, so a file that does not fit its architecture is refused.
The write is atomic. In PyTorch (python3-torch; the safetensors package, or
the few-line reader in lib/cmd/repdyn/testdata/torch_interop.py):

    from safetensors.torch import load_file
    model = ResNet20()                       # the same architecture and width
    model.load_state_dict(load_file("model.safetensors"), strict=True)

flags:
`

func runExport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = flagUsage(fs, stdout, exportUsage, "")
	ckpt := fs.String("checkpoint", "", "checkpoint to export (required)")
	out := fs.String("out", "", "safetensors file to write (required)")
	dtype := fs.String("dtype", "F32", "dtype of the weights and float buffers: F32, F64, F16 or BF16")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *ckpt == "" || *out == "" {
		return usagef("--checkpoint and --out are required (see 'repdyn export -h')")
	}
	d := checkpoint.DType(strings.ToUpper(*dtype))
	if !d.IsFloat() {
		return usagef("--dtype %q: want F32, F64, F16 or BF16", *dtype)
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
	if has {
		m, err := models.New[float32](spec.Model, spec.Config)
		if err != nil {
			return fmt.Errorf("%s: model spec: %w", *ckpt, err)
		}
		if err := c.LoadModel(m); err != nil {
			return err
		}
	}
	if err := c.Export(*out, d); err != nil {
		return err
	}
	n := 0
	for _, t := range c.File.Tensors {
		if !strings.HasPrefix(t.Name, train.OptimPrefix) {
			n++
		}
	}
	fmt.Fprintf(stdout, "wrote %s: %d tensors (%s weights, I64 num_batches_tracked), %d optimizer tensors left out\n",
		*out, n, d, len(c.File.Tensors)-n)
	return nil
}

// checkpointModel opens a checkpoint and builds the float32 model it holds
// for dataset ds (as 'repdyn eval' does): from its model spec, or from
// modelName and width when given (or when the file has no spec).
func checkpointModel(path, modelName string, width float64, ds *data.Dataset) (*models.Model[float32], *modelSpec, error) {
	c, err := train.Open(path)
	if err != nil {
		return nil, nil, err
	}
	var spec modelSpec
	has, err := c.ModelSpec(&spec)
	if err != nil {
		return nil, nil, err
	}
	if modelName != "" {
		if err := checkModelName(modelName); err != nil {
			return nil, nil, err
		}
		spec.Model = modelName
		spec.Config = models.Config{InChannels: ds.C, NumClasses: ds.Classes, Width: width}
		if modelName == "mlp" {
			spec.Config.InFeatures = ds.C * ds.H * ds.W
		}
	} else if !has {
		return nil, nil, usagef("%s has no model spec; name the architecture with --model", path)
	}
	if cfg := spec.Config; (cfg.InChannels != 0 && cfg.InChannels != ds.C) || (cfg.NumClasses != 0 && cfg.NumClasses != ds.Classes) {
		return nil, nil, fmt.Errorf("the dataset has %d channels and %d classes, the checkpoint's %s takes %d channels and has %d outputs",
			ds.C, ds.Classes, spec.Model, cfg.InChannels, cfg.NumClasses)
	}
	m, err := models.New[float32](spec.Model, spec.Config)
	if err != nil {
		return nil, nil, err
	}
	if err := c.LoadModel(m); err != nil {
		return nil, nil, err
	}
	return m, &spec, nil
}

// normalisedInputs returns ds's images normalised with norm (nil: as they
// are), as one [N, C, H, W] float32 slice.
func normalisedInputs(ds *data.Dataset, norm *data.Stats) ([]float32, error) {
	var aug *data.Augment
	if norm != nil {
		aug = &data.Augment{Norm: norm}
	}
	ld, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: min(ds.N, 256), Augment: aug})
	if err != nil {
		return nil, err
	}
	defer ld.Close()
	x := make([]float32, 0, ds.N*ds.C*ds.H*ds.W)
	for {
		b, ok := ld.Next()
		if !ok {
			break
		}
		x = append(x, b.Images...)
		ld.Recycle(b)
	}
	return x, nil
}

// saveEvalArrays writes the logits of model (eval mode) on ds, normalised
// with norm, and/or those normalised inputs as .npy files ("" skips one).
func saveEvalArrays(ctx context.Context, model nn.Module[float32], ds *data.Dataset, batch int, norm *data.Stats, logitsPath, inputsPath string) error {
	x, err := normalisedInputs(ds, norm)
	if err != nil {
		return err
	}
	img := ds.C * ds.H * ds.W
	if inputsPath != "" {
		if err := checkpoint.WriteNPY(inputsPath, []int{ds.N, ds.C, ds.H, ds.W}, x); err != nil {
			return err
		}
	}
	if logitsPath == "" {
		return nil
	}
	if batch <= 0 {
		batch = 256
	}
	var logits []float32
	k := 0
	for i := 0; i < ds.N; i += batch {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		n := min(batch, ds.N-i)
		xt, err := tensor.FromSlice(x[i*img:(i+n)*img], n, ds.C, ds.H, ds.W)
		if err != nil {
			return err
		}
		y, err := model.Forward(xt, nn.Eval)
		if err != nil {
			return err
		}
		y = y.Contiguous()
		k = y.Shape()[1]
		logits = append(logits, y.Data()...)
	}
	return checkpoint.WriteNPY(logitsPath, []int{ds.N, k}, logits)
}
