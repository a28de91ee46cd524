package theory

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"repdyn/lib/models"
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
}

// NTKTracker follows the empirical NTK of a model on a fixed probe subset
// during training (C1, "beyond NTK"): kernel distance to the kernel at
// creation, top eigenvalues and rho, at steps 1, b, b^2, ... (exponential
// schedule, b = Growth); call Record for extra points (e.g. the end). Use Callback() in train.Config; the
// records are written as JSON next to every checkpoint
// ("ntk_track.json" in the checkpoint's directory).
type NTKTracker[T nn.Float] struct {
	Model   nn.Module[T]
	Probe   *tensor.Tensor[float64] // probe inputs (as the model sees them)
	Targets []float64               // stacked probe targets (optional)
	Mode    nn.Mode                 // batch-norm mode of the Jacobians (default Eval)
	Growth  float64                 // schedule factor (default 2)
	TopK    int                     // eigenvalues kept (default 5)
	Records []NTKRecord

	k0   *NTK
	next float64
}

// NewNTKTracker measures K_0 now (call it before training).
func NewNTKTracker[T nn.Float](m nn.Module[T], probe *tensor.Tensor[float64], targets []float64, mode nn.Mode) (*NTKTracker[T], error) {
	t := &NTKTracker[T]{Model: m, Probe: probe, Targets: targets, Mode: mode, Growth: 2, TopK: 5, next: 1}
	rec, k, err := t.measure(0)
	if err != nil {
		return nil, err
	}
	t.k0 = k
	rec.KernelDistance = 0
	t.Records = append(t.Records, rec)
	return t, nil
}

// Float64Model returns m itself for float64 models, and for float32
// *models.Model a float64 copy (rebuilt by models.New, state copied).
func Float64Model[T nn.Float](m nn.Module[T]) (nn.Module[float64], error) {
	if f, ok := any(m).(nn.Module[float64]); ok {
		return f, nil
	}
	mm, ok := any(m).(*models.Model[T])
	if !ok {
		return nil, fmt.Errorf("theory: cannot convert %T to float64 (use a *models.Model or a float64 model)", m)
	}
	c, err := models.New[float64](mm.Arch, mm.Config)
	if err != nil {
		return nil, err
	}
	src, dst := nn.StateDict[T](mm), nn.StateDict[float64](c)
	for k, v := range src {
		d := dst[k]
		for i := range v {
			d[i] = float64(v[i])
		}
	}
	return c, nil
}

func (t *NTKTracker[T]) measure(step int) (NTKRecord, *NTK, error) {
	rec := NTKRecord{Step: step, Rho: math.NaN(), Alignment: math.NaN()}
	m, err := Float64Model(t.Model)
	if err != nil {
		return rec, nil, err
	}
	J, err := ComputeJacobian(m, t.Probe, JacobianOptions{Mode: t.Mode})
	if err != nil {
		return rec, nil, err
	}
	K := KernelOf(J)
	if t.k0 != nil {
		rec.KernelDistance = KernelDistance(t.k0, K)
	}
	ev, _, err := K.Eigen(false)
	if err != nil {
		return rec, nil, err
	}
	rec.TopEigen = ev[:min(t.TopK, len(ev))]
	s, err := SVDOf(J.Data, J.N, J.D)
	if err != nil {
		return rec, nil, err
	}
	rec.Rank = s.Rank(1e-8)
	if t.Targets != nil {
		rec.Rho = s.Residual(t.Targets, 1e-8)
		rec.Alignment = KernelTargetAlignment(K, t.Targets)
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
	Rho       *float64 `json:"rho"`
	Alignment *float64 `json:"alignment"`
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
	}
	b, err := json.MarshalIndent(map[string]any{"mode": t.Mode.String(), "probe_examples": t.Probe.Shape()[0], "records": out}, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
