package theory

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"

	"repdyn/lib/linalg"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
	"repdyn/lib/train"
)

// NTKRecord is one measurement of the tracker.
type NTKRecord struct {
	Step           int       `json:"step"`
	KernelDistance float64   `json:"kernel_distance"` // ||K_t - K_0||_F / ||K_0||_F
	TopEigen       []float64 `json:"top_eigen"`       // largest eigenvalues of K_t
	Rho            float64   `json:"rho"`             // DAA residual of the probe targets at tau 1e-8 (NaN without targets)
	Rank           int       `json:"rank"`            // rank J on the probe at tau 1e-8
	Alignment      float64   `json:"alignment"`       // kernel-target alignment (NaN without targets)
	// RhoPerTau is rho at every cut-off of the tracker's Taus (nil without
	// targets), RankPerTau the rank there and FloorPerTau the round-off floor.
	RhoPerTau   []float64 `json:"rho_per_tau"`
	RankPerTau  []int     `json:"rank_per_tau"`
	FloorPerTau []float64 `json:"floor_per_tau"`
	// SigmaMinPlus is the smallest singular value of J above 1e-8 sigma_max
	// (sigma_min+ of R5); SigmaMax the largest.
	SigmaMinPlus float64 `json:"sigma_min_plus"`
	SigmaMax     float64 `json:"sigma_max"`
	// PLRatio is R5's ||J^T r||^2 / (sigma_min+^2 ||r||^2) for the residual
	// r = yhat - y of the probe targets (>= 1 while r is in Col J; NaN
	// without targets or at r = 0).
	PLRatio float64 `json:"pl_ratio"`
	// LayerDistance is the per-layer kernel distance ||K_l,t - K_l,0||_F /
	// ||K_l,0||_F, one per entry of the tracker's Layers.
	LayerDistance []float64 `json:"layer_kernel_distance"`
}

// NTKTracker follows the empirical NTK of a model on a fixed probe subset
// during training (C1, "beyond NTK"): kernel distance to the kernel at
// creation (whole and per layer), top eigenvalues, rho and rank at every
// tau, sigma_min+ and the PL ratio of R5, at steps 1, b, b^2, ...
// (exponential schedule, b = Growth); call Record for extra points (e.g. the
// end). Float32 models (models, aligned models, Sequentials) are measured
// through a float64 copy (Float64Model). Use Callback() in train.Config; the
// records are written as JSON next to every checkpoint
// ("ntk_track.json" in the checkpoint's directory).
type NTKTracker[T nn.Float] struct {
	Model   nn.Module[T]
	Probe   *tensor.Tensor[float64] // probe inputs (as the model sees them)
	Targets []float64               // stacked probe targets (optional)
	Mode    nn.Mode                 // batch-norm mode of the Jacobians (default Eval)
	Growth  float64                 // schedule factor (default 2)
	TopK    int                     // eigenvalues kept (default 5)
	Taus    []float64               // cut-offs of RhoPerTau (default DefaultTaus)
	// Group maps a parameter name to its layer (default LayerOf; BlockOf(2)
	// groups ResNet blocks); Layers lists the groups in record order.
	Group   func(string) string
	Layers  []string
	Records []NTKRecord

	k0   *NTK
	l0   []LayerKernel
	next float64
}

// NewNTKTracker measures K_0 now (call it before training).
func NewNTKTracker[T nn.Float](m nn.Module[T], probe *tensor.Tensor[float64], targets []float64, mode nn.Mode) (*NTKTracker[T], error) {
	t := &NTKTracker[T]{Model: m, Probe: probe, Targets: targets, Mode: mode, Growth: 2, TopK: 5, Taus: DefaultTaus, Group: LayerOf, next: 1}
	rec, k, err := t.measure(0)
	if err != nil {
		return nil, err
	}
	t.k0 = k
	rec.KernelDistance = 0
	for i := range rec.LayerDistance {
		rec.LayerDistance[i] = 0
	}
	t.Records = append(t.Records, rec)
	return t, nil
}

// Float64Model returns m itself for float64 models, and otherwise a float64
// copy: *models.Model (models.Convert), *AlignedModel (ConvertAligned: base,
// V, snapshot and random map) and Sequentials of plain layers.
func Float64Model[T nn.Float](m nn.Module[T]) (nn.Module[float64], error) {
	if f, ok := any(m).(nn.Module[float64]); ok {
		return f, nil
	}
	return convertModel[float64, T](m)
}

