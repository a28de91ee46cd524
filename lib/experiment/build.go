package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"repdyn/lib/data"
	"repdyn/lib/models"
	"repdyn/lib/optim"
	"repdyn/lib/train"
)

// synthConfig is the Synthetic dataset of a split; n <= 0 is the default size.
func synthConfig(split data.Split, n int) data.SynthConfig {
	if n <= 0 {
		n = 2048
	}
	seed := uint64(1)
	if split == data.Test {
		seed, n = 2, max(n/4, 256)
	}
	return data.SynthConfig{N: n, C: 3, H: 32, W: 32, Classes: 10, Noise: 0.3, Seed: seed}
}

// LoadDataset loads the first n images (n <= 0: all) of a split of a named
// dataset (data.Names, or Synthetic), fetching and verifying its files as
// data.Load does (opts may be nil: the data cache of `repdyn data fetch`,
// then the system directories).
func LoadDataset(name string, split data.Split, n int, opts *data.Options) (*data.Dataset, error) {
	if name == Synthetic {
		return data.Synthetic(synthConfig(split, n))
	}
	if !slices.Contains(data.Names(), name) {
		return nil, errf("unknown dataset %q (known: %s, %s)", name, joinNames(), Synthetic)
	}
	ds, err := data.Load(name, split, opts)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		ds = ds.First(n)
	}
	return ds, nil
}

// DataID identifies the data of a run: the dataset's files by their
// published checksums (data.Files; every file is verified against them when
// loaded) or the synthetic generator's parameters, and the number of images
// used of each split.
type DataID struct {
	Dataset string `json:"dataset"`
	Digest  string `json:"digest"` // hex SHA-256 of the file names and checksums
	TrainN  int    `json:"train_n"`
	TestN   int    `json:"test_n"`
}

