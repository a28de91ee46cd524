package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"repdyn/lib/data"
	"repdyn/lib/models"
	"repdyn/lib/train"
)

// Mode says what Open does with a folder that already holds a run.
type Mode int

const (
	// New refuses a folder that holds a run (checkpoints or metrics).
	New Mode = iota
	// Resume continues the run in the folder from last.safetensors, after
	// checking that its stored configuration matches the Spec (only the
	// fields in Resumable may change); a folder without a run starts one.
	Resume
	// Fresh deletes the run's files in the folder (RunFiles), then starts.
	Fresh
)

// RunFiles are the files of a run in its folder.
var RunFiles = []string{"last.safetensors", "best.safetensors", "metrics.jsonl"}

// Options are the parts of a run that do not change its result.
type Options struct {
	Mode Mode
	// CheckpointEvery also writes last.safetensors every this many steps.
	CheckpointEvery int
	// EvalBatch is the evaluation batch size (default 256).
	EvalBatch int
	// Callbacks receive the trainer's events (progress, displays).
	Callbacks []train.Callback
	// Data says where the dataset files are (nil: the defaults).
	Data *data.Options
}

// Run is a Spec opened in its folder, ready to train.
type Run struct {
	Dir     string
	Built   *Built
	Trainer *train.Trainer[float32]
	// Resumed is the step the run continues from (0: a new run).
	Resumed int

	metrics *os.File
}

// Open validates s, loads its data, applies the folder rule of o.Mode to dir
// and returns the run with its trainer, positioned at the checkpoint when it
// resumes. Nothing is created in dir before the Spec and the folder have
// been checked. Errors about the spec or the folder are *Error (one line).
func Open(s Spec, dir string, o Options) (*Run, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errf("experiment: no run folder")
	}
	b, err := s.Build(o.Data)
	if err != nil {
		return nil, err
	}
	return OpenBuilt(b, dir, o)
}

// OpenBuilt is Open on a Built spec.
func OpenBuilt(b *Built, dir string, o Options) (*Run, error) {
	var present []string
	for _, f := range RunFiles {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			present = append(present, f)
		}
	}
	last := filepath.Join(dir, "last.safetensors")
	_, lerr := os.Lstat(last)
	hasLast := lerr == nil
	switch o.Mode {
	case New:
		if len(present) > 0 {
			return nil, errf("%s already holds a run (%s): add --resume to continue it or --fresh to replace it", dir, strings.Join(present, ", "))
		}
	case Resume:
		if len(present) > 0 && !hasLast {
			return nil, errf("%s holds files of a run (%s) but no last.safetensors to resume from: use --fresh to replace them", dir, strings.Join(present, ", "))
		}
		if hasLast {
			if err := checkResume(b, last); err != nil {
				return nil, err
			}
		}
	case Fresh:
		for _, f := range present {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("--fresh: %w", err)
			}
		}
		hasLast = false
	default:
		return nil, fmt.Errorf("experiment: unknown Mode %d", o.Mode)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// O_NOFOLLOW: a symbolic link planted in the folder must not make the
	// run append to a file outside it.
	mf, err := train.OpenAppend(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, Built: b, metrics: mf}
	cfg := b.TrainConfig()
	cfg.OutDir, cfg.KeepBest, cfg.CheckpointEvery, cfg.EvalBatch = dir, true, o.CheckpointEvery, o.EvalBatch
	cfg.Callbacks = append(append([]train.Callback{}, o.Callbacks...), train.Callback{OnEpoch: func(e *train.EpochInfo) error {
		r := *e
		r.Epoch++ // metrics.jsonl numbers epochs from 1, as train.Progress prints them
		return json.NewEncoder(mf).Encode(r)
	}})
	if hasLast {
		cfg.Resume = last
	}
	if r.Trainer, err = train.New(cfg); err != nil {
		mf.Close()
		return nil, err
	}
	r.Resumed = r.Trainer.State().Step
	return r, nil
}

