package demo

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
)

// blobs returns n points in dim dimensions from 3 well-separated classes.
func blobs(n, dim int) ([]float32, []uint8) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*dim)
	y := make([]uint8, n)
	for e := range n {
		c := e % 3
		y[e] = uint8(c)
		for i := range dim {
			v := r.NormFloat64() * 0.3
			if i%3 == c {
				v += 2
			}
			x[e*dim+i] = float32(v)
		}
	}
	return x, y
}

func TestTrainsAndResumesExactly(t *testing.T) {
	x, y := blobs(300, 12)
	m := NewMLP(12, 16, 3, 7)
	l0, _ := m.Evaluate(x, y, 0)
	for s := range 60 {
		m.Step(x, y, Batch(3, s, 16, 300), 0.1)
	}
	l1, acc := m.Evaluate(x, y, 0)
	if !(l1 < l0/2) || acc < 0.9 {
		t.Fatalf("loss %v -> %v, accuracy %v", l0, l1, acc)
	}
	// 30 steps, checkpoint through JSON, 30 more == 60 straight.
	a := NewMLP(12, 16, 3, 7)
	for s := range 30 {
		a.Step(x, y, Batch(3, s, 16, 300), 0.1)
	}
	b, _ := json.Marshal(State{Model: a, Next: 30})
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	for s := 30; s < 60; s++ {
		st.Model.Step(x, y, Batch(3, s, 16, 300), 0.1)
	}
	if !slices.Equal(st.Model.W1, m.W1) || !slices.Equal(st.Model.W2, m.W2) {
		t.Fatal("resumed run differs from the uninterrupted one")
	}
}
