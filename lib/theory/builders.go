package theory

import (
	"fmt"
	"math"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// WidthOneChain builds the bias-free ReLU chain of width 1 and depth L of
// result R7: x (d_x) -> Linear(d_x, 1) -> [ReLU -> Linear(1, 1)] x (L-1),
// with d = d_x + L - 1 parameters and rank J <= d_x at every depth (exactly
// d_x while the chain is active on d_x independent inputs). Weights are N(0, 1) from seed; with
// positive=true their absolute values are taken (the chain is then active on
// half the inputs instead of dying early).
func WidthOneChain(dx, depth int, seed uint64, positive bool) *nn.Sequential[float64] {
	r := tensor.NewRNG(seed)
	s := nn.NewSequential[float64]("")
	s.Append(nn.NewLinear[float64]("layers.0", dx, 1, false))
	for l := 1; l < depth; l++ {
		s.Append(nn.NewReLU[float64](fmt.Sprintf("layers.%d", 2*l-1)), nn.NewLinear[float64](fmt.Sprintf("layers.%d", 2*l), 1, 1, false))
	}
	for _, p := range s.Params() {
		for i := range p.Data {
			v := r.Normal()
			if positive && v < 0 {
				v = -v
			}
			p.Data[i] = v
		}
	}
	return s
}

// MLP builds a float64 MLP in -> hidden... -> out with the given activation
// (and biases when bias), initialized N(0, 1/fan_in) from seed. It is the
// small model the exact cases and sweeps use; lib/models.MLP gives the
// PyTorch-initialized one.
func MLP(in int, hidden []int, out int, act nn.ActKind, bias bool, seed uint64) *nn.Sequential[float64] {
	r := tensor.NewRNG(seed)
	s := nn.NewSequential[float64]("")
	prev, idx := in, 0
	for _, h := range hidden {
		s.Append(nn.NewLinear[float64](fmt.Sprintf("layers.%d", idx), prev, h, bias), nn.NewActivation[float64](fmt.Sprintf("layers.%d", idx+1), act, 0.01))
		prev, idx = h, idx+2
	}
	s.Append(nn.NewLinear[float64](fmt.Sprintf("layers.%d", idx), prev, out, bias))
	for _, l := range s.Layers {
		if lin, ok := l.(*nn.Linear[float64]); ok {
			sd := 1 / float64(lin.In)
			for i := range lin.Weight.Data {
				lin.Weight.Data[i] = r.Normal() * sqrt(sd)
			}
			if lin.Bias != nil {
				for i := range lin.Bias.Data {
					lin.Bias.Data[i] = 0.1 * r.Normal()
				}
			}
		}
	}
	return s
}

func sqrt(v float64) float64 { return math.Sqrt(v) }
