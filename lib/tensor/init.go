package tensor

import (
	"fmt"
	"math"
)

// Initializers fill a tensor in place, in row-major element order, from an
// RNG; they follow torch.nn.init. Typical use gives every parameter its own
// stream: tensor.KaimingNormal(w, root.Split("layer1.0.conv1.weight"), 0,
// tensor.FanOut, "relu").

// FanMode selects which fan Kaiming initialization preserves.
type FanMode int

const (
	// FanIn preserves the variance of the activations in the forward pass.
	FanIn FanMode = iota
	// FanOut preserves the variance of the gradients in the backward pass.
	FanOut
)

func (m FanMode) String() string {
	if m == FanOut {
		return "fan_out"
	}
	return "fan_in"
}

// Fans returns (fan_in, fan_out) of a weight shape as
// torch.nn.init._calculate_fan_in_and_fan_out: for [out, in, k...] (conv
// weights [out, in, kh, kw], linear weights [out, in]) fan_in = in*prod(k)
// and fan_out = out*prod(k). Shapes with fewer than 2 dims are an error.
func Fans(shape []int) (fanIn, fanOut int, err error) {
	if len(shape) < 2 {
		return 0, 0, fmt.Errorf("tensor.Fans: fan in and fan out cannot be computed for shape %v with fewer than 2 dims", shape)
	}
	receptive := 1
	for _, s := range shape[2:] {
		receptive *= s
	}
	return shape[1] * receptive, shape[0] * receptive, nil
}

// Gain returns the recommended gain of a nonlinearity, as
// torch.nn.init.calculate_gain: "linear", "identity", "conv1d", "conv2d",
// "conv3d", "conv_transpose1d/2d/3d" and "sigmoid" give 1, "tanh" 5/3,
// "relu" sqrt(2), "leaky_relu" sqrt(2/(1+a^2)) with a the negative slope
// (param; torch's default 0.01 if param is omitted), "selu" 3/4.
func Gain(nonlinearity string, param ...float64) (float64, error) {
	switch nonlinearity {
	case "linear", "identity", "conv1d", "conv2d", "conv3d",
		"conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid":
		return 1, nil
	case "tanh":
		return 5.0 / 3, nil
	case "relu":
		return math.Sqrt2, nil
	case "leaky_relu":
		a := 0.01
		if len(param) > 0 {
			a = param[0]
		}
		return math.Sqrt(2 / (1 + a*a)), nil
	case "selu":
		return 0.75, nil
	}
	return 0, fmt.Errorf("tensor.Gain: unsupported nonlinearity %q", nonlinearity)
}

// fill sets every element of t, in row-major order, to f().
func fill[T Float](t *Tensor[T], f func() float64) {
	if t.IsContiguous() {
		d := t.Data()
		for i := range d {
			d[i] = T(f())
		}
		return
	}
	forEach(t, func(o int) { t.data[o] = T(f()) })
}

// fillNormal sets t to mean + std*N(0,1), using both Box-Muller outputs for
// consecutive elements.
func fillNormal[T Float](t *Tensor[T], r *RNG, mean, std float64) {
	var spare float64
	have := false
	fill(t, func() float64 {
		if have {
			have = false
			return mean + std*spare
		}
		z, s := r.normalPair()
		spare, have = s, true
		return mean + std*z
	})
}

// Uniform fills t with numbers uniform in [a, b) (torch.nn.init.uniform_).
func Uniform[T Float](t *Tensor[T], r *RNG, a, b float64) {
	fill(t, func() float64 { return a + (b-a)*r.Float64() })
}

// Normal fills t with normal numbers of the given mean and standard
// deviation (torch.nn.init.normal_).
func Normal[T Float](t *Tensor[T], r *RNG, mean, std float64) { fillNormal(t, r, mean, std) }

// Constant fills t with v (torch.nn.init.constant_).
func Constant[T Float](t *Tensor[T], v float64) { t.Fill(T(v)) }

// ZerosInit fills t with 0 (torch.nn.init.zeros_).
func ZerosInit[T Float](t *Tensor[T]) { t.Fill(0) }

// OnesInit fills t with 1 (torch.nn.init.ones_).
func OnesInit[T Float](t *Tensor[T]) { t.Fill(1) }

