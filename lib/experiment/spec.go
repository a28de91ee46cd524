// Package experiment is the one description of a training run that the
// command line (`repdyn train`), the notebooks and the Kubernetes job share:
// a Spec names the model, the dataset, the optimizer, the learning-rate
// schedule, the augmentation, the seed and the budget, with the defaults of
// `repdyn train` (padding by image size, flips off for digit datasets, the
// dataset's normalisation statistics, linear warm-up).
//
// A Spec is plain data: it is read from and written to JSON, validated with
// one-line errors (Validate), and hashed canonically (Hash) for cache keys
// and checkpoint metadata. Build turns it into what lib/train needs (model,
// optimizer, schedule, data, augmentation); Open runs it in a folder with the
// resume/overwrite rules of `repdyn train` (a folder holding a run is only
// continued with Resume, and only when its stored configuration matches).
//
//	s := experiment.Default()
//	s.Model, s.Dataset, s.Width, s.Epochs = "resnet20", "fashion-mnist", 0.25, 3
//	r, err := experiment.Open(s, "runs/r20", experiment.Options{Mode: experiment.Resume})
//	out, err := r.Run(ctx) // *Outcome: per-epoch metrics, checkpoints
//
// The package sits above lib/train and lib/models (lib/train does not know
// about models).
package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"repdyn/lib/data"
	"repdyn/lib/models"
)

// Spec is everything that determines the result of a training run. The JSON
// names are those stored in checkpoints (field "train" of the model spec);
// the flag tag names the `repdyn train` flag of each field.
type Spec struct {
	Model      string  `json:"model" flag:"model"`
	Width      float64 `json:"width" flag:"width"`
	Dataset    string  `json:"dataset" flag:"dataset"`
	Epochs     int     `json:"epochs" flag:"epochs"`
	MaxSteps   int     `json:"max_steps,omitempty" flag:"max-steps"`
	Batch      int     `json:"batch" flag:"batch"`
	Optimizer  string  `json:"optimizer" flag:"optimizer"`
	LR         float64 `json:"lr" flag:"lr"`
	Momentum   float64 `json:"momentum" flag:"momentum"`
	Nesterov   bool    `json:"nesterov" flag:"nesterov"`
	WD         float64 `json:"wd" flag:"wd"`
	Schedule   string  `json:"schedule" flag:"schedule"`
	Warmup     float64 `json:"warmup_epochs" flag:"warmup"`
	Milestones string  `json:"milestones,omitempty" flag:"milestones"`
	StepEpochs int     `json:"step_epochs,omitempty" flag:"step-epochs"`
	Gamma      float64 `json:"gamma" flag:"gamma"`
	EtaMin     float64 `json:"eta_min" flag:"eta-min"`
	Pad        int     `json:"pad" flag:"pad"`
	Flip       string  `json:"flip" flag:"flip"`
	Seed       uint64  `json:"seed" flag:"seed"`
	Subset     int     `json:"subset,omitempty" flag:"subset"`
	TestSubset int     `json:"test_subset,omitempty" flag:"test-subset"`
}

// Default returns the defaults of `repdyn train` (Model and Dataset empty).
func Default() Spec {
	return Spec{Width: 1, Epochs: 30, Batch: 128, Optimizer: "sgd", LR: 0.1, Momentum: 0.9, WD: 5e-4,
		Schedule: "cosine", Gamma: 0.1, Pad: -1, Flip: "auto", Seed: 1}
}

// Synthetic is a dataset name known only to this package: seeded
// Gaussian-blob images (3x32x32, 10 classes) for trying things out offline.
const Synthetic = "synthetic"

// Limits on the sizes a Spec may ask for (a typo must not allocate
// terabytes or run for years).
const (
	MaxWidth      = 64
	MaxEpochs     = 1_000_000
	MaxBatch      = 1 << 16
	MaxTotalSteps = 1 << 30
	MaxPad        = 64
	maxMilestone  = MaxEpochs
)

// digits are datasets whose images must not be mirrored.
var digits = map[string]bool{"mnist": true, "kmnist": true, "svhn": true, "semeion": true}