// DataDigest is DataID.Digest of a named dataset, computed without reading
// its files.
func DataDigest(name string) (string, error) {
	h := sha256.New()
	if name == Synthetic {
		fmt.Fprintf(h, "synthetic %+v %+v\n", synthConfig(data.Train, 1), synthConfig(data.Test, 1))
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	files, err := data.Files(name)
	if err != nil {
		return "", errf("unknown dataset %q (known: %s, %s)", name, joinNames(), Synthetic)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		fmt.Fprintf(h, "%s %d %s %s %s\n", f.Name, f.Size, f.SHA256, f.MD5, f.ContentSHA256)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func joinNames() string {
	s := ""
	for i, n := range data.Names() {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// Meta is the model spec stored in every checkpoint of a run (lib/train's
// Config.ModelSpec), so that `repdyn eval` can rebuild the model and its
// input normalisation and a resumed run can compare its configuration.
type Meta struct {
	Model   string        `json:"model"`
	Config  models.Config `json:"config"`
	Dataset string        `json:"dataset"`
	Norm    *data.Stats   `json:"norm,omitempty"`
	Train   *Spec         `json:"train,omitempty"`     // the resolved Spec
	Hash    string        `json:"spec_hash,omitempty"` // Spec.Hash of the Spec as given
	Data    *DataID       `json:"data,omitempty"`
}

// Built is a Spec made concrete: what lib/train needs.
type Built struct {
	// Spec is the resolved spec: Normalize'd, with Pad decided by the image
	// size. Hash is the hash of the spec as given (Spec.Hash).
	Spec Spec
	Hash string
	Data DataID

	Train, Test *data.Dataset
	Stats       data.Stats // normalisation: the published statistics, else computed
	Augment     *data.Augment
	Model       *models.Model[float32]
	ModelConfig models.Config
	Optimizer   optim.Optimizer[float32]
	Schedule    optim.Schedule
	// StepsPerEpoch is the number of batches per epoch (the last, smaller
	// one is dropped: batch norm needs more than one image).
	StepsPerEpoch int
}

// Build validates s, loads its data (opts may be nil) and builds the model,
// optimizer, schedule and augmentation.
func (s Spec) Build(opts *data.Options) (*Built, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	trainSet, err := LoadDataset(s.Dataset, data.Train, s.Subset, opts)
	if err != nil {
		return nil, err
	}
	testSet, err := LoadDataset(s.Dataset, data.Test, s.TestSubset, opts)
	if err != nil {
		return nil, err
	}
	return s.BuildWith(trainSet, testSet)
}

// BuildWith is Build on data already loaded (testSet may be nil: no
// evaluation).
func (s Spec) BuildWith(trainSet, testSet *data.Dataset) (*Built, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if trainSet == nil || trainSet.N == 0 {
		return nil, errf("dataset %s: no training images", s.Dataset)
	}
	if s.Batch > trainSet.N {
		return nil, errf("--batch %d: must be in 1..%d (training images)", s.Batch, trainSet.N)
	}
	digest, err := DataDigest(s.Dataset)
	if err != nil {
		return nil, err
	}
	b := &Built{Hash: s.Hash(), Train: trainSet, Test: testSet}
	b.Data = DataID{Dataset: s.Dataset, Digest: digest, TrainN: trainSet.N}
	if testSet != nil {
		b.Data.TestN = testSet.N
	}
	r := s.Normalize()
	if r.Pad < 0 {
		switch trainSet.H {
		case 32:
			r.Pad = 4
		case 28:
			r.Pad = 2
		default:
			r.Pad = 0
		}
	}
	b.Spec = r

	// Normalisation: the dataset's published statistics, else computed.
	if b.Stats, err = data.KnownStats(r.Dataset); err != nil {
		b.Stats = data.ComputeStats(trainSet)
	}
	flip, _ := strconv.ParseBool(r.Flip)
	b.Augment = &data.Augment{Norm: &b.Stats, Pad: r.Pad, FlipH: flip}

	b.ModelConfig = models.Config{InChannels: trainSet.C, NumClasses: trainSet.Classes, Width: r.Width, Seed: r.Seed}
	if r.Model == "mlp" {
		b.ModelConfig.InFeatures = trainSet.C * trainSet.H * trainSet.W
	}
	if b.Model, err = models.New[float32](r.Model, b.ModelConfig); err != nil {
		return nil, err
	}
	switch r.Optimizer {
	case "sgd":
		b.Optimizer, err = optim.NewSGD(b.Model.Params(), optim.SGDConfig{LR: r.LR, Momentum: r.Momentum, Nesterov: r.Nesterov, WeightDecay: r.WD})
	default: // adam, adamw (Validate)
		c := optim.DefaultAdam()
		c.LR, c.WeightDecay = r.LR, r.WD
		if r.Momentum > 0 {
			c.Beta1 = r.Momentum
		}
		if r.Optimizer == "adam" {
			b.Optimizer, err = optim.NewAdam(b.Model.Params(), c)
		} else {
			b.Optimizer, err = optim.NewAdamW(b.Model.Params(), c)
		}
	}
	if err != nil {
		return nil, err
	}

	bpe := trainSet.N / r.Batch // DropLast: no tiny last batch for batch norm
	b.StepsPerEpoch = bpe
	total := r.Epochs * bpe
	if r.MaxSteps > 0 && r.MaxSteps < total {
		total = r.MaxSteps
	}
	warm := int(math.Round(r.Warmup * float64(bpe)))
	switch r.Schedule {
	case "const":
		b.Schedule = optim.Constant(r.LR)
	case "cosine":
		b.Schedule = optim.Cosine(r.LR, r.EtaMin, max(total-warm, 1))
	case "step":
		se := r.StepEpochs
		if se <= 0 {
			se = max(r.Epochs/3, 1)
		}
		b.Schedule = optim.StepDecay(r.LR, se*bpe, r.Gamma)
	case "multistep":
		ms, err := parseMilestones(r.Milestones, r.Epochs)
		if err != nil {
			return nil, err
		}
		for i := range ms {
			ms[i] = max(ms[i]*bpe-warm, 0)
		}
		b.Schedule = optim.MultiStep(r.LR, ms, r.Gamma)
	}
	b.Schedule = optim.Warmup(b.Schedule, warm)
	return b, nil
}

// Meta is the checkpoint metadata of the run.
func (b *Built) Meta() Meta {
	sp, id := b.Spec, b.Data
	return Meta{Model: sp.Model, Config: b.ModelConfig, Dataset: sp.Dataset, Norm: &b.Stats, Train: &sp, Hash: b.Hash, Data: &id}
}

// TrainConfig is the lib/train configuration of the run, without output
// folder, resume or callbacks (Open sets those).
func (b *Built) TrainConfig() train.Config[float32] {
	return train.Config[float32]{
		Model: b.Model, Optimizer: b.Optimizer, Schedule: b.Schedule,
		Train: b.Train, Eval: b.Test, BatchSize: b.Spec.Batch, DropLast: true, Augment: b.Augment,
		Epochs: b.Spec.Epochs, MaxSteps: b.Spec.MaxSteps, Seed: b.Spec.Seed, ModelSpec: b.Meta(),
	}
}
