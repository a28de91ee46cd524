package train

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// StepInfo describes one completed optimizer step.
type StepInfo struct {
	Epoch        int     // epoch of the batch (0-based)
	Batch        int     // batch index within the epoch (0-based)
	Step         int     // optimizer steps taken so far, this one included (1 after the first step)
	TotalSteps   int     // steps the whole run will take (Epochs or MaxSteps)
	Loss         float64 // mean loss of the batch
	Acc          float64 // fraction of the batch classified correctly
	LR           float64 // learning rate used for this step
	Images       int     // images in the batch
	ImagesPerSec float64 // this step's throughput (forward + backward + update)
	Elapsed      time.Duration
}

// EpochInfo describes one completed epoch.
type EpochInfo struct {
	Epoch        int     `json:"epoch"` // 0-based
	Step         int     `json:"step"`  // optimizer steps taken so far
	TrainLoss    float64 `json:"train_loss"`
	TrainAcc     float64 `json:"train_acc"`
	HasEval      bool    `json:"has_eval"`
	EvalLoss     float64 `json:"eval_loss"`
	EvalAcc      float64 `json:"eval_acc"`
	LR           float64 `json:"lr"` // learning rate of the epoch's last step
	ImagesPerSec float64 `json:"images_per_s"`
	Seconds      float64 `json:"seconds"` // wall time of the epoch (training and evaluation)
	Best         bool    `json:"best"`    // evaluation accuracy is the best so far
	Checkpoint   string  `json:"checkpoint,omitempty"`
}

// Callback receives training events. Any field may be nil. A non-nil error
// from OnStep or OnEpoch stops training: Run writes a checkpoint and returns
// that error (wrapped); return ErrStop to stop early without it being
// treated as a failure (Run then returns nil).
//
// Callbacks run on the goroutine that called Run, between steps.
type Callback struct {
	OnStep       func(*StepInfo) error
	OnEpoch      func(*EpochInfo) error
	OnCheckpoint func(path string, st *State)
}

// Progress returns a callback that writes a line to w every `every` steps
// (0: never) and after every epoch.
func Progress(w io.Writer, every int) Callback {
	var mu sync.Mutex
	return Callback{
		OnStep: func(s *StepInfo) error {
			if every <= 0 || s.Step%every != 0 {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "epoch %d step %d/%d: loss %.4f acc %.3f lr %.4g %.0f img/s\n",
				s.Epoch+1, s.Step, s.TotalSteps, s.Loss, s.Acc, s.LR, s.ImagesPerSec)
			return nil
		},
		OnEpoch: func(e *EpochInfo) error {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "epoch %d done (step %d, %.1fs, %.0f img/s): train loss %.4f acc %.4f",
				e.Epoch+1, e.Step, e.Seconds, e.ImagesPerSec, e.TrainLoss, e.TrainAcc)
			if e.HasEval {
				fmt.Fprintf(w, "; eval loss %.4f acc %.4f", e.EvalLoss, e.EvalAcc)
				if e.Best {
					fmt.Fprint(w, " (best)")
				}
			}
			fmt.Fprintln(w)
			return nil
		},
	}
}

// History records every step's and epoch's metrics (for plotting in a
// notebook). Use its Callback in Config.Callbacks.
type History struct {
	mu     sync.Mutex
	Steps  []StepInfo
	Epochs []EpochInfo
}

// Callback returns the callback that records into h.
func (h *History) Callback() Callback {
	return Callback{
		OnStep: func(s *StepInfo) error {
			h.mu.Lock()
			h.Steps = append(h.Steps, *s)
			h.mu.Unlock()
			return nil
		},
		OnEpoch: func(e *EpochInfo) error {
			h.mu.Lock()
			h.Epochs = append(h.Epochs, *e)
			h.mu.Unlock()
			return nil
		},
	}
}

// Losses returns the recorded step losses.
func (h *History) Losses() []float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := make([]float64, len(h.Steps))
	for i, s := range h.Steps {
		r[i] = s.Loss
	}
	return r
}
