package theory

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"repdyn/lib/data"
	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/optim"
	"repdyn/lib/tensor"
	"repdyn/lib/train"
)

func TestNTKTrackerCallback(t *testing.T) {
	ds := data.Blobs(24, 4, 3, 2, 1)
	m, err := models.MLP[float32](models.Config{InChannels: 1, InFeatures: 4, Hidden: []int{8}, NumClasses: 3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	probe := ds.First(6)
	x := tensor.Must(tensor.New[float64](6, 1, 1, 4))
	for i, v := range probe.Images {
		x.Data()[i] = float64(v)
	}
	tr, err := NewNTKTracker[float32](m, x, OneHot(probe.IntLabels(), 3, 1), nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.1, Momentum: 0.9})
	dir := t.TempDir()
	trn, err := train.New(train.Config[float32]{Model: m, Optimizer: opt, Train: ds, BatchSize: 8, Epochs: 7, Seed: 1,
		OutDir: dir, Prefetch: -1, Callbacks: []train.Callback{tr.Callback()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trn.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var steps []int
	for _, r := range tr.Records {
		steps = append(steps, r.Step)
	}
	want := []int{0, 1, 2, 4, 8, 16}
	for i, s := range want {
		if i >= len(steps) || steps[i] != s {
			t.Fatalf("steps %v, want prefix %v", steps, want)
		}
	}
	last := tr.Records[len(tr.Records)-1]
	if last.Step != 16 || last.KernelDistance <= 0 || len(last.TopEigen) != 5 {
		t.Errorf("last record %+v", last)
	}
	b, err := os.ReadFile(filepath.Join(dir, "ntk_track.json"))
	if err != nil {
		t.Fatal(err)
	}
	var saved struct{ Records []map[string]any }
	if err := json.Unmarshal(b, &saved); err != nil || len(saved.Records) != len(tr.Records) {
		t.Errorf("saved %d records (%v), have %d", len(saved.Records), err, len(tr.Records))
	}
	t.Logf("steps %v; final kernel distance %.3f, rho %.3g, rank %d, top eig %.3g", steps, last.KernelDistance, last.Rho, last.Rank, last.TopEigen)
}

// Per-layer kernels sum to K; the tracker follows a float32 aligned run
// through phase 2 (converted to float64 with its snapshot, random map and
// V), and records rho at every tau, sigma_min+, the PL ratio and the
// per-layer kernel distances.
func TestTrackerAlignedFloat32(t *testing.T) {
	ds := data.RandomLabels(data.Blobs(12, 4, 3, 2, 1), 2)
	mcfg := models.Config{InChannels: 1, InFeatures: 4, Hidden: []int{6, 1}, NumClasses: 3, Seed: 5}
	base, err := models.MLP[float32](mcfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAlignedModel[float32](base, AlignedConfig{InputShape: []int{1, 1, 4}, SnapshotLayers: 3, RandomFeatures: 24, Seed: 9, FeatureScale: 1, NoInputGradient: true})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.Must(tensor.New[float64](12, 1, 1, 4))
	for i, v := range ds.Images {
		x.Data()[i] = float64(v)
	}
	y := OneHot(ds.IntLabels(), 3, 1)
	tr, err := NewNTKTracker[float32](a, x, y, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.NewSGD(a.Params(), optim.SGDConfig{LR: 0.05, Momentum: 0.9})
	cb := train.Callback{OnStep: func(s *train.StepInfo) error {
		if s.Step == 20 && !a.Phase2 {
			return a.Switch()
		}
		return nil
	}}
	trn, err := train.New(train.Config[float32]{Model: a, Optimizer: opt, Train: ds, BatchSize: 12, Epochs: 60, Seed: 1, Prefetch: -1,
		Callbacks: []train.Callback{cb, tr.Callback()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trn.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tr.Record(60); err != nil {
		t.Fatal(err)
	}
	if len(tr.Layers) != 4 || tr.Layers[3] != "aligned.V" {
		t.Errorf("layers %v", tr.Layers)
	}
	first, last := tr.Records[0], tr.Records[len(tr.Records)-1]
	if len(last.RhoPerTau) != 3 || len(last.LayerDistance) != len(tr.Layers) || last.SigmaMinPlus <= 0 {
		t.Fatalf("last record %+v", last)
	}
	// Before the switch the V columns are zero (rank of the chain-like base
	// model is < N = 36); after it, rank Phi = n gives rank N and rho = 0.
	if first.Rank >= 36 || last.Rank != 36 || last.Rho > 1e-10 || first.Rho < 0.1 {
		t.Errorf("rank %d -> %d, rho %.3g -> %.3g", first.Rank, last.Rank, first.Rho, last.Rho)
	}
	if !(last.PLRatio >= 1-1e-9) {
		t.Errorf("PL ratio %.6g < 1 with r in Col J", last.PLRatio)
	}
	if !math.IsInf(last.LayerDistance[3], 1) || last.LayerDistance[0] <= 0 {
		t.Errorf("layer distances %v (V's initial kernel is zero: +Inf once it moves)", last.LayerDistance)
	}
	// Per-layer kernels sum to K.
	m64, _ := Float64Model[float32](a)
	J, _ := ComputeJacobian(m64, x, JacobianOptions{})
	K := KernelOf(J)
	sum := make([]float64, len(K.K))
	for _, l := range LayerKernels(J, nil) {
		for i, v := range l.K.K {
			sum[i] += v
		}
	}
	if e := relErr(sum, K.K); e > 1e-13 {
		t.Errorf("sum of layer kernels differs from K: %.3g", e)
	}
	// The float64 copy computes the float32 model's function.
	y32, _ := a.Forward(tensor.Convert[float32](x), nn.Eval)
	y64, _, _ := Outputs(m64, x, nn.Eval)
	for i, v := range y32.Contiguous().Data() {
		if math.Abs(float64(v)-y64[i]) > 1e-5*(1+math.Abs(y64[i])) {
			t.Fatalf("float64 copy output %d: %v vs %v", i, y64[i], v)
		}
	}
	dir := t.TempDir()
	if err := tr.Save(filepath.Join(dir, "t.json")); err != nil {
		t.Fatal(err)
	}
	t.Logf("layers %v\nfirst %+v\nlast %+v", tr.Layers, first, last)
}
