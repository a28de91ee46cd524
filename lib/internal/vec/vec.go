package vec

import (
	"unsafe"
)

// Float is the element type of the kernels.
type Float interface{ ~float32 | ~float64 }

// BlockLen is the number of elements whose partial sum a reduction computes
// in the element type before adding it, in float64, to the running total.
const BlockLen = 4096

func is32[T Float]() bool {
	var z T
	return unsafe.Sizeof(z) == 4
}

func f32[T Float](x []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

func f64[T Float](x []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

func checkLen(op string, n, m int) {
	if m < n {
		panic("vec." + op + ": operand of length " + itoa(m) + " shorter than destination/first operand of length " + itoa(n))
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Axpy computes y[i] += a*x[i] for i < len(y).
func Axpy[T Float](a T, x, y []T) {
	checkLen("Axpy", len(y), len(x))
	if len(y) == 0 {
		return
	}
	if is32[T]() {
		axpy32(float32(a), f32(x), f32(y))
	} else {
		axpy64(float64(a), f64(x), f64(y))
	}
}

// Axpb computes dst[i] = a*x[i] + b for i < len(dst) (dst may be x).
func Axpb[T Float](dst, x []T, a, b T) {
	checkLen("Axpb", len(dst), len(x))
	if len(dst) == 0 {
		return
	}
	if is32[T]() {
		axpb32(f32(dst), f32(x), float32(a), float32(b))
	} else {
		axpb64(f64(dst), f64(x), float64(a), float64(b))
	}
}

// Axpbyc computes dst[i] = a*x[i] + b*y[i] + c for i < len(dst) (dst may be
// x or y): batch norm's backward dx = a*dy + b*xhat + c per channel.
func Axpbyc[T Float](dst, x, y []T, a, b, c T) {
	checkLen("Axpbyc", len(dst), len(x))
	checkLen("Axpbyc", len(dst), len(y))
	if len(dst) == 0 {
		return
	}
	if is32[T]() {
		axpbyc32(f32(dst), f32(x), f32(y), float32(a), float32(b), float32(c))
	} else {
		axpbyc64(f64(dst), f64(x), f64(y), float64(a), float64(b), float64(c))
	}
}

// Scale computes dst[i] = a*x[i] for i < len(dst) (dst may be x).
func Scale[T Float](dst, x []T, a T) {
	checkLen("Scale", len(dst), len(x))
	if len(dst) == 0 {
		return
	}
	if is32[T]() {
		scale32(f32(dst), f32(x), float32(a))
	} else {
		scale64(f64(dst), f64(x), float64(a))
	}
}

// Add computes dst[i] = x[i] + y[i] for i < len(dst) (dst may be x or y).
func Add[T Float](dst, x, y []T) {
	checkLen("Add", len(dst), len(x))
	checkLen("Add", len(dst), len(y))
	if len(dst) == 0 {
		return
	}
	if is32[T]() {
		add32(f32(dst), f32(x), f32(y))
	} else {
		add64(f64(dst), f64(x), f64(y))
	}
}

// AddInPlace computes dst[i] += x[i] for i < len(dst).
func AddInPlace[T Float](dst, x []T) { Add(dst, dst, x) }

// Sub computes dst[i] = x[i] - y[i] for i < len(dst) (dst may be x or y).
func Sub[T Float](dst, x, y []T) {
	checkLen("Sub", len(dst), len(x))
	checkLen("Sub", len(dst), len(y))
	if len(dst) == 0 {
		return
	}
	if is32[T]() {
		sub32(f32(dst), f32(x), f32(y))
	} else {
		sub64(f64(dst), f64(x), f64(y))
	}
}

// Mul computes dst[i] = x[i] * y[i] for i < len(dst) (dst may be x or y).
func Mul[T Float](dst, x, y []T) {
	checkLen("Mul", len(dst), len(x))
	checkLen("Mul", len(dst), len(y))
	if len(dst) == 0 {
		return
	}
	if is32[T]() {
		mul32(f32(dst), f32(x), f32(y))
	} else {
		mul64(f64(dst), f64(x), f64(y))
	}
}

// Relu computes dst[i] = max(x[i], 0) for i < len(dst) (dst may be x).
// It computes 0 > x ? 0 : x, bit for bit the same at every level: NaN inputs
// stay NaN (as in PyTorch) and -0 stays -0.
func Relu[T Float](dst, x []T) {
	checkLen("Relu", len(dst), len(x))
	if len(dst) == 0 {
		return
	}
	if is32[T]() {
		relu32(f32(dst), f32(x))
	} else {
		relu64(f64(dst), f64(x))
	}
}

// ReluBackward computes dx[i] = dy[i] if x[i] > 0 else 0, for i < len(dx)
// (a NaN x gives 0; a NaN dy gives 0 where x <= 0, as PyTorch).
// x is the forward input (or output: both have the same sign pattern).
// dx may be dy.
func ReluBackward[T Float](dx, dy, x []T) {
	checkLen("ReluBackward", len(dx), len(dy))
	checkLen("ReluBackward", len(dx), len(x))
	if len(dx) == 0 {
		return
	}
	if is32[T]() {
		reluBackward32(f32(dx), f32(dy), f32(x))
	} else {
		reluBackward64(f64(dx), f64(dy), f64(x))
	}
}

// LeakyRelu computes dst[i] = x[i] if x[i] > 0 else slope*x[i] (dst may be x).
func LeakyRelu[T Float](dst, x []T, slope T) {
	checkLen("LeakyRelu", len(dst), len(x))
	if len(dst) == 0 {
		return
	}
	if is32[T]() {
		leakyRelu32(f32(dst), f32(x), float32(slope))
	} else {
		leakyRelu64(f64(dst), f64(x), float64(slope))
	}
}

// LeakyReluBackward computes dx[i] = dy[i] if x[i] > 0 else slope*dy[i]
// (dx may be dy), x being the forward input.
func LeakyReluBackward[T Float](dx, dy, x []T, slope T) {
	checkLen("LeakyReluBackward", len(dx), len(dy))
	checkLen("LeakyReluBackward", len(dx), len(x))
	if len(dx) == 0 {
		return
	}
	if is32[T]() {
		leakyReluBackward32(f32(dx), f32(dy), f32(x), float32(slope))
	} else {
		leakyReluBackward64(f64(dx), f64(dy), f64(x), float64(slope))
	}
}

// Sum returns the sum of x (see the package doc for the association order).
func Sum[T Float](x []T) T {
	var s float64
	for len(x) > 0 {
		n := min(len(x), BlockLen)
		s += sumBlock(x[:n])
		x = x[n:]
	}
	return T(s)
}

func sumBlock[T Float](x []T) float64 {
	if is32[T]() {
		return float64(sum32(f32(x)))
	}
	return sum64(f64(x))
}

// Dot returns the sum of x[i]*y[i] for i < len(x).
func Dot[T Float](x, y []T) T {
	checkLen("Dot", len(x), len(y))
	var s float64
	for len(x) > 0 {
		n := min(len(x), BlockLen)
		s += dotBlock(x[:n], y[:n])
		x, y = x[n:], y[n:]
	}
	return T(s)
}

func dotBlock[T Float](x, y []T) float64 {
	if is32[T]() {
		return float64(dot32(f32(x), f32(y)))
	}
	return dot64(f64(x), f64(y))
}

// SumSq returns the sum of x[i]*x[i].
func SumSq[T Float](x []T) T { return Dot(x, x) }

// SumSqDev returns the sum of (x[i]-m)^2, the second pass of a two-pass
// variance.
func SumSqDev[T Float](x []T, m T) T {
	var s float64
	for len(x) > 0 {
		n := min(len(x), BlockLen)
		s += sumSqDevBlock(x[:n], m)
		x = x[n:]
	}
	return T(s)
}

func sumSqDevBlock[T Float](x []T, m T) float64 {
	if is32[T]() {
		return float64(sumSqDev32(f32(x), float32(m)))
	}
	return sumSqDev64(f64(x), float64(m))
}

// Max returns the largest element of x and its first index; NaNs are skipped
// unless x[0] is NaN. It returns (0, -1) for an empty x.
func Max[T Float](x []T) (T, int) {
	if len(x) == 0 {
		return 0, -1
	}
	best, at := x[0], 0
	for i, v := range x[1:] {
		if v > best {
			best, at = v, i+1
		}
	}
	return best, at
}

// ArgMax returns the first index of the largest element of x (-1 if empty).
func ArgMax[T Float](x []T) int {
	_, i := Max(x)
	return i
}
