package lesson

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"repdyn/lib/experiment"
	"repdyn/lib/train"
	"repdyn/notebook/cache"
	"repdyn/notebook/show"
)

// Train runs the experiment spec in a notebook cell and owns both its
// cached outcome and its checkpoint folder, in the default cache
// (cache.Default):
//
//   - a run finished before (same cache.RunKey: spec hash, data, library,
//     Go version, kernel level) is not retrained: Train prints one line
//     saying so, when it was computed and how to recompute
//     (REPDYN_NOCACHE=1, also as %env in a cell), shows its curves and
//     metrics, and returns it;
//   - otherwise it trains with lib/train in the folder
//     <cache>/runs/<key>, with a live loss chart, a progress bar and the
//     epochs' test metrics (show.AttachTraining); an interrupted run (the
//     stop button) writes its checkpoint, Train prints how to resume and
//     returns the partial Outcome (Interrupted set) with a nil error, and
//     running the cell again continues it exactly;
//   - REPDYN_NOCACHE=1 ignores the cached outcome and retrains from scratch
//     (the run's folder is cleared).
//
// Errors (a bad spec, missing data) are one line.
func Train(spec experiment.Spec) (*experiment.Outcome, error) {
	return TrainIn(cache.Default(), spec)
}

// testCallbacks are added to every run (tests).
var testCallbacks []train.Callback

// NoCache reports whether REPDYN_NOCACHE asks to recompute cached results.
func NoCache() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("REPDYN_NOCACHE"))) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

// RunDir is the checkpoint folder of the run named by key in c.
func RunDir(c *cache.Cache, key cache.Key) string {
	return filepath.Join(c.Dir, "runs", filepath.Base(string(key)))
}

// TrainIn is Train with the cache c.
func TrainIn(c *cache.Cache, spec experiment.Spec) (*experiment.Outcome, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	key, err := runKey(spec)
	if err != nil {
		return nil, err
	}
	title := runTitle(spec)
	mode := experiment.Resume
	if NoCache() {
		mode = experiment.Fresh
	} else if out, ok := cached(c, key, title); ok {
		if err := show.EpochChart(title, out.Epochs).Show(); err != nil {
			return nil, err
		}
		show.EpochTable(out.Epochs)
		return out, nil
	}
	r, err := experiment.Open(spec, RunDir(c, key), experiment.Options{Mode: mode, Callbacks: testCallbacks})
	if err != nil {
		return nil, err
	}
	view := show.AttachTraining(r.Trainer, title)
	if r.Resumed > 0 {
		fmt.Printf("resuming at step %d of %d from %s\n", r.Resumed, r.Trainer.TotalSteps(), r.Dir)
	}
	ctx, stop := train.SignalContext(context.Background())
	defer stop()
	out, err := r.Run(ctx)
	view.Done(err)
	if errors.Is(err, train.ErrInterrupted) && out != nil {
		fmt.Printf("interrupted at step %d: checkpoint saved; run the cell again to resume\n", out.Steps)
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	if err := c.PutJSON(key, out); err != nil {
		return nil, err
	}
	return out, nil
}

func runTitle(s experiment.Spec) string {
	return fmt.Sprintf("%s (width %g) on %s", s.Model, s.Width, s.Dataset)
}

// runKey is the cache key of spec's run (cache.RunKey).
func runKey(spec experiment.Spec) (cache.Key, error) {
	digest, err := experiment.DataDigest(spec.Dataset)
	if err != nil {
		return "", err
	}
	return cache.RunKey(spec.Hash(), digest)
}

// cached returns the finished run stored under key (whose last checkpoint
// still exists), printing the one line that says it came from the cache.
func cached(c *cache.Cache, key cache.Key, title string) (*experiment.Outcome, bool) {
	var out experiment.Outcome
	ok, err := c.GetJSON(key, &out)
	if err != nil {
		fmt.Printf("cache: %v; retraining\n", err)
		return nil, false
	}
	if _, serr := os.Stat(out.LastCheckpoint); !ok || serr != nil || out.Interrupted {
		return nil, false
	}
	fmt.Printf("from the cache: %s, trained %s (%d steps, test accuracy %.4f); REPDYN_NOCACHE=1 retrains\n",
		title, out.Finished.Local().Format(time.DateTime), out.Steps, out.Final.EvalAcc)
	return &out, true
}

// Load returns the finished run of spec from the default cache (what Train
// stored), without training: for the cells after the training cell. It
// prints the line saying the result came from the cache.
func Load(spec experiment.Spec) (*experiment.Outcome, error) { return LoadIn(cache.Default(), spec) }

// LoadIn is Load with the cache c.
func LoadIn(c *cache.Cache, spec experiment.Spec) (*experiment.Outcome, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	key, err := runKey(spec)
	if err != nil {
		return nil, err
	}
	out, ok := cached(c, key, runTitle(spec))
	if !ok {
		return nil, fmt.Errorf("no finished run of %s in the cache %s: run the training cell first", runTitle(spec), c.Dir)
	}
	return out, nil
}
