package show

import (
	"errors"
	"fmt"
	"sync"

	"repdyn/lib/nn"
	"repdyn/lib/train"
)

// TrainingView is the display AttachTraining adds to a lib/train trainer:
// a loss chart redrawn in place (each step's batch loss, each epoch's mean
// training loss and test loss), a progress bar (loss, accuracy, images/s,
// ETA) and, at Done, the table of every epoch's test metrics.
type TrainingView struct {
	Live *Live
	Bar  *Progress

	mu     sync.Mutex
	epochs []train.EpochInfo
}

// AttachTraining attaches a live display to tr (call it before tr.Run) and
// returns it; call Done with Run's error when Run returns. A resumed
// trainer's earlier epochs are drawn at once and the bar starts at its step.
//
//	view := show.AttachTraining(tr, "ResNet-20 on Fashion-MNIST")
//	res, err := tr.Run(ctx)
//	view.Done(err)
func AttachTraining[T nn.Float](tr *train.Trainer[T], title string) *TrainingView {
	st := tr.State()
	v := &TrainingView{Live: NewLive(title, "step", "cross-entropy loss")}
	for _, e := range st.History {
		v.addEpoch(e)
	}
	v.Bar = NewProgress("training", tr.TotalSteps())
	if st.Step > 0 {
		v.Bar.Start(st.Step)
	}
	tr.AddCallback(train.Callback{
		OnStep: func(s *train.StepInfo) error {
			v.Live.Add("train (batch)", float64(s.Step), s.Loss)
			v.Bar.Set(s.Step, M("loss", s.Loss), M("acc", s.Acc), M("img/s", s.ImagesPerSec))
			return nil
		},
		OnEpoch: func(e *train.EpochInfo) error {
			v.addEpoch(*e)
			if e.HasEval {
				v.Bar.Set(e.Step, M("test_acc", e.EvalAcc))
			}
			return nil
		},
	})
	return v
}

func (v *TrainingView) addEpoch(e train.EpochInfo) {
	v.mu.Lock()
	v.epochs = append(v.epochs, e)
	v.mu.Unlock()
	addEpochPoints(v.Live.Chart, e)
	v.Live.Flush()
}

func addEpochPoints(c *Chart, e train.EpochInfo) {
	c.Add("train (epoch mean)", float64(e.Step), e.TrainLoss)
	if e.HasEval {
		c.Add("test", float64(e.Step), e.EvalLoss)
	}
}

// Epochs returns the epochs seen so far (a resumed run's earlier ones
// included).
func (v *TrainingView) Epochs() []train.EpochInfo {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]train.EpochInfo(nil), v.epochs...)
}

// Done draws the final chart, ends the bar ("done", "interrupted" or
// "failed", from err) and shows the epochs' metrics.
func (v *TrainingView) Done(err error) {
	v.Live.Finish()
	switch {
	case err == nil:
		v.Bar.Done("done")
	case errors.Is(err, train.ErrInterrupted):
		v.Bar.Done("interrupted")
	default:
		v.Bar.Done("failed")
	}
	if eps := v.Epochs(); len(eps) > 0 {
		EpochTable(eps)
	}
}

// EpochChart is the chart of the epochs' training and test loss (the
// static counterpart of a TrainingView's live chart, e.g. for a run read
// back from the cache).
func EpochChart(title string, epochs []train.EpochInfo) *Chart {
	c := NewChart(title, "step", "cross-entropy loss")
	for _, e := range epochs {
		addEpochPoints(c, e)
	}
	return c
}

// EpochTable shows one row per epoch: step, training and test loss and
// accuracy, seconds.
func EpochTable(epochs []train.EpochInfo) {
	rows := make([][]any, 0, len(epochs))
	for _, e := range epochs {
		test := []any{"-", "-"}
		if e.HasEval {
			test = []any{fmt.Sprintf("%.4f", e.EvalLoss), fmt.Sprintf("%.4f", e.EvalAcc)}
		}
		rows = append(rows, []any{e.Epoch + 1, e.Step, fmt.Sprintf("%.4f", e.TrainLoss), fmt.Sprintf("%.4f", e.TrainAcc), test[0], test[1], fmt.Sprintf("%.1f", e.Seconds)})
	}
	Table([]string{"epoch", "step", "train loss", "train acc", "test loss", "test acc", "seconds"}, rows)
}
