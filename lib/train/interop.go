package train

import (
	"fmt"
	"strings"

	"repdyn/lib/checkpoint"
	"repdyn/lib/nn"
)

// PyTorch interop: a checkpoint written by PyTorch (safetensors.torch
// save_file of a state_dict) has F16/BF16 or F32 weights and I64 counters
// (batch norm's num_batches_tracked); a file for PyTorch must have exactly
// the state_dict's tensors (no optimizer state) with those dtypes, so that
// load_state_dict(strict=True) accepts it.

// counterSuffix names the integer buffers of PyTorch models: counts that
// carry no weight (batch norm's num_batches_tracked only matters with
// momentum=None, which the library does not use).
const counterSuffix = "num_batches_tracked"

func isCounter(name string) bool {
	return name == counterSuffix || strings.HasSuffix(name, "."+counterSuffix)
}

// decodeOther decodes the dtypes other than F32/F64 into dst: F16 and
// BF16 are cast exactly; integer tensors are accepted only for counters
// (num_batches_tracked), which must be non-negative.
func decodeOther[T nn.Float](t *checkpoint.Tensor, dst []T) error {
	switch {
	case t.DType == checkpoint.F16 || t.DType == checkpoint.BF16:
	case t.DType.IsInteger() && isCounter(t.Name):
	case t.DType.IsInteger():
		return fmt.Errorf("tensor %q has integer dtype %s; only num_batches_tracked counters may be integers (weights want F32, F64, F16 or BF16)", t.Name, t.DType)
	default:
		return fmt.Errorf("tensor %q has dtype %s, want F32, F64, F16 or BF16", t.Name, t.DType)
	}
	v, err := t.AsFloat64s()
	if err != nil {
		return err
	}
	if t.DType.IsInteger() {
		for i, x := range v {
			if x < 0 {
				return fmt.Errorf("tensor %q: count %v at index %d is negative", t.Name, x, i)
			}
		}
	}
	return convertInto(t.Name, v, dst)
}

// ExportTensors converts a model's tensors for PyTorch: optimizer tensors
// (OptimPrefix) are dropped, counters (num_batches_tracked) become I64
// scalars, every other tensor is converted to dtype (F32, F64, F16 or
// BF16; "" keeps each tensor's own float dtype). The result loads with
// load_state_dict(strict=True) into the PyTorch module the names come from.
func ExportTensors(ts []checkpoint.Tensor, dtype checkpoint.DType) ([]checkpoint.Tensor, error) {
	if dtype != "" && !dtype.IsFloat() {
		return nil, fmt.Errorf("train: export dtype %s: want F32, F64, F16 or BF16", dtype)
	}
	var out []checkpoint.Tensor
	for i := range ts {
		t := &ts[i]
		if strings.HasPrefix(t.Name, OptimPrefix) {
			continue
		}
		want := dtype
		if isCounter(t.Name) {
			want = checkpoint.I64
		} else if want == "" {
			want = t.DType
		}
		if t.DType == want {
			out = append(out, *t)
			continue
		}
		if !t.DType.IsFloat() && !isCounter(t.Name) {
			return nil, fmt.Errorf("train: export: tensor %q has dtype %s, want a float dtype", t.Name, t.DType)
		}
		v, err := t.AsFloat64s()
		if err != nil {
			return nil, fmt.Errorf("train: export: %w", err)
		}
		c, err := checkpoint.FromFloat64As(t.Name, want, t.Shape, v)
		if err != nil {
			return nil, fmt.Errorf("train: export: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Export writes the checkpoint's model tensors to path in the form PyTorch
// loads with load_state_dict(strict=True) (see ExportTensors), with the
// model spec kept in the metadata (so `repdyn eval` can still rebuild the
// model) and no training state.
func (c *Checkpoint) Export(path string, dtype checkpoint.DType) error {
	ts, err := ExportTensors(c.File.Tensors, dtype)
	if err != nil {
		return err
	}
	meta := map[string]string{"format": "pt"}
	if s, ok := c.File.Metadata[MetaModel]; ok {
		meta[MetaModel] = s
	}
	return checkpoint.Write(path, ts, meta)
}

// ExportModel writes m's parameters and buffers to path for PyTorch (as
// Checkpoint.Export; modelSpec, if not nil, goes into the metadata).
func ExportModel[T nn.Float](path string, m nn.Module[T], dtype checkpoint.DType, modelSpec any) error {
	ts, err := ExportTensors(modelTensors(m, nil), dtype)
	if err != nil {
		return err
	}
	meta := map[string]string{"format": "pt"}
	if modelSpec != nil {
		if meta, err = checkpoint.PutJSON(meta, MetaModel, modelSpec); err != nil {
			return err
		}
	}
	return checkpoint.Write(path, ts, meta)
}
