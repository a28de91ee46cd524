package train

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"repdyn/lib/checkpoint"
	"repdyn/lib/nn"
	"repdyn/lib/optim"
)

// Metadata keys of a training checkpoint.
const (
	// MetaState holds the JSON State.
	MetaState = "repdyn.train"
	// MetaModel holds Config.ModelSpec as JSON (how to rebuild the model).
	MetaModel = "repdyn.model"
	// OptimPrefix prefixes the optimizer's tensors; the model's parameters
	// and buffers are stored under their own (PyTorch state_dict) names.
	OptimPrefix = "optim."
)

// State is the training position and bookkeeping stored (as JSON) in a
// checkpoint's metadata. Together with the model's parameters and buffers
// and the optimizer's tensors it determines the rest of the run: the data
// order and augmentation are functions of (Seed, Epoch, Batch), the learning
// rate a function of Step.
type State struct {
	Version   int    `json:"version"`
	DType     string `json:"dtype"` // "float32" or "float64"
	Seed      uint64 `json:"seed"`  // Config.Seed (the data loader's seed)
	BatchSize int    `json:"batch_size"`
	TrainN    int    `json:"train_n"` // images in the training set
	Epochs    int    `json:"epochs"`  // Config.Epochs
	MaxSteps  int    `json:"max_steps,omitempty"`
	Epoch     int    `json:"epoch"` // epoch of the next batch
	Batch     int    `json:"batch"` // batches of Epoch already trained on
	Step      int    `json:"step"`  // optimizer steps taken
	Done      bool   `json:"done"`  // training finished
	// EvalPending: Epoch-1 finished training but its evaluation was
	// interrupted; a resumed run evaluates it first.
	EvalPending bool        `json:"eval_pending,omitempty"`
	Optimizer   string      `json:"optimizer"`
	OptSteps    int         `json:"optimizer_steps"`
	LR          float64     `json:"lr"` // learning rate of the last step
	Schedule    string      `json:"schedule"`
	BestAcc     float64     `json:"best_acc"` // best evaluation accuracy so far (-1: none)
	BestEpoch   int         `json:"best_epoch"`
	History     []EpochInfo `json:"history"`
	Interrupted bool        `json:"interrupted,omitempty"`
	// Sums over the batches of the current epoch trained so far (for the
	// epoch's metrics after a resume).
	EpochLoss    float64 `json:"epoch_loss_sum"`
	EpochCorrect int     `json:"epoch_correct"`
	EpochImages  int     `json:"epoch_images"`
	EpochSeconds float64 `json:"epoch_seconds"`
}

const stateVersion = 1

func dtypeOf[T nn.Float]() string {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return "float32"
	}
	return "float64"
}

func toTensor[T nn.Float](name string, shape []int, v []T) checkpoint.Tensor {
	var z T
	if unsafe.Sizeof(z) == 4 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return checkpoint.FromFloat32(name, shape, f)
	}
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return checkpoint.FromFloat64(name, shape, f)
}

// decodeInto copies a float tensor of either width into dst (len must match).
func decodeInto[T nn.Float](t *checkpoint.Tensor, dst []T) error {
	switch t.DType {
	case checkpoint.F32:
		v, err := t.Float32s()
		if err != nil {
			return err
		}
		return convertInto(t.Name, v, dst)
	case checkpoint.F64:
		v, err := t.Float64s()
		if err != nil {
			return err
		}
		return convertInto(t.Name, v, dst)
	}
	return decodeOther(t, dst) // F16/BF16 and integer counters: interop.go
}

// convertInto copies the values of tensor name into dst, converting them.
func convertInto[S, T nn.Float](name string, v []S, dst []T) error {
	if len(v) != len(dst) {
		return fmt.Errorf("tensor %q has %d values, want %d", name, len(v), len(dst))
	}
	for i, x := range v {
		dst[i] = T(x)
	}
	return nil
}

// modelTensors returns the model's parameters and buffers as checkpoint
// tensors; bufs, if not nil, replaces the buffers' data (a snapshot).
func modelTensors[T nn.Float](m nn.Module[T], bufs [][]T) []checkpoint.Tensor {
	var ts []checkpoint.Tensor
	for _, p := range m.Params() {
		ts = append(ts, toTensor(p.Name, p.Shape, p.Data))
	}
	for i, b := range m.Buffers() {
		d := b.Data
		if bufs != nil {
			d = bufs[i]
		}
		ts = append(ts, toTensor(b.Name, b.Shape, d))
	}
	return ts
}

// Save writes a checkpoint of model (parameters and buffers), the optimizer
// state (if opt is not nil), st and the model spec (JSON, may be nil) to
// path, atomically.
func Save[T nn.Float](path string, model nn.Module[T], opt optim.Optimizer[T], st *State, modelSpec any) error {
	return save(path, model, nil, opt, st, modelSpec)
}

func save[T nn.Float](path string, model nn.Module[T], bufs [][]T, opt optim.Optimizer[T], st *State, modelSpec any) error {
	ts := modelTensors(model, bufs)
	if opt != nil {
		ost := opt.State()
		for _, b := range ost.Tensors {
			ts = append(ts, toTensor(OptimPrefix+b.Name, b.Shape, b.Data))
		}
	}
	meta := map[string]string{"format": "pt"}
	var err error
	if st != nil {
		if meta, err = checkpoint.PutJSON(meta, MetaState, st); err != nil {
			return err
		}
	}
	if modelSpec != nil {
		if meta, err = checkpoint.PutJSON(meta, MetaModel, modelSpec); err != nil {
			return err
		}
	}
	return checkpoint.Write(path, ts, meta)
}

