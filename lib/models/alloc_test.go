package models

import (
	"testing"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// TestSteadyStateAllocs checks that a training step (forward, loss, backward)
// of a small ResNet reuses its buffers.
func TestSteadyStateAllocs(t *testing.T) {
	m, err := New[float32]("resnet20", Config{Width: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.Must(tensor.New[float32](2, 3, 8, 8))
	labels := []int{1, 2}
	ce := &nn.CrossEntropy[float32]{}
	step := func() {
		y, err := m.Forward(x, nn.Train)
		if err != nil {
			t.Fatal(err)
		}
		_, g, _ := ce.Forward(y, labels)
		nn.ZeroGrad[float32](m)
		if _, err := m.Backward(g); err != nil {
			t.Fatal(err)
		}
	}
	step()
	allocs := testing.AllocsPerRun(5, step)
	t.Logf("allocations per training step: %v", allocs)
	if allocs > 10 {
		t.Errorf("%v allocations per steady-state training step", allocs)
	}
}

// TestVaryingBatch: buffers reused across batch sizes give the same results
// as a fresh model.
func TestVaryingBatch(t *testing.T) {
	m, _ := New[float64]("resnet20", Config{Width: 0.25, Seed: 2})
	for _, n := range []int{4, 3, 5, 4} {
		x := tensor.Must(tensor.New[float64](n, 3, 8, 8))
		for i, d := 0, x.Data(); i < len(d); i++ {
			d[i] = float64((i*7)%11) - 5
		}
		fresh, _ := New[float64]("resnet20", Config{Width: 0.25, Seed: 2})
		y1, err := m.Forward(x, nn.Eval)
		if err != nil {
			t.Fatal(err)
		}
		y2, _ := fresh.Forward(x, nn.Eval)
		g := tensor.Must(tensor.Ones[float64](n, 10))
		dx1, err := m.Backward(g)
		if err != nil {
			t.Fatal(err)
		}
		dx2, _ := fresh.Backward(g)
		for i, v := range y1.Data() {
			if v != y2.Data()[i] {
				t.Fatalf("batch %d: output differs", n)
			}
		}
		for i, v := range dx1.Data() {
			if v != dx2.Data()[i] {
				t.Fatalf("batch %d: input gradient differs", n)
			}
		}
	}
}
