// Package vec holds repdyn's elementwise and reduction kernels on float32 and
// float64 slices: the inner loops of batch norm, ReLU, residual adds, pooling
// and the optimizers, and of the element-wise ops of package tensor.
//
// Every kernel exists as portable Go. On amd64 the streaming kernels (Axpy,
// Axpb, Axpbyc, Scale, Add, Sub, Mul, Relu, ReluBackward, LeakyRelu,
// LeakyReluBackward, and the block
// kernels of Sum, Dot, SumSq, SumSqDev, hence the per-channel kernels) also
// exist as AVX2+FMA and AVX-512 assembly for float32 and float64, generated
// by asmgen.go; Max/ArgMax and the optimizer steps are Go loops. On arm64
// Axpy, Scale, Add, Sub and Mul also exist as NEON assembly (neongen.go;
// bit-identical to the portable versions except Axpy, which is fused);
// the other kernels run their portable versions there.
// The level is read from cpu.Selected at each call, so tests can run every
// path in one process with cpu.Set. Kernels never allocate and never keep
// their slices.
//
// The exported API is generic over Float (~float32 | ~float64) and dispatches
// on the element size; the typed kernels behind it are unexported.
//
// # Slice lengths
//
// Binary kernels take their length from the destination (or from x for
// reductions) and panic, like a slice index would, when another operand is
// shorter. Operands may alias only as documented (dst == x is always allowed).
//
// # Determinism of reductions
//
// Sum, SumSq, Dot, SumSqDev and the per-channel statistics use a fixed
// association order. The slice is cut into consecutive blocks of BlockLen
// (4096) elements; each block is summed in the element type by the kernel of
// the selected level, and the block partials are added in float64 from left
// to right. Within a block:
//
//   - Generic: four scalar accumulators (element i goes to i%4 while four
//     remain), combined as (s0+s1)+(s2+s3), then the tail in order.
//   - AVX2: four 8-lane (float32) or 4-lane (float64) accumulators fed 4
//     vectors per step, then whole vectors into accumulator 0; combined as
//     (a0+a1)+(a2+a3), lanes folded high half onto low half down to one, then
//     the remaining elements added one by one.
//   - AVX512: the same with 16-lane / 8-lane accumulators, except that the
//     last partial vector is added, masked, into accumulator 0 before the
//     lanes are folded.
//
// Products are fused (FMA) on the vector paths and not on the portable one.
// The result therefore depends only on the input and on cpu.Selected, never on
// thread counts, timing or the alignment of the slices; it may differ in the
// last bits between levels. Per-channel kernels parallelize over channels
// only; each channel's reduction visits the images in order and adds their
// partials in float64, so results do not depend on the number of threads.
//
// Element-wise kernels (Add, Sub, Mul, Scale, Relu, ReluBackward, LeakyRelu,
// LeakyReluBackward) give the same values at every level (bit for bit, up to
// the sign of a zero and the payload of a NaN); Axpy, Axpb and Axpbyc use FMA on the vector paths
// and may differ from the portable path in the last bit.
package vec
