package models

import (
	"fmt"
	"math"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// This file holds the small float64 models of the theory lessons and tests
// (lib/theory): Gaussian-initialized MLPs, the width-1 ReLU chain of R7 and
// the widening of R6 (results of THEORY.md, our formal versions).

// WidthOneChain builds the bias-free ReLU chain of width 1 and depth L of
// result R7 of THEORY.md: x (d_x) -> Linear(d_x, 1) -> [ReLU -> Linear(1, 1)] x (L-1),
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

// SmallMLP builds a float64 MLP in -> hidden... -> out with the given activation
// (and biases when bias), initialized N(0, 1/fan_in) from seed. It is the
// small model the exact cases and sweeps of lib/theory use; MLP gives the
// PyTorch-initialized one.
func SmallMLP(in int, hidden []int, out int, act nn.ActKind, bias bool, seed uint64) *nn.Sequential[float64] {
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

// WidenMLP returns an MLP (SmallMLP's layer naming) that contains the
// small one (R6): each hidden layer gets extra units; the extra units'
// incoming weights are random (seed) and their OUTGOING weights are zero, so
// the function (and every output) is unchanged. small must be a Sequential
// of Linear and Activation layers (as built by SmallMLP).
func WidenMLP(small *nn.Sequential[float64], extra int, seed uint64) (*nn.Sequential[float64], error) {
	r := tensor.NewRNG(seed)
	big := nn.NewSequential[float64](small.Name())
	var lins []*nn.Linear[float64]
	for _, l := range small.Layers {
		if lin, ok := l.(*nn.Linear[float64]); ok {
			lins = append(lins, lin)
		}
	}
	li := 0
	for _, l := range small.Layers {
		switch s := l.(type) {
		case *nn.Linear[float64]:
			in, out := s.In, s.Out
			if li > 0 {
				in += extra
			}
			if li < len(lins)-1 {
				out += extra
			}
			b := nn.NewLinear[float64](s.Name(), in, out, s.Bias != nil)
			for o := 0; o < out; o++ {
				for i := 0; i < in; i++ {
					var v float64
					switch {
					case o < s.Out && i < s.In:
						v = s.Weight.Data[o*s.In+i]
					case o < s.Out: // outgoing weights of the extra units
						v = 0
					default: // incoming weights of the extra units
						v = r.Normal() / math.Sqrt(float64(in))
					}
					b.Weight.Data[o*in+i] = v
				}
				if b.Bias != nil {
					if o < s.Out {
						b.Bias.Data[o] = s.Bias.Data[o]
					} else {
						b.Bias.Data[o] = 0.1 * r.Normal()
					}
				}
			}
			big.Append(b)
			li++
		case *nn.Activation[float64]:
			big.Append(nn.NewActivation[float64](s.Name(), s.Kind, s.Slope))
		default:
			return nil, fmt.Errorf("models: WidenMLP: layer %T not supported", l)
		}
	}
	return big, nil
}
