// Package tensor provides repdyn's dense n-dimensional arrays, generic over
// the element type (float32 for training, float64 for the theory toolkit's
// Jacobians and NTKs), with views, element-wise ops and reductions built on
// the vectorized kernels of lib/internal/vec, a seeded deterministic RNG and
// PyTorch-compatible parameter initializers.
//
// # Layout
//
// A *Tensor[T] is a row-major view (shape, strides, offset) of a []T that
// several tensors may share. Constructors return contiguous tensors; Reshape,
// View, Narrow, Slice, Index, Select, Transpose, Permute, Unsqueeze and
// Squeeze return views that share the storage (writes through one are seen by
// all); Contiguous, Clone and Convert copy. Data returns the backing slice of
// a contiguous tensor without copying, which is how layers hand tensors to the
// GEMM and convolution kernels. A shape of length 0 is a scalar (one
// element); dimensions of size 0 are allowed. Dimension arguments may be
// negative, counting from the end (-1 is the last dimension).
//
// # Error convention
//
// Everything whose success depends on shapes, dimensions or lengths chosen at
// run time (constructors, views, element-wise ops, reductions along a
// dimension, Dot) returns an error. Error messages start with the operation
// ("tensor.Add: ...") and name the shapes and the offending dimension, e.g.
//
//	tensor.Add: shapes [2 3] and [3 2] differ at dim 0 (2 vs 3)
//
// For hot internal code whose shapes are known to be valid, wrap a call in
// Must (values) or Check (error-only calls); they panic with the same message:
//
//	x := tensor.Must(tensor.New[float32](128, 3, 32, 32))
//	tensor.Check(tensor.AddInto(y, y, x))
//
// Functions that cannot fail on shapes (Scale, Sum, Mean, Norm, Clone,
// Contiguous, Convert) return no error. Element access (At, Set) and Data
// behave like Go slice indexing: an out-of-range index or a non-contiguous
// tensor is a programming error and panics, with a message naming the
// operation, the index, the dimension and the shape.
//
// # Allocation and aliasing
//
// Functions named like Add return a new tensor; their ...Into twins write a
// destination of the same shape and allocate nothing when all operands are
// contiguous (non-contiguous operands are gathered into temporary copies).
// A destination may be one of the operands. Layer code that works on the Data
// slices of contiguous tensors can call the kernels of lib/internal/vec
// (Axpy, Relu, ChannelMeanVar, ...) directly. Reductions over the whole tensor
// use the deterministic blocked order documented in lib/internal/vec: the
// result is the same on every run and for every thread count (it may differ
// in the last bits between the AVX-512, AVX2 and portable kernels).
//
// # Random numbers and initialization
//
// RNG (xoshiro256**) is seeded explicitly, its stream is defined by this
// package alone, Split derives per-parameter streams by name, and its state
// round-trips through MarshalBinary for exact resumption. Normal draws use
// math.Log, math.Sqrt and math.Sincos and are reproducible on a given
// platform. The initializers (KaimingNormal, KaimingUniform, XavierNormal,
// XavierUniform, Uniform, Normal, Constant, ZerosInit, OnesInit,
// TorchDefault) follow torch.nn.init, with fans computed by Fans and gains by
// Gain.
package tensor
