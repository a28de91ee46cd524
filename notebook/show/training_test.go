package show

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"repdyn/lib/experiment"
)

func tinySpec() experiment.Spec {
	s := experiment.Default()
	s.Model, s.Dataset, s.Width = "mlp", experiment.Synthetic, 0.05
	s.Subset, s.TestSubset, s.Epochs, s.Batch = 64, 64, 3, 32
	return s
}

// TestAttachTraining runs a real lib/train trainer with the display
// attached: the live chart and the bar are updated in place, the bar ends
// at the last step, the table has one row per epoch, and a resumed run
// starts the bar at its step and draws the earlier epochs.
func TestAttachTraining(t *testing.T) {
	capt := inNotebook(t)
	dir := filepath.Join(t.TempDir(), "run")
	s := tinySpec()
	s.MaxSteps = 4 // two of the three epochs
	r, err := experiment.Open(s, dir, experiment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := AttachTraining(r.Trainer, "tiny")
	_, err = r.Run(context.Background())
	v.Done(err)
	if err != nil {
		t.Fatal(err)
	}
	var bar, live []string
	for id, u := range capt.updates {
		switch {
		case strings.HasPrefix(id, "repdyn-progress-"):
			bar = u
		case strings.HasPrefix(id, "repdyn-live-"):
			live = u
		}
	}
	if len(bar) < 2 || !strings.Contains(bar[len(bar)-1], `data-n="4" data-total="4"`) || !strings.Contains(bar[len(bar)-1], "done") {
		t.Errorf("progress bar updates %d, last %q", len(bar), bar[len(bar)-1])
	}
	if len(live) == 0 || !strings.Contains(live[len(live)-1], "data:image/png;base64,") {
		t.Errorf("live chart: %d updates", len(live))
	}
	if got := len(v.Epochs()); got != 2 {
		t.Errorf("%d epochs seen, want 2", got)
	}
	if len(capt.htmls) == 0 || strings.Count(capt.htmls[len(capt.htmls)-1], "<tr>") != 3 { // header + 2 epochs
		t.Errorf("epoch table: %q", capt.htmls)
	}
	if c := v.Live.Chart.Line("test"); len(c.X) != 2 || c.X[1] != 4 {
		t.Errorf("test series %v", c.X)
	}

	// Resume to the end of the third epoch.
	*capt = capture{}
	s.MaxSteps = 0
	r, err = experiment.Open(s, dir, experiment.Options{Mode: experiment.Resume})
	if err != nil {
		t.Fatal(err)
	}
	v = AttachTraining(r.Trainer, "tiny")
	if c := v.Live.Chart.Line("test"); len(c.X) != 2 {
		t.Errorf("resumed view does not draw the earlier epochs: %v", c.X)
	}
	_, err = r.Run(context.Background())
	v.Done(err)
	for id, u := range capt.updates {
		if strings.HasPrefix(id, "repdyn-progress-") {
			if len(u) < 2 || !strings.Contains(u[1], `data-n="4" data-total="6"`) || !strings.Contains(u[len(u)-1], `data-n="6"`) {
				t.Errorf("resumed bar: second %q, last %q", u[1], u[len(u)-1])
			}
		}
	}
	if got := len(v.Epochs()); got != 3 || err != nil {
		t.Errorf("%d epochs after resume (want 3), err %v", got, err)
	}
}
