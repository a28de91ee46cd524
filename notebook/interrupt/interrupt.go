// Package interrupt lets a long notebook cell stop cleanly when the user
// presses Jupyter's "interrupt" button, save a checkpoint, and resume when
// the cell runs again.
//
// How it works: GoNB runs each cell as its own process. On interrupt it sends
// SIGINT to that process and, about 5 seconds later, kills it. Context
// returns a context.Context that is canceled on SIGINT or SIGTERM (the
// signal Kubernetes and docker send before killing), so a training loop that
// checks ctx between steps stops at the next step boundary, saves a
// checkpoint and returns before the kill.
//
// For the training-loop author (lib/train and friends): accept a
// context.Context, check ctx.Err() (or select on ctx.Done()) once per step,
// and when it is non-nil save the state and return an error wrapping
// ctx.Err(). Keep one step well under 5 seconds, or check ctx inside the step
// too. Loop below is a ready-made version of that loop.
package interrupt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Context returns a context canceled by SIGINT or SIGTERM. Call stop when the
// work is done, to restore the default signal behaviour (a second Ctrl-C then
// kills the process at once).
func Context() (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// ErrInterrupted is wrapped by Loop's error when the context was canceled.
var ErrInterrupted = errors.New("interrupted")

// Interrupted reports whether err says the work was interrupted (by Loop or
// by any code returning ctx.Err()).
func Interrupted(err error) bool {
	return errors.Is(err, ErrInterrupted) || errors.Is(err, context.Canceled)
}

// Loop runs step(i) for i = start, start+1, ..., end-1. Before each step it
// checks ctx; after every `every` completed steps (every <= 0: never) it
// calls save(next), where next is the first step not yet done. When ctx is
// canceled it calls save(next) and returns an error wrapping ErrInterrupted
// that says where to resume. When all steps are done it calls save(end) and
// returns nil. An error from step is returned as is (after no save); an
// error from save is returned too.
func Loop(ctx context.Context, start, end, every int, step func(i int) error, save func(next int) error) error {
	for i := start; i < end; i++ {
		if err := ctx.Err(); err != nil {
			if serr := save(i); serr != nil {
				return fmt.Errorf("interrupted at step %d, and saving the checkpoint failed: %w", i, serr)
			}
			return fmt.Errorf("%w at step %d of %d (%v); checkpoint saved, run again to resume", ErrInterrupted, i, end, err)
		}
		if err := step(i); err != nil {
			return err
		}
		if every > 0 && (i+1-start)%every == 0 && i+1 < end {
			if err := save(i + 1); err != nil {
				return err
			}
		}
	}
	return save(end)
}
