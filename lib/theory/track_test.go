package theory

import (
	"context"
	"encoding/json"
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
