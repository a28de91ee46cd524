package nn

import (
	"fmt"
	"math"
	"strings"
)

// ActKind selects an elementwise activation.
type ActKind int

const (
	ActReLU ActKind = iota
	ActLeakyReLU
	ActTanh
	ActSigmoid
	ActIdentity
)

var actNames = [...]string{"ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Identity"}

// String is the PyTorch class name of the activation.
func (k ActKind) String() string {
	if k < 0 || int(k) >= len(actNames) {
		return fmt.Sprintf("ActKind(%d)", int(k))
	}
	return actNames[k]
}

// ParseActKind accepts the PyTorch class name in any case ("relu",
// "LeakyReLU", "leaky_relu", "tanh", "sigmoid", "identity"/"linear").
func ParseActKind(s string) (ActKind, error) {
	switch strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(s, "_", ""), "-", "")) {
	case "relu":
		return ActReLU, nil
	case "leakyrelu", "leaky":
		return ActLeakyReLU, nil
	case "tanh":
		return ActTanh, nil
	case "sigmoid":
		return ActSigmoid, nil
	case "identity", "linear", "none":
		return ActIdentity, nil
	}
	return 0, fmt.Errorf("nn: unknown activation %q (want one of %v)", s, actNames)
}

// MarshalText writes the activation's name (so configs serialize readably).
func (k ActKind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(actNames) {
		return nil, fmt.Errorf("nn: invalid activation %d", int(k))
	}
	return []byte(actNames[k]), nil
}

// UnmarshalText parses a name accepted by ParseActKind.
func (k *ActKind) UnmarshalText(b []byte) error {
	v, err := ParseActKind(string(b))
	if err == nil {
		*k = v
	}
	return err
}

// Activation is an elementwise nonlinearity (no parameters). It keeps a
// reference to its input (which must not change before Backward) and its own
// output buffer.
type Activation[T Float] struct {
	name  string
	Kind  ActKind
	Slope float64 // negative slope of LeakyReLU (PyTorch default 0.01)
	x     *Tensor[T]
	out   buf[T]
	dx    buf[T]
	oshp  []int
	tan   buf[T] // forward-mode tangent of the output
	ew    ewTask[T]
}

// NewReLU returns max(x, 0).
func NewReLU[T Float](name string) *Activation[T] { return &Activation[T]{name: name, Kind: ActReLU} }

// NewLeakyReLU returns x for x > 0 and slope*x otherwise.
func NewLeakyReLU[T Float](name string, slope float64) *Activation[T] {
	return &Activation[T]{name: name, Kind: ActLeakyReLU, Slope: slope}
}

// NewTanh returns tanh(x).
func NewTanh[T Float](name string) *Activation[T] { return &Activation[T]{name: name, Kind: ActTanh} }

// NewSigmoid returns 1/(1+exp(-x)).
func NewSigmoid[T Float](name string) *Activation[T] {
	return &Activation[T]{name: name, Kind: ActSigmoid}
}

// NewIdentity returns x.
func NewIdentity[T Float](name string) *Activation[T] {
	return &Activation[T]{name: name, Kind: ActIdentity}
}

// NewActivation returns the activation of the given kind.
func NewActivation[T Float](name string, k ActKind, slope float64) *Activation[T] {
	return &Activation[T]{name: name, Kind: k, Slope: slope}
}

func (a *Activation[T]) Name() string                     { return a.name }
func (a *Activation[T]) Params() []*Param[T]              { return nil }
func (a *Activation[T]) Buffers() []*Buffer[T]            { return nil }
func (a *Activation[T]) OutShape(in []int) ([]int, error) { return in, nil }

func (a *Activation[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	if x == nil {
		return nil, layerError(a.Kind.String(), a.name, "nil input")
	}
	shp := shapeOf(x)
	y := a.out.get(shp...)
	a.x, a.oshp = x, a.out.shape
	xs, ys := dataOf(x), dataOf(y)
	switch a.Kind {
	case ActReLU:
		a.ew.flat(opRelu, ys, xs, nil, 0)
	case ActLeakyReLU:
		a.ew.flat(opLeaky, ys, xs, nil, T(a.Slope))
	case ActTanh:
		for i, v := range xs {
			ys[i] = T(math.Tanh(float64(v)))
		}
	case ActSigmoid:
		for i, v := range xs {
			ys[i] = T(sigmoid(float64(v)))
		}
	default:
		copy(ys, xs)
	}
	return y, nil
}

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

func (a *Activation[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if err := checkGrad(a.Kind.String(), a.name, dy, a.oshp); err != nil {
		return nil, err
	}
	dx := a.dx.get(a.oshp...)
	g, d, xs, ys := dataOf(dy), dataOf(dx), dataOf(a.x), dataOf(a.out.t)
	switch a.Kind {
	case ActReLU:
		a.ew.flat(opReluBack, d, g, xs, 0)
	case ActLeakyReLU:
		a.ew.flat(opLeakyBack, d, g, xs, T(a.Slope))
	case ActTanh:
		for i, y := range ys {
			d[i] = g[i] * (1 - y*y)
		}
	case ActSigmoid:
		for i, y := range ys {
			d[i] = g[i] * y * (1 - y)
		}
	default:
		copy(d, g)
	}
	return dx, nil
}
