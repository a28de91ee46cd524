package conv

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"repdyn/lib/internal/parallel"
)

// recordEp checks, at each Apply, that the part it is given already holds
// the final output, and counts how often every (image, channel) is applied.
type recordEp struct {
	mu       sync.Mutex
	p        Params
	y, want  []float32
	hits     []int
	mismatch string
}

func (r *recordEp) Apply(img, c0, c1 int) {
	hw := r.p.OutputLen() / (r.p.N * r.p.Cout)
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := c0; c < c1; c++ {
		r.hits[img*r.p.Cout+c]++
		o := (img*r.p.Cout + c) * hw
		if r.mismatch == "" && !slices.Equal(r.y[o:o+hw], r.want[o:o+hw]) {
			r.mismatch = fmt.Sprintf("image %d channel %d not final at Apply", img, c)
		}
	}
}

// TestForwardThenEpilogue checks ForwardThen on every forward path (row
// mode, unpacked tiles, the small-image kernel, Winograd; 1 and 2 threads):
// every (image, channel) of the output is handed to the epilogue exactly
// once, after it holds its final value, and the output equals Forward's.
func TestForwardThenEpilogue(t *testing.T) {
	defer func(c, hw int) { winoMinC, winoMinHW = c, hw }(winoMinC, winoMinHW)
	shapes := append(testShapes(true), New(3, 256, 8, 8, 256, 3, 1, 1), New(4, 64, 4, 4, 70, 3, 1, 1))
	for _, wino := range []bool{false, true} {
		winoMinC, winoMinHW = 0, 0
		if wino {
			winoMinC = 1
		}
		for i, p := range shapes {
			if wino && !useWinograd(p, 4) {
				continue
			}
			rr := reference(p, uint64(900+i))
			x, w, bias := conv64to[float32](rr.x), conv64to[float32](rr.w), conv64to[float32](rr.bias)
			want := make([]float32, p.OutputLen())
			if err := Forward(p, want, x, w, bias, 0); err != nil {
				t.Fatal(err)
			}
			for _, threads := range []int{1, 2} {
				prev := parallel.SetThreads(threads)
				ep := &recordEp{p: p, y: make([]float32, p.OutputLen()), want: want, hits: make([]int, p.N*p.Cout)}
				err := ForwardThen(p, ep.y, x, w, bias, 0, ep)
				parallel.SetThreads(prev)
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("shape %v winograd %v threads %d", p, wino, threads)
				if ep.mismatch != "" {
					t.Errorf("%s: %s", name, ep.mismatch)
				}
				for j, h := range ep.hits {
					if h != 1 {
						t.Fatalf("%s: image %d channel %d applied %d times, want 1", name, j/p.Cout, j%p.Cout, h)
					}
				}
				if !slices.Equal(ep.y, want) {
					t.Errorf("%s: output differs from Forward's", name)
				}
			}
		}
	}
}
