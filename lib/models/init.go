package models

import (
	"math"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

type convInit int

const (
	convFanOut  convInit = iota // torchvision ResNet: kaiming_normal_(mode="fan_out", nonlinearity="relu")
	convDefault                 // PyTorch Conv2d default: kaiming_uniform_(a=sqrt(5)), bias U(±1/sqrt(fan_in))
)

// initModel initializes every parameter of m from its own named stream
// tensor.NewRNG(seed).Split(param.Name), so a parameter's values depend only
// on the seed and its name:
//
//   - Conv2d weight [out, in, k, k]: convFanOut: N(0, 2/(out*k*k));
//     convDefault: U(-b, b) with b = 1/sqrt(in*k*k) (kaiming_uniform_ with
//     a = sqrt(5)); conv bias U(-1/sqrt(in*k*k), +).
//   - BatchNorm: weight 1, bias 0 (running mean 0, var 1).
//   - Linear [out, in]: weight U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's default
//     kaiming_uniform_(a=sqrt(5))), bias U(-1/sqrt(in), 1/sqrt(in)).
func initModel[T nn.Float](m nn.Module[T], seed uint64, ci convInit) {
	root := tensor.NewRNG(seed)
	var walk func(m nn.Module[T])
	walk = func(m nn.Module[T]) {
		switch l := m.(type) {
		case *nn.Conv2d[T]:
			fanIn := l.In * l.K * l.K
			if ci == convFanOut {
				normal(root.Split(l.Weight.Name), l.Weight.Data, math.Sqrt(2/float64(l.Out*l.K*l.K)))
			} else {
				uniform(root.Split(l.Weight.Name), l.Weight.Data, 1/math.Sqrt(float64(fanIn)))
			}
			if l.Bias != nil {
				uniform(root.Split(l.Bias.Name), l.Bias.Data, 1/math.Sqrt(float64(fanIn)))
			}
		case *nn.Linear[T]:
			b := 1 / math.Sqrt(float64(l.In))
			uniform(root.Split(l.Weight.Name), l.Weight.Data, b)
			if l.Bias != nil {
				uniform(root.Split(l.Bias.Name), l.Bias.Data, b)
			}
		case *nn.BatchNorm[T]:
			for i := range l.Weight.Data {
				l.Weight.Data[i], l.Bias.Data[i] = 1, 0
			}
		case nn.Container[T]:
			for _, c := range l.Children() {
				walk(c)
			}
		}
	}
	walk(m)
}

func normal[T nn.Float](r *tensor.RNG, d []T, std float64) {
	for i := range d {
		d[i] = T(std * r.Normal())
	}
}

func uniform[T nn.Float](r *tensor.RNG, d []T, b float64) {
	for i := range d {
		d[i] = T(b * (2*r.Float64() - 1))
	}
}