// Error is a problem with a Spec, or with how it meets a run folder: the
// caller's input rather than a failure of the run. Its message is one line;
// Usage reports true so that the command line exits with status 2.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Usage marks the error as a usage error (exit status 2 in `repdyn`).
func (e *Error) Usage() bool { return true }

func errf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Validate checks every field against its range and the names against the
// known models, datasets, optimizers and schedules. The error is one line
// naming the flag and the value, e.g. "--subset -5: must be >= 0 (0: all
// images)". It needs no data: a training set too small for the batch is
// found by Build.
func (s Spec) Validate() error {
	switch {
	case s.Model == "" && s.Dataset == "":
		return errf("--model and --dataset are required (see 'repdyn train -h')")
	case s.Model == "":
		return errf("--model is required (known: %s)", strings.Join(models.Names(), ", "))
	case s.Dataset == "":
		return errf("--dataset is required (known: %s, %s)", strings.Join(data.Names(), ", "), Synthetic)
	}
	if !knownModel(s.Model) {
		return errf("unknown model %q (known: %s)", s.Model, strings.Join(models.Names(), ", "))
	}
	if s.Dataset != Synthetic && !slices.Contains(data.Names(), s.Dataset) {
		return errf("unknown dataset %q (known: %s, %s)", s.Dataset, strings.Join(data.Names(), ", "), Synthetic)
	}
	switch s.Optimizer {
	case "sgd", "adam", "adamw":
	default:
		return errf("unknown --optimizer %q (want sgd, adam or adamw)", s.Optimizer)
	}
	switch s.Schedule {
	case "const", "constant", "cosine", "step", "multistep":
	default:
		return errf("unknown --schedule %q (want const, cosine, step or multistep)", s.Schedule)
	}
	if _, _, err := parseFlip(s.Flip); err != nil {
		return err
	}
	switch {
	case !finite(s.Width) || s.Width <= 0 || s.Width > MaxWidth:
		return errf("--width %v: must be in (0, %d]", s.Width, MaxWidth)
	case s.Epochs < 1 || s.Epochs > MaxEpochs:
		return errf("--epochs %d: must be in 1..%d", s.Epochs, MaxEpochs)
	case s.MaxSteps < 0 || s.MaxSteps > MaxTotalSteps:
		return errf("--max-steps %d: must be in 0..%d (0: all epochs)", s.MaxSteps, MaxTotalSteps)
	case s.Batch < 1 || s.Batch > MaxBatch:
		return errf("--batch %d: must be in 1..%d", s.Batch, MaxBatch)
	case !finite(s.LR) || s.LR <= 0:
		return errf("--lr %v: must be a finite number > 0", s.LR)
	case !finite(s.Momentum) || s.Momentum < 0 || s.Momentum >= 1:
		return errf("--momentum %v: must be in [0, 1)", s.Momentum)
	case !finite(s.WD) || s.WD < 0:
		return errf("--wd %v: must be a finite number >= 0", s.WD)
	case !finite(s.Warmup) || s.Warmup < 0 || s.Warmup > float64(s.Epochs):
		return errf("--warmup %v: must be in [0, --epochs %d]", s.Warmup, s.Epochs)
	case s.StepEpochs < 0 || s.StepEpochs > MaxEpochs:
		return errf("--step-epochs %d: must be in 0..%d (0: epochs/3)", s.StepEpochs, MaxEpochs)
	case !finite(s.Gamma) || s.Gamma <= 0:
		return errf("--gamma %v: must be a finite number > 0", s.Gamma)
	case !finite(s.EtaMin) || s.EtaMin < 0:
		return errf("--eta-min %v: must be a finite number >= 0", s.EtaMin)
	case s.Pad < -1 || s.Pad > MaxPad:
		return errf("--pad %d: must be in -1..%d (-1: by image size)", s.Pad, MaxPad)
	case s.Subset < 0:
		return errf("--subset %d: must be >= 0 (0: all images)", s.Subset)
	case s.TestSubset < 0:
		return errf("--test-subset %d: must be >= 0 (0: all images)", s.TestSubset)
	}
	if _, err := parseMilestones(s.Milestones, s.Epochs); err != nil {
		return err
	}
	return nil
}