func kaimingStd(op string, shape []int, a float64, mode FanMode, nonlinearity string) (float64, error) {
	fanIn, fanOut, err := Fans(shape)
	if err != nil {
		return 0, fmt.Errorf("tensor.%s: %w", op, err)
	}
	fan := fanIn
	if mode == FanOut {
		fan = fanOut
	}
	if fan == 0 {
		return 0, fmt.Errorf("tensor.%s: %s is 0 for shape %v", op, mode, shape)
	}
	gain, err := Gain(nonlinearity, a)
	if err != nil {
		return 0, fmt.Errorf("tensor.%s: %w", op, err)
	}
	return gain / math.Sqrt(float64(fan)), nil
}

// KaimingNormal fills t as torch.nn.init.kaiming_normal_(t, a, mode,
// nonlinearity): N(0, std^2) with std = gain/sqrt(fan), gain = Gain(
// nonlinearity, a) (a is the negative slope used only by "leaky_relu"; torch's
// defaults are a=0, FanIn, "leaky_relu"). ResNets use FanOut, "relu".
func KaimingNormal[T Float](t *Tensor[T], r *RNG, a float64, mode FanMode, nonlinearity string) error {
	std, err := kaimingStd("KaimingNormal", t.shape, a, mode, nonlinearity)
	if err != nil {
		return err
	}
	fillNormal(t, r, 0, std)
	return nil
}

// KaimingUniform fills t as torch.nn.init.kaiming_uniform_: U(-bound, bound)
// with bound = sqrt(3)*gain/sqrt(fan). PyTorch's default Linear and Conv
// weight initialization is KaimingUniform(t, r, math.Sqrt(5), FanIn,
// "leaky_relu"), i.e. bound = 1/sqrt(fan_in).
func KaimingUniform[T Float](t *Tensor[T], r *RNG, a float64, mode FanMode, nonlinearity string) error {
	std, err := kaimingStd("KaimingUniform", t.shape, a, mode, nonlinearity)
	if err != nil {
		return err
	}
	bound := math.Sqrt(3) * std
	Uniform(t, r, -bound, bound)
	return nil
}

func xavierStd(op string, shape []int, gain float64) (float64, error) {
	fanIn, fanOut, err := Fans(shape)
	if err != nil {
		return 0, fmt.Errorf("tensor.%s: %w", op, err)
	}
	if fanIn+fanOut == 0 {
		return 0, fmt.Errorf("tensor.%s: fan_in + fan_out is 0 for shape %v", op, shape)
	}
	return gain * math.Sqrt(2/float64(fanIn+fanOut)), nil
}

// XavierNormal fills t as torch.nn.init.xavier_normal_(t, gain):
// N(0, std^2) with std = gain*sqrt(2/(fan_in+fan_out)).
func XavierNormal[T Float](t *Tensor[T], r *RNG, gain float64) error {
	std, err := xavierStd("XavierNormal", t.shape, gain)
	if err != nil {
		return err
	}
	fillNormal(t, r, 0, std)
	return nil
}

// XavierUniform fills t as torch.nn.init.xavier_uniform_(t, gain):
// U(-a, a) with a = gain*sqrt(6/(fan_in+fan_out)).
func XavierUniform[T Float](t *Tensor[T], r *RNG, gain float64) error {
	std, err := xavierStd("XavierUniform", t.shape, gain)
	if err != nil {
		return err
	}
	bound := math.Sqrt(3) * std
	Uniform(t, r, -bound, bound)
	return nil
}

// TorchDefault initializes a Linear or Conv layer as PyTorch's
// reset_parameters does: the weight KaimingUniform(a=sqrt(5), FanIn,
// "leaky_relu") and, if bias is not nil, the bias U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)), drawing the weight from rw and the bias from rb.
func TorchDefault[T Float](weight, bias *Tensor[T], rw, rb *RNG) error {
	if err := KaimingUniform(weight, rw, math.Sqrt(5), FanIn, "leaky_relu"); err != nil {
		return fmt.Errorf("tensor.TorchDefault: %w", err)
	}
	if bias == nil {
		return nil
	}
	fanIn, _, _ := Fans(weight.shape)
	bound := 0.0
	if fanIn > 0 {
		bound = 1 / math.Sqrt(float64(fanIn))
	}
	Uniform(bias, rb, -bound, bound)
	return nil
}
