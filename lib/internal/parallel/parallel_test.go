package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

type countTask struct {
	hits []atomic.Int32
}

func (c *countTask) Do(i int) { c.hits[i].Add(1) }

func TestRunCoversEveryItemOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 7, 100, 1000} {
			c := &countTask{hits: make([]atomic.Int32, n)}
			RunThreads(n, threads, c)
			for i := range c.hits {
				if h := c.hits[i].Load(); h != 1 {
					t.Fatalf("threads=%d n=%d: item %d ran %d times", threads, n, i, h)
				}
			}
		}
	}
}

func TestNestedRunDoesNotDeadlock(t *testing.T) {
	var total atomic.Int64
	RunThreads(16, 4, Func(func(i int) {
		RunThreads(16, 4, Func(func(j int) { total.Add(1) }))
	}))
	if total.Load() != 256 {
		t.Fatalf("nested runs did %d items, want 256", total.Load())
	}
}

type nopTask struct{ sink atomic.Int64 }

func (n *nopTask) Do(i int) { n.sink.Add(int64(i)) }

func TestRunDoesNotAllocate(t *testing.T) {
	task := &nopTask{}
	// testing.AllocsPerRun pins GOMAXPROCS to 1, which is not how kernels
	// run; count allocations over many real parallel calls instead.
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			RunThreads(64, 2, task)
		}
	})
	if a := res.AllocsPerOp(); a != 0 {
		t.Fatalf("Run allocated %d times per call in steady state, want 0", a)
	}
}

func TestSetThreads(t *testing.T) {
	prev := SetThreads(3)
	defer SetThreads(prev)
	if Threads() != 3 {
		t.Fatalf("Threads() = %d after SetThreads(3)", Threads())
	}
}

// TestMoreThreadsThanProcs runs with more threads than processors (workers
// then park instead of polling) and checks every item still runs once.
func TestMoreThreadsThanProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for r := 0; r < 200; r++ {
		c := &countTask{hits: make([]atomic.Int32, 37)}
		RunThreads(len(c.hits), 4, c)
		for i := range c.hits {
			if h := c.hits[i].Load(); h != 1 {
				t.Fatalf("round %d: item %d ran %d times", r, i, h)
			}
		}
	}
}
