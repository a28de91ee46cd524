// Package nn provides neural-network layers with explicit, hierarchically
// named parameters and reverse-mode backpropagation on batches, generic over
// float32 (training) and float64 (theory: Jacobians, finite differences).
//
// The API of module.go (Param, Buffer, Module, Mode, ZeroGrad, NumParams,
// FlattenParams, FlattenGrads, SetParams, StateDict) is THE CONTRACT for
// lib/optim and lib/train (and lib/theory, lib/checkpoint): it is kept
// stable; change it only together with those packages.
//
// Conventions:
//   - Activations are NCHW (images) or NF (vectors) tensors, batch first.
//   - Forward returns a tensor owned by the module; it stays valid until the
//     module's next Forward. Buffers are reused across steps, so the steady
//     state allocates nothing for same-shaped batches.
//   - Backward(dy) takes an ARBITRARY upstream gradient dy (same shape as the
//     last Forward's output), ADDS dL/dtheta = J^T dy to every Param.Grad
//     (accumulation, as in PyTorch: call ZeroGrad between steps) and returns
//     dx = J_x^T dy. It does not modify the state saved by Forward, so Backward
//     may be called many times after one Forward (e.g. once per output unit to
//     build the rows of a Jacobian J^T e_i). In Train and BatchStats modes the
//     batch-norm coupling between examples is included exactly.
//   - Parameter names follow PyTorch state_dict names ("layer1.0.conv1.weight",
//     "fc.bias", "bn1.running_mean" for buffers), so checkpoints map one to one
//     onto torchvision-style PyTorch models.
//   - Shape errors name the layer and the shapes involved; they are returned
//     as errors, never panics.
//   - A module is not safe for concurrent use (it owns its buffers); large
//     kernels parallelize internally (lib/conv, lib/blas, and the element-wise
//     parts of batch norm, activations and residual adds), with results that
//     do not depend on the thread count.
//   - Sequential runs a BatchNorm followed by a ReLU as one pass, and the
//     residual blocks fuse bn+ReLU and bn+add+ReLU likewise (bnfused.go);
//     the fused ReLU modules then keep no state (the block or Sequential
//     differentiates through them). ForwardJVP runs the layers one by one.
//
// Layers: Conv2d (lib/conv kernels), BatchNorm2d/BatchNorm1d, Linear, ReLU,
// LeakyReLU, Tanh, Sigmoid, Identity, MaxPool2d, AvgPool2d, GlobalAvgPool,
// Flatten, Dropout, Sequential, BasicBlock and PreActBlock (identity or
// projection shortcuts). Losses: CrossEntropy (softmax, label smoothing) and
// MSE, returning the loss and dLoss/dlogits.
//
// Derivatives for the theory toolkit (use float64):
//   - J^T u: Backward(u) with any u (see above), or VJP.
//   - J v:   forward mode, ForwardJVP on every module (JVPModule) and JVP
//     (JVPParams for a subset of the parameters), with parameter directions
//     in Param.Tangent; exact, including the batch-norm coupling in
//     Train/BatchStats modes.
//   - J:     lib/theory's ComputeJacobian assembles the full N x d matrix
//     from N reverse passes (parameter subsets, parallel workers, NTKs).
//
// FlattenParams/SetParams/FlattenGrads lay theta out in Params() order.
// StateDict, LoadStateDict and CopyState move named state between models
// (also across float32/float64; see models.Convert).
package nn

import "fmt"

// Float is the element type of every layer: float32 or float64.
type Float interface{ ~float32 | ~float64 }

// Mode selects the behaviour of mode-dependent layers (batch norm, dropout).
type Mode int

const (
	// Eval: batch norm uses its running statistics; dropout is the identity.
	Eval Mode = iota
	// Train: batch norm normalizes with the batch statistics and updates its
	// running averages (momentum 0.1, unbiased variance, as PyTorch);
	// dropout drops units with its seeded RNG.
	Train
	// BatchStats: batch norm normalizes with the batch statistics (gradients
	// include the coupling between examples) but does NOT update its running
	// averages; dropout is the identity. This is the "full-batch statistics"
	// mode of THEORY.md for Jacobians.
	BatchStats
)

