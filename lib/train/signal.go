package train

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// SignalContext returns a context that is canceled when the process receives
// SIGINT (Ctrl-C, Jupyter's "interrupt kernel") or SIGTERM, with the signal
// as its cause (context.Cause). After the first signal the handler is
// removed, so a second Ctrl-C kills the process as usual. Call stop to
// release the handler when training is over.
//
// In a GoNB notebook cell:
//
//	ctx, stop := train.SignalContext(context.Background())
//	defer stop()
//	res, err := trainer.Run(ctx) // returns within ~2 s of the interrupt, checkpoint written
func SignalContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(&SignalError{Signal: s})
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel(context.Canceled)
		})
	}
}

// SignalError is the cause SignalContext gives its context: the signal
// received. It satisfies errors.Is(err, ErrInterrupted); a command-line
// tool exits with 128 + the signal's number (130 for SIGINT, 143 for
// SIGTERM) after the checkpoint, as shells expect.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string {
	return ErrInterrupted.Error() + ": received " + e.Signal.String()
}

// Unwrap makes errors.Is(e, ErrInterrupted) true.
func (e *SignalError) Unwrap() error { return ErrInterrupted }

// ExitCode is 128 + the signal number (130 for SIGINT, 143 for SIGTERM;
// 130 for a signal without a number).
func (e *SignalError) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}