func (t *NTKTracker[T]) measure(step int) (NTKRecord, *NTK, error) {
	rec := NTKRecord{Step: step, Rho: math.NaN(), Alignment: math.NaN(), PLRatio: math.NaN()}
	m, err := Float64Model(t.Model)
	if err != nil {
		return rec, nil, err
	}
	J, err := ComputeJacobian(m, t.Probe, JacobianOptions{Mode: t.Mode})
	if err != nil {
		return rec, nil, err
	}
	K := KernelOf(J)
	lk := LayerKernels(J, t.Group)
	if t.l0 == nil {
		t.l0 = lk
		t.Layers = nil
		for _, l := range lk {
			t.Layers = append(t.Layers, l.Layer)
		}
	}
	if rec.LayerDistance, err = LayerKernelDistances(t.l0, lk); err != nil {
		return rec, nil, err
	}
	if t.k0 != nil {
		rec.KernelDistance = KernelDistance(t.k0, K)
	}
	ev, _, err := K.Eigen(false)
	if err != nil {
		return rec, nil, err
	}
	rec.TopEigen = ev[:min(t.TopK, len(ev))]
	s, err := linalg.SVDOf(J.Data, J.N, J.D)
	if err != nil {
		return rec, nil, err
	}
	rec.Rank = s.Rank(1e-8)
	rec.SigmaMinPlus = s.SmallestKept(1e-8)
	if len(s.Singular) > 0 {
		rec.SigmaMax = s.Singular[0]
	}
	if t.Targets != nil {
		rec.Rho = s.Residual(t.Targets, 1e-8)
		rec.Alignment = KernelTargetAlignment(K, t.Targets)
		taus := t.Taus
		if len(taus) == 0 {
			taus = DefaultTaus
		}
		for _, tau := range taus {
			tr := tauRow(s, tau, tau, t.Targets, nil, false)
			rec.RhoPerTau = append(rec.RhoPerTau, tr.Rho)
			rec.RankPerTau = append(rec.RankPerTau, tr.Rank)
			rec.FloorPerTau = append(rec.FloorPerTau, tr.Floor)
		}
		r := make([]float64, J.N)
		for i := range r {
			r[i] = J.Yhat[i] - t.Targets[i]
		}
		if rr := dot(r, r); rr > 0 && rec.SigmaMinPlus > 0 {
			g := nrm2(J.TMatVec(r))
			rec.PLRatio = g * g / (rec.SigmaMinPlus * rec.SigmaMinPlus * rr)
		}
	}
	return rec, K, nil
}

// Record measures now (for use outside lib/train loops).
func (t *NTKTracker[T]) Record(step int) error {
	rec, _, err := t.measure(step)
	if err != nil {
		return err
	}
	t.Records = append(t.Records, rec)
	return nil
}

// Callback returns the train.Callback that measures on the exponential
// schedule and saves the records with every checkpoint.
func (t *NTKTracker[T]) Callback() train.Callback {
	return train.Callback{
		OnStep: func(s *train.StepInfo) error {
			if float64(s.Step) >= t.next {
				for t.next <= float64(s.Step) {
					t.next = math.Max(t.next*t.Growth, t.next+1)
				}
				return t.Record(s.Step)
			}
			return nil
		},
		OnCheckpoint: func(path string, st *train.State) {
			_ = t.Save(filepath.Join(filepath.Dir(path), "ntk_track.json"))
		},
	}
}

type jsonRecord struct {
	NTKRecord
	Rho           *float64 `json:"rho"`
	Alignment     *float64 `json:"alignment"`
	PLRatio       *float64 `json:"pl_ratio"`
	LayerDistance []any    `json:"layer_kernel_distance"`
}

// Save writes the records as JSON (NaN written as null).
func (t *NTKTracker[T]) Save(path string) error {
	out := make([]jsonRecord, len(t.Records))
	for i, r := range t.Records {
		out[i].NTKRecord = r
		if !math.IsNaN(r.Rho) {
			out[i].Rho = &t.Records[i].Rho
		}
		if !math.IsNaN(r.Alignment) {
			out[i].Alignment = &t.Records[i].Alignment
		}
		if !math.IsNaN(r.PLRatio) {
			out[i].PLRatio = &t.Records[i].PLRatio
		}
		for _, d := range r.LayerDistance { // +Inf (a layer whose initial kernel is zero) as null
			if math.IsInf(d, 0) || math.IsNaN(d) {
				out[i].LayerDistance = append(out[i].LayerDistance, nil)
			} else {
				out[i].LayerDistance = append(out[i].LayerDistance, d)
			}
		}
	}
	b, err := json.MarshalIndent(map[string]any{"mode": t.Mode.String(), "probe_examples": t.Probe.Shape()[0], "taus": t.Taus, "layers": t.Layers, "records": out}, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ntk_track-*.json")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	return os.Rename(tmp.Name(), path) // atomic: readers see the old or the new file
}