func (m Mode) String() string {
	switch m {
	case Eval:
		return "eval"
	case Train:
		return "train"
	case BatchStats:
		return "batchstats"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Param is one learnable parameter. Data and Grad are contiguous row-major
// slices of the same length (the product of Shape) that the module keeps for
// its whole life: optimizers update Data in place and read Grad.
type Param[T Float] struct {
	Name    string // hierarchical, PyTorch state_dict style: "layer1.0.conv1.weight"
	Shape   []int  // PyTorch layout: conv weight [out, in, kh, kw], linear weight [out, in]
	Data    []T
	Grad    []T
	NoDecay bool // true for biases and batch-norm weights/biases (no weight decay by convention)

	// Tangent is the direction dtheta of this parameter for forward-mode
	// JVPs (ForwardJVP); nil means zero. nn.JVP and nn.JVPParams set it
	// for the call and restore it.
	Tangent []T
}

// Numel is the number of elements of the parameter.
func (p *Param[T]) Numel() int { return len(p.Data) }

// Buffer is named non-learnable state saved in checkpoints (batch-norm
// running_mean, running_var, num_batches_tracked). num_batches_tracked is a
// count stored as T with shape [] (a scalar; PyTorch stores it as int64).
type Buffer[T Float] struct {
	Name  string
	Shape []int
	Data  []T
}

// Module is a layer or a network.
type Module[T Float] interface {
	// Name is the module's hierarchical name prefix ("" for a top-level model,
	// "layer1.0" for a block); parameter names are Name()+"."+local name.
	Name() string
	// Forward computes the output for the batch x in the given mode and saves
	// what Backward needs. The result is owned by the module (see package doc).
	Forward(x *Tensor[T], mode Mode) (*Tensor[T], error)
	// Backward takes dL/dy for the last Forward's output, accumulates
	// parameter gradients into Param.Grad and returns dL/dx (owned by the
	// module, valid until its next Backward).
	Backward(dy *Tensor[T]) (*Tensor[T], error)
	// Params returns the learnable parameters in a fixed order (PyTorch's
	// parameters() order for the models in lib/models).
	Params() []*Param[T]
	// Buffers returns the named non-learnable state in a fixed order.
	Buffers() []*Buffer[T]
	// OutShape returns the output shape for an input shape (batch first)
	// or an error naming the layer and the shapes.
	OutShape(in []int) ([]int, error)
}

// ZeroGrad sets every gradient of m to zero.
func ZeroGrad[T Float](m Module[T]) {
	for _, p := range m.Params() {
		clear(p.Grad)
	}
}

// NumParams is the total number of learnable scalars of m.
func NumParams[T Float](m Module[T]) int {
	n := 0
	for _, p := range m.Params() {
		n += len(p.Data)
	}
	return n
}

// FlattenParams copies all parameter values of m, in Params() order, into dst
// (grown if needed) and returns it: the vector theta of THEORY.md.
func FlattenParams[T Float](m Module[T], dst []T) []T {
	dst = dst[:0]
	for _, p := range m.Params() {
		dst = append(dst, p.Data...)
	}
	return dst
}

// FlattenGrads copies all parameter gradients of m, in Params() order, into dst.
func FlattenGrads[T Float](m Module[T], dst []T) []T {
	dst = dst[:0]
	for _, p := range m.Params() {
		dst = append(dst, p.Grad...)
	}
	return dst
}

// SetParams copies theta (laid out as by FlattenParams) into the parameters of m.
func SetParams[T Float](m Module[T], theta []T) error {
	if n := NumParams(m); n != len(theta) {
		return fmt.Errorf("nn.SetParams: model has %d parameters, got a vector of %d", n, len(theta))
	}
	off := 0
	for _, p := range m.Params() {
		off += copy(p.Data, theta[off:])
	}
	return nil
}

// StateDict returns every parameter and buffer of m keyed by name (values
// alias the module's storage).
func StateDict[T Float](m Module[T]) map[string][]T {
	d := map[string][]T{}
	for _, p := range m.Params() {
		d[p.Name] = p.Data
	}
	for _, b := range m.Buffers() {
		d[b.Name] = b.Data
	}
	return d
}

// joinName joins a hierarchical prefix and a local name with ".".
func joinName(prefix, local string) string {
	if prefix == "" {
		return local
	}
	if local == "" {
		return prefix
	}
	return prefix + "." + local
}
