// Package demo holds a tiny, dependency-free classifier (a one-hidden-layer
// ReLU MLP trained with minibatch SGD) used by the notebooks to exercise the
// live-curve, cache and interrupt/resume machinery while the library's own
// layers and trainer (lib/nn, lib/train) are being written.
//
// Its whole state (weights, step, RNG position) is a JSON-encodable value,
// so a run can be checkpointed and resumed bit for bit.
package demo

import (
	"math"
	"math/rand/v2"
)

// Config of a run.
type Config struct {
	Hidden    int     `json:"hidden"`
	LR        float64 `json:"lr"`
	Batch     int     `json:"batch"`
	Steps     int     `json:"steps"`
	TrainSize int     `json:"train_size"`
}

// MLP is in -> hidden (ReLU) -> out (softmax).
type MLP struct {
	In, Hidden, Out int
	W1, B1, W2, B2  []float32 // W1: Hidden x In, W2: Out x Hidden (row-major)
}

// NewMLP initializes weights with He-scaled normals from seed.
func NewMLP(in, hidden, out int, seed uint64) *MLP {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	m := &MLP{In: in, Hidden: hidden, Out: out,
		W1: make([]float32, hidden*in), B1: make([]float32, hidden),
		W2: make([]float32, out*hidden), B2: make([]float32, out)}
	s1 := math.Sqrt(2 / float64(in))
	for i := range m.W1 {
		m.W1[i] = float32(r.NormFloat64() * s1)
	}
	s2 := math.Sqrt(1 / float64(hidden))
	for i := range m.W2 {
		m.W2[i] = float32(r.NormFloat64() * s2)
	}
	return m
}

// forward computes hidden activations h and probabilities p for one example.
func (m *MLP) forward(x []float32, h, p []float32) {
	for j := range m.Hidden {
		w := m.W1[j*m.In : (j+1)*m.In]
		s := m.B1[j]
		for i, v := range x {
			s += w[i] * v
		}
		h[j] = max(s, 0)
	}
	mx := float32(math.Inf(-1))
	for k := range m.Out {
		w := m.W2[k*m.Hidden : (k+1)*m.Hidden]
		s := m.B2[k]
		for j, v := range h {
			s += w[j] * v
		}
		p[k] = s
		mx = max(mx, s)
	}
	var z float32
	for k := range p {
		p[k] = float32(math.Exp(float64(p[k] - mx)))
		z += p[k]
	}
	for k := range p {
		p[k] /= z
	}
}

// Step does one SGD step on the examples idx of (x, y) and returns the mean
// cross-entropy loss before the update.
func (m *MLP) Step(x []float32, y []uint8, idx []int, lr float32) float64 {
	g1 := make([]float32, len(m.W1))
	gb1 := make([]float32, len(m.B1))
	g2 := make([]float32, len(m.W2))
	gb2 := make([]float32, len(m.B2))
	h := make([]float32, m.Hidden)
	p := make([]float32, m.Out)
	dh := make([]float32, m.Hidden)
	var loss float64
	for _, e := range idx {
		xe := x[e*m.In : (e+1)*m.In]
		m.forward(xe, h, p)
		t := int(y[e])
		loss -= math.Log(math.Max(float64(p[t]), 1e-12))
		clear(dh)
		for k := range m.Out {
			d := p[k]
			if k == t {
				d--
			}
			gb2[k] += d
			w := m.W2[k*m.Hidden : (k+1)*m.Hidden]
			g := g2[k*m.Hidden : (k+1)*m.Hidden]
			for j, v := range h {
				g[j] += d * v
				dh[j] += d * w[j]
			}
		}
		for j := range m.Hidden {
			if h[j] <= 0 {
				continue
			}
			d := dh[j]
			gb1[j] += d
			g := g1[j*m.In : (j+1)*m.In]
			for i, v := range xe {
				g[i] += d * v
			}
		}
	}
	s := lr / float32(len(idx))
	for i := range m.W1 {
		m.W1[i] -= s * g1[i]
	}
	for i := range m.B1 {
		m.B1[i] -= s * gb1[i]
	}
	for i := range m.W2 {
		m.W2[i] -= s * g2[i]
	}
	for i := range m.B2 {
		m.B2[i] -= s * gb2[i]
	}
	return loss / float64(len(idx))
}

// Evaluate returns the mean loss and accuracy on the first n examples (n <=
// 0: all).
func (m *MLP) Evaluate(x []float32, y []uint8, n int) (loss, acc float64) {
	if n <= 0 || n > len(y) {
		n = len(y)
	}
	h := make([]float32, m.Hidden)
	p := make([]float32, m.Out)
	correct := 0
	for e := range n {
		m.forward(x[e*m.In:(e+1)*m.In], h, p)
		loss -= math.Log(math.Max(float64(p[y[e]]), 1e-12))
		best := 0
		for k := range p {
			if p[k] > p[best] {
				best = k
			}
		}
		if best == int(y[e]) {
			correct++
		}
	}
	return loss / float64(n), float64(correct) / float64(n)
}

// Batch returns the example indices of step `step` for a training set of n
// examples: a deterministic function of (seed, step), so a resumed run sees
// the same batches as an uninterrupted one.
func Batch(seed uint64, step, batch, n int) []int {
	r := rand.New(rand.NewPCG(seed, uint64(step)+1))
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = r.IntN(n)
	}
	return idx
}

// State is a checkpoint of a run: everything needed to resume it.
type State struct {
	Config  Config    `json:"config"`
	Seed    uint64    `json:"seed"`
	Next    int       `json:"next"` // first step not yet done
	Model   *MLP      `json:"model"`
	Steps   []int     `json:"steps"` // logged steps and their losses
	Loss    []float64 `json:"loss"`
	TestAcc float64   `json:"test_acc"` // filled in when the run is complete
}

// Done reports whether every step ran.
func (s *State) Done() bool { return s.Next >= s.Config.Steps }