// checkResume compares the configuration stored in the checkpoint at path
// with b and names every difference in one line.
func checkResume(b *Built, path string) error {
	c, err := train.Open(path)
	if err != nil {
		return err
	}
	var m Meta
	if _, err := c.ModelSpec(&m); err != nil {
		return err
	}
	if m.Train == nil {
		return errf("resume: %s stores no experiment spec (written by an older repdyn?): use --fresh to start over", path)
	}
	diffs := Diff(*m.Train, b.Spec)
	if m.Data != nil {
		if m.Data.Digest != b.Data.Digest {
			diffs = append(diffs, fmt.Sprintf("dataset %s: its files differ from the checkpoint's (digest %.12s, checkpoint %.12s)", b.Data.Dataset, b.Data.Digest, m.Data.Digest))
		}
		if m.Data.TrainN != b.Data.TrainN {
			diffs = append(diffs, fmt.Sprintf("%d training images differ from the checkpoint's %d", b.Data.TrainN, m.Data.TrainN))
		}
		if m.Data.TestN != b.Data.TestN {
			diffs = append(diffs, fmt.Sprintf("%d test images differ from the checkpoint's %d", b.Data.TestN, m.Data.TestN))
		}
	}
	if len(diffs) > 0 {
		return errf("resume: %s (resume with the checkpoint's flags, or --fresh to start over)", strings.Join(diffs, "; "))
	}
	return nil
}

// Outcome is what a finished (or interrupted) run produced; it is what the
// notebooks keep in their cache.
type Outcome struct {
	Spec   Spec   `json:"spec"`      // resolved (Built.Spec)
	Hash   string `json:"spec_hash"` // Spec.Hash of the spec as given
	Data   DataID `json:"data"`
	Dir    string `json:"dir"`
	Steps  int    `json:"steps"`
	Params int    `json:"params"`
	// Epochs are the metrics of every epoch, including those of earlier
	// sessions of a resumed run; Final is the last one.
	Epochs         []train.EpochInfo `json:"epochs"`
	Final          train.EpochInfo   `json:"final"`
	BestAcc        float64           `json:"best_acc"`
	BestEpoch      int               `json:"best_epoch"`
	LastCheckpoint string            `json:"last_checkpoint"`
	BestCheckpoint string            `json:"best_checkpoint,omitempty"`
	Interrupted    bool              `json:"interrupted,omitempty"`
	Finished       time.Time         `json:"finished"`
}

// Params counts the model's parameters.
func (r *Run) Params() int {
	n := 0
	for _, p := range r.Built.Model.Params() {
		n += len(p.Data)
	}
	return n
}

// Run trains until the spec's budget is spent or ctx is canceled (then the
// error satisfies errors.Is(err, train.ErrInterrupted) and the Outcome
// describes the state at the checkpoint, with Interrupted set). It closes
// the run's files.
func (r *Run) Run(ctx context.Context) (*Outcome, error) {
	defer r.Close()
	res, err := r.Trainer.Run(ctx)
	var out *Outcome
	if res != nil {
		b := r.Built
		out = &Outcome{Spec: b.Spec, Hash: b.Hash, Data: b.Data, Dir: r.Dir, Steps: res.State.Step, Params: r.Params(),
			Epochs: res.State.History, Final: res.Final, BestAcc: res.State.BestAcc, BestEpoch: res.State.BestEpoch,
			LastCheckpoint: res.LastCheckpoint, BestCheckpoint: res.BestCheckpoint,
			Interrupted: errors.Is(err, train.ErrInterrupted), Finished: time.Now().UTC()}
	}
	return out, err
}

// Close closes the run's metrics file (Run does it).
func (r *Run) Close() error {
	if r.metrics == nil {
		return nil
	}
	err := r.metrics.Close()
	r.metrics = nil
	return err
}

// LoadModel rebuilds the model stored in a checkpoint written by a run
// (its Meta) and loads its weights.
func LoadModel(path string) (*models.Model[float32], *Meta, error) {
	c, err := train.Open(path)
	if err != nil {
		return nil, nil, err
	}
	var m Meta
	ok, err := c.ModelSpec(&m)
	if err != nil {
		return nil, nil, err
	}
	if !ok || m.Model == "" {
		return nil, nil, fmt.Errorf("experiment: %s has no model spec", path)
	}
	// Shapes derived from the spec are checked against the file's header
	// before anything is allocated.
	model, err := NewModel[float32](c, m.Model, m.Config)
	if err != nil {
		return nil, nil, err
	}
	return model, &m, nil
}

// Evaluate reloads the outcome's last checkpoint and returns its loss and
// accuracy on the spec's test images (opts may be nil).
func (o *Outcome) Evaluate(ctx context.Context, opts *data.Options) (loss, acc float64, err error) {
	model, m, err := LoadModel(o.LastCheckpoint)
	if err != nil {
		return 0, 0, err
	}
	test, err := LoadDataset(o.Spec.Dataset, data.Test, o.Spec.TestSubset, opts)
	if err != nil {
		return 0, 0, err
	}
	return train.Evaluate[float32](ctx, model, test, 256, m.Norm)
}
