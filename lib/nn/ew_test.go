package nn

import (
	"math/rand/v2"
	"slices"
	"testing"

	"repdyn/lib/internal/parallel"
)

// TestParallelElementwise: the split element-wise kernels give bit-identical
// results for 1 and several threads, on tensors large enough to be split.
func TestParallelElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	shape := []int{12, 3, 40, 41} // 59040 elements: split over workers
	x := wrap(randSlice(r, prod(shape), 1), shape...)
	u := wrap(randSlice(r, prod(shape), 1), shape...)
	run := func(threads int) [][]float64 {
		prev := parallel.SetThreads(threads)
		defer parallel.SetThreads(prev)
		var out [][]float64
		for _, mode := range []Mode{Train, Eval} {
			b := NewBasicBlock[float64]("b", 3, 3, 1)
			randInit(rand.New(rand.NewPCG(1, 1)), b, 0.5)
			lk := NewLeakyReLU[float64]("l", 0.1)
			y, err := b.Forward(x, mode)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, slices.Clone(y.Data()))
			dx, err := b.Backward(u)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, slices.Clone(dx.Data()), FlattenGrads[float64](b, nil))
			y, _ = lk.Forward(x, mode)
			dx, _ = lk.Backward(u)
			out = append(out, slices.Clone(y.Data()), slices.Clone(dx.Data()))
		}
		return out
	}
	one, two := run(1), run(3)
	for i := range one {
		if !slices.Equal(one[i], two[i]) {
			t.Errorf("result %d differs between 1 and 3 threads", i)
		}
	}
}
