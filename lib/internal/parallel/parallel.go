// Package parallel runs independent pieces of a kernel on a fixed pool of
// worker goroutines, without allocating per call.
//
// A kernel splits its work into n items that are independent and each
// computed in a fixed order, so results are bit-identical whatever the thread
// count or the order in which items run. Run hands the items out to at most
// Threads() goroutines (the caller's goroutine among them) and returns when
// all are done. Calls may nest: a caller never waits on a worker that has not
// started its items, so nested Runs cannot deadlock.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Task is a piece of parallel work: Do(i) computes item i.
// Kernels keep their Task values in a sync.Pool so that Run does not allocate.
type Task interface {
	Do(i int)
}

var threads atomic.Int64

// Threads returns the maximum number of goroutines a Run uses
// (default GOMAXPROCS at first use).
func Threads() int {
	t := threads.Load()
	if t <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return int(t)
}

// SetThreads sets the maximum number of goroutines a Run uses; n <= 0 restores
// the default (GOMAXPROCS). It returns the previous setting.
func SetThreads(n int) int {
	prev := Threads()
	if n < 0 {
		n = 0
	}
	threads.Store(int64(n))
	return prev
}

type batch struct {
	task Task
	n    int64
	next atomic.Int64 // next item to hand out
	left atomic.Int64 // items not yet finished
	refs atomic.Int64 // goroutines holding this batch
	done chan struct{}
}

var batches = sync.Pool{New: func() any { return &batch{done: make(chan struct{}, 1)} }}

var (
	work    = make(chan *batch, 1024)
	started atomic.Int64
	startMu sync.Mutex
)

func ensureWorkers(n int) {
	if int(started.Load()) >= n {
		return
	}
	startMu.Lock()
	for int(started.Load()) < n {
		started.Add(1)
		go worker()
	}
	startMu.Unlock()
}

// spinFor is how long an idle worker polls for the next batch before it
// parks. Kernels come back to back (a ResNet step is hundreds of Runs); a
// parked goroutine takes several microseconds to wake, which costs a small
// product (a 128x128 GEMM takes 30 us on two threads) most of its speed-up.
const spinFor = 50 * time.Microsecond

func worker() {
	for {
		var b *batch
		if int(started.Load()) < runtime.GOMAXPROCS(0) {
			// Polling holds a processor: only when the workers and the
			// caller all have one (SetThreads above GOMAXPROCS, or
			// GOMAXPROCS 1, would leave the caller waiting for it).
			b = poll()
		}
		if b == nil {
			b = <-work
		}
		b.drain()
		b.release()
	}
}

// poll waits up to spinFor for a batch without parking; nil if none came.
// It does not yield the processor while it polls: a yielding worker goes to
// the global run queue, where nothing wakes it when the next batch is sent,
// and the caller then runs that batch alone.
func poll() *batch {
	var deadline time.Time
	for i := 0; ; i++ {
		select {
		case b := <-work:
			return b
		default:
		}
		if i%64 == 0 {
			now := time.Now()
			if i == 0 {
				deadline = now.Add(spinFor)
			} else if now.After(deadline) {
				return nil
			}
		}
	}
}

func (b *batch) drain() {
	for {
		i := b.next.Add(1) - 1
		if i >= b.n {
			return
		}
		b.task.Do(int(i))
		if b.left.Add(-1) == 0 {
			b.done <- struct{}{}
		}
	}
}

func (b *batch) release() {
	if b.refs.Add(-1) == 0 {
		b.task = nil
		batches.Put(b)
	}
}

// Run calls t.Do(i) for every i in [0, n) on at most Threads() goroutines and
// returns when all calls have returned.
func Run(n int, t Task) {
	RunThreads(n, Threads(), t)
}

// RunThreads is Run with an explicit goroutine limit.
func RunThreads(n, maxThreads int, t Task) {
	if n <= 0 {
		return
	}
	if maxThreads > n {
		maxThreads = n
	}
	if maxThreads <= 1 {
		for i := 0; i < n; i++ {
			t.Do(i)
		}
		return
	}
	ensureWorkers(maxThreads - 1)
	b := batches.Get().(*batch)
	b.task, b.n = t, int64(n)
	b.next.Store(0)
	b.left.Store(int64(n))
	b.refs.Store(1)
	for w := 1; w < maxThreads; w++ {
		b.refs.Add(1)
		select {
		case work <- b:
		default:
			b.refs.Add(-1)
		}
	}
	b.drain()
	b.wait()
	b.release()
}

// waitFor is how long the caller polls for the items other goroutines are
// still computing before it parks: a parked caller is woken onto the
// worker's processor and runs only when another one steals it.
const waitFor = 100 * time.Microsecond

// wait returns when every item has finished (after drain, so the items left
// are running on other goroutines), consuming the done token.
func (b *batch) wait() {
	var deadline time.Time
	for i := 0; len(b.done) == 0; i++ {
		if i%64 == 0 {
			now := time.Now()
			if i == 0 {
				deadline = now.Add(waitFor)
			} else if now.After(deadline) {
				break
			}
		}
	}
	<-b.done
}

// Func adapts a function to a Task. Converting a closure to Func allocates
// when it captures variables; hot kernels use pooled Task structs instead.
type Func func(i int)

// Do calls f(i).
func (f Func) Do(i int) { f(i) }