func knownModel(name string) bool {
	canon := func(s string) string { return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(s)) }
	for _, n := range models.Names() {
		if canon(n) == canon(name) {
			return true
		}
	}
	return false
}

func parseFlip(s string) (auto, flip bool, err error) {
	switch s {
	case "auto":
		return true, false, nil
	case "true", "1", "yes":
		return false, true, nil
	case "false", "0", "no":
		return false, false, nil
	}
	return false, false, errf("--flip %q: want true, false or auto", s)
}

// parseMilestones returns the multistep milestones in epochs (default 50%
// and 75% of epochs).
func parseMilestones(s string, epochs int) ([]int, error) {
	if s == "" {
		return []int{max(epochs/2, 1), max(epochs*3/4, 1)}, nil
	}
	var ms []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 0 || v > maxMilestone {
			return nil, errf("--milestones %q: want a comma list of epochs in 0..%d", s, maxMilestone)
		}
		ms = append(ms, v)
	}
	return ms, nil
}

// Normalize returns s in canonical form: the flip decided for the dataset
// ("auto" becomes "true" or "false"), synonyms replaced ("constant" is
// "const", "1"/"yes" are "true"), milestones without spaces. Specs that
// train identically up to the image size normalise to the same value. (Pad
// -1, which depends on the image size, is resolved by Build.)
func (s Spec) Normalize() Spec {
	if auto, flip, err := parseFlip(s.Flip); err == nil {
		if auto {
			flip = !digits[s.Dataset]
		}
		s.Flip = strconv.FormatBool(flip)
	}
	if s.Schedule == "constant" {
		s.Schedule = "const"
	}
	if s.Milestones != "" {
		parts := strings.Split(s.Milestones, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		s.Milestones = strings.Join(parts, ",")
	}
	return s
}

// hashVersion changes when the meaning of a Spec field changes.
const hashVersion = "repdyn.experiment/v1"

// Hash is the hex SHA-256 of the canonical JSON of s.Normalize(): equal for
// specs that train the same way, different when any field that matters
// differs. Cache keys and checkpoint metadata use it.
func (s Spec) Hash() string {
	b, err := json.Marshal(s.Normalize())
	if err != nil { // cannot happen: a struct of numbers, strings and bools
		panic(err)
	}
	h := sha256.New()
	h.Write([]byte(hashVersion + "\n"))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// JSON returns the indented JSON of s.
func (s Spec) JSON() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return b
}

// Parse decodes a JSON spec over the defaults (fields it does not name keep
// their Default values); unknown fields are an error.
func Parse(b []byte) (Spec, error) {
	s := Default()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, errf("spec: %v", err)
	}
	return s, nil
}

// field describes one Spec field for Diff and the flags.
type field struct {
	flag string
	idx  int
}

var fields = func() []field {
	t := reflect.TypeOf(Spec{})
	var fs []field
	for i := range t.NumField() {
		fs = append(fs, field{t.Field(i).Tag.Get("flag"), i})
	}
	return fs
}()

// Resumable lists the fields a resumed run may change: training longer.
var Resumable = []string{"epochs", "max-steps"}

// Diff lists, one string per field, how cur differs from stored (both
// normalised; the fields in Resumable are ignored), e.g. "--lr 5 differs
// from the checkpoint's 0.1".
func Diff(stored, cur Spec) []string {
	a, b := reflect.ValueOf(stored.Normalize()), reflect.ValueOf(cur.Normalize())
	var out []string
	for _, f := range fields {
		if slices.Contains(Resumable, f.flag) {
			continue
		}
		va, vb := a.Field(f.idx).Interface(), b.Field(f.idx).Interface()
		if va != vb {
			out = append(out, fmt.Sprintf("--%s %v differs from the checkpoint's %v", f.flag, show(vb), show(va)))
		}
	}
	return out
}

func show(v any) any {
	if s, ok := v.(string); ok && s == "" {
		return `""`
	}
	return v
}