// Checkpoint is a checkpoint file read back.
type Checkpoint struct {
	Path string
	File *checkpoint.File
	// State is nil for a file without training state (e.g. weights only).
	State *State
}

// Open reads a checkpoint file.
func Open(path string) (*Checkpoint, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Path: path, File: f}
	if _, ok := f.Metadata[MetaState]; ok {
		c.State = new(State)
		if err := checkpoint.GetJSON(f.Metadata, MetaState, c.State); err != nil {
			return nil, fmt.Errorf("train: checkpoint %s: bad training state: %w", path, err)
		}
	}
	return c, nil
}

// ModelSpec decodes the model spec stored by the trainer into v; it reports
// false when the checkpoint has none.
func (c *Checkpoint) ModelSpec(v any) (bool, error) {
	raw, ok := c.File.Metadata[MetaModel]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return true, fmt.Errorf("train: checkpoint %s: bad model spec: %w", c.Path, err)
	}
	return true, nil
}

// LoadModel copies the checkpoint's parameters and buffers into m. Every
// parameter and buffer of m must be present with the same shape, and the
// checkpoint must have no model tensor that m lacks; the error names the
// first mismatching tensor (in m's order), so loading a checkpoint of
// another architecture fails clearly. m is unchanged on error.
func (c *Checkpoint) LoadModel(m any) error {
	switch mm := m.(type) {
	case nn.Module[float32]:
		return loadModel(c, mm)
	case nn.Module[float64]:
		return loadModel(c, mm)
	}
	return fmt.Errorf("train: LoadModel: %T is not an nn.Module[float32] or nn.Module[float64]", m)
}

func loadModel[T nn.Float](c *Checkpoint, m nn.Module[T]) error {
	type slot struct {
		name  string
		shape []int
		data  []T
	}
	var slots []slot
	var shapes []nn.TensorShape
	for _, p := range m.Params() {
		slots = append(slots, slot{p.Name, p.Shape, p.Data})
		shapes = append(shapes, nn.TensorShape{Name: p.Name, Shape: p.Shape})
	}
	for _, b := range m.Buffers() {
		slots = append(slots, slot{b.Name, b.Shape, b.Data})
		shapes = append(shapes, nn.TensorShape{Name: b.Name, Shape: b.Shape, Buffer: true})
	}
	if err := c.fits(shapes, "the model"); err != nil {
		return err
	}
	// All checked: now copy (decoding can still fail on a bad dtype, so
	// decode everything before writing anything).
	vals := make([][]T, len(slots))
	for i, s := range slots {
		t, _ := c.File.Get(s.name)
		vals[i] = make([]T, len(s.data))
		if err := decodeInto(t, vals[i]); err != nil {
			return fmt.Errorf("train: checkpoint %s: %w", c.Path, err)
		}
	}
	for i, s := range slots {
		copy(s.data, vals[i])
	}
	return nil
}

// CheckShapes compares the tensors a model would have (lib/models.Shapes) with
// the checkpoint's, as LoadModel does but without a model: every one must be
// present with the same shape and the checkpoint must have no other model
// tensor. The error names the first mismatching tensor.
func (c *Checkpoint) CheckShapes(shapes []nn.TensorShape) error {
	return c.fits(shapes, "its model spec")
}

func (c *Checkpoint) fits(shapes []nn.TensorShape, what string) error {
	known := make(map[string]bool, len(shapes))
	for _, s := range shapes {
		known[s.Name] = true
		t, ok := c.File.Get(s.Name)
		if !ok {
			return fmt.Errorf("train: checkpoint %s does not fit %s: it has no tensor %q (shape %v); is it a checkpoint of another architecture?", c.Path, what, s.Name, s.Shape)
		}
		if !slices.Equal(t.Shape, s.Shape) {
			return fmt.Errorf("train: checkpoint %s does not fit %s: tensor %q has shape %v in the checkpoint and %v in the model", c.Path, what, s.Name, t.Shape, s.Shape)
		}
	}
	for _, n := range c.File.Names() {
		if !known[n] && !strings.HasPrefix(n, OptimPrefix) {
			return fmt.Errorf("train: checkpoint %s does not fit %s: its tensor %q is not in the model", c.Path, what, n)
		}
	}
	return nil
}

// LoadOptimizer restores the optimizer's state from the checkpoint.
func LoadOptimizer[T nn.Float](c *Checkpoint, opt optim.Optimizer[T]) error {
	if c.State == nil {
		return fmt.Errorf("train: checkpoint %s has no training state", c.Path)
	}
	st := &optim.State[T]{Kind: c.State.Optimizer, Steps: c.State.OptSteps}
	for _, n := range c.File.Names() {
		if !strings.HasPrefix(n, OptimPrefix) {
			continue
		}
		t, _ := c.File.Get(n)
		b := &nn.Buffer[T]{Name: strings.TrimPrefix(n, OptimPrefix), Shape: slices.Clone(t.Shape), Data: make([]T, t.Elements())}
		if err := decodeInto(t, b.Data); err != nil {
			return fmt.Errorf("train: checkpoint %s: %w", c.Path, err)
		}
		st.Tensors = append(st.Tensors, b)
	}
	if err := opt.LoadState(st); err != nil {
		return fmt.Errorf("train: checkpoint %s: %w", c.Path, err)
	}
	return nil
}
