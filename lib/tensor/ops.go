package tensor

import (
	"fmt"
	"math"
	"unsafe"

	"repdyn/lib/internal/vec"
)

// contig returns t's elements as a contiguous slice (copying a strided view).
func contig[T Float](t *Tensor[T]) []T { return t.Contiguous().Data() }

// binaryInto runs a binary kernel dst = f(a, b) for equal shapes.
func binaryInto[T Float](op string, dst, a, b *Tensor[T], f func(d, x, y []T)) error {
	if err := sameShape(op, a, b); err != nil {
		return err
	}
	if err := sameShape(op, dst, a); err != nil {
		return err
	}
	if dst.IsContiguous() {
		f(dst.Data(), contig(a), contig(b))
		return nil
	}
	tmp := make([]T, dst.Numel())
	f(tmp, contig(a), contig(b))
	copyStrided(dst, newMeta(tmp, dst.shape))
	return nil
}

func binaryNew[T Float](op string, a, b *Tensor[T], f func(d, x, y []T)) (*Tensor[T], error) {
	if err := sameShape(op, a, b); err != nil {
		return nil, err
	}
	out := newMeta(make([]T, a.Numel()), a.shape)
	f(out.Data(), contig(a), contig(b))
	return out, nil
}

// Add returns a + b (equal shapes).
func Add[T Float](a, b *Tensor[T]) (*Tensor[T], error) { return binaryNew("Add", a, b, vec.Add[T]) }

// Sub returns a - b (equal shapes).
func Sub[T Float](a, b *Tensor[T]) (*Tensor[T], error) { return binaryNew("Sub", a, b, vec.Sub[T]) }

// Mul returns the element-wise product a * b (equal shapes).
func Mul[T Float](a, b *Tensor[T]) (*Tensor[T], error) { return binaryNew("Mul", a, b, vec.Mul[T]) }

// AddInto sets dst = a + b (equal shapes; dst may be a or b).
func AddInto[T Float](dst, a, b *Tensor[T]) error {
	return binaryInto("AddInto", dst, a, b, vec.Add[T])
}

// SubInto sets dst = a - b (equal shapes; dst may be a or b).
func SubInto[T Float](dst, a, b *Tensor[T]) error {
	return binaryInto("SubInto", dst, a, b, vec.Sub[T])
}

// MulInto sets dst = a * b element-wise (equal shapes; dst may be a or b).
func MulInto[T Float](dst, a, b *Tensor[T]) error {
	return binaryInto("MulInto", dst, a, b, vec.Mul[T])
}

// Scale returns s*a.
func Scale[T Float](a *Tensor[T], s T) *Tensor[T] {
	out := newMeta(make([]T, a.Numel()), a.shape)
	vec.Scale(out.Data(), contig(a), s)
	return out
}

// ScaleInto sets dst = s*a (equal shapes; dst may be a).
func ScaleInto[T Float](dst, a *Tensor[T], s T) error {
	return binaryInto("ScaleInto", dst, a, a, func(d, x, _ []T) { vec.Scale(d, x, s) })
}

// AddScaled sets dst += alpha*x (equal shapes): the residual add and the
// gradient-accumulation step.
func AddScaled[T Float](dst *Tensor[T], alpha T, x *Tensor[T]) error {
	return binaryInto("AddScaled", dst, dst, x, func(d, ds, xs []T) { axpyInto(d, ds, alpha, xs) })
}

// Axpy sets y += alpha*x (equal shapes), in BLAS argument order.
func Axpy[T Float](alpha T, x, y *Tensor[T]) error {
	return binaryInto("Axpy", y, y, x, func(d, ys, xs []T) { axpyInto(d, ys, alpha, xs) })
}

// axpyInto sets d = y + alpha*x; d is y itself unless y was gathered from a
// strided view, in which case y's values are copied first.
func axpyInto[T Float](d, y []T, alpha T, x []T) {
	if len(d) > 0 && unsafe.SliceData(d) != unsafe.SliceData(y) {
		copy(d, y)
	}
	vec.Axpy(alpha, x, d)
}

// Sum returns the sum of all elements (deterministic blocked order, see the
// package doc); 0 for an empty tensor.
func Sum[T Float](a *Tensor[T]) T { return vec.Sum(contig(a)) }

// Mean returns the mean of all elements (NaN for an empty tensor).
func Mean[T Float](a *Tensor[T]) T {
	n := a.Numel()
	if n == 0 {
		return T(math.NaN())
	}
	return T(float64(vec.Sum(contig(a))) / float64(n))
}

// Max returns the largest element; NaNs are skipped unless the first element
// is NaN. It fails on an empty tensor.
func Max[T Float](a *Tensor[T]) (T, error) {
	if a.Numel() == 0 {
		return 0, fmt.Errorf("tensor.Max: empty tensor of shape %v", a.shape)
	}
	m, _ := vec.Max(contig(a))
	return m, nil
}

// Dot returns the sum of a[i]*b[i] over all elements (equal shapes).
func Dot[T Float](a, b *Tensor[T]) (T, error) {
	if err := sameShape("Dot", a, b); err != nil {
		return 0, err
	}
	return vec.Dot(contig(a), contig(b)), nil
}

// Norm returns the Euclidean (Frobenius) norm of all elements.
func Norm[T Float](a *Tensor[T]) T {
	return T(math.Sqrt(float64(vec.SumSq(contig(a)))))
}

// lastDim splits a into rows along its last dimension.
func lastDim[T Float](op string, a *Tensor[T]) (rows, n int, err error) {
	if len(a.shape) == 0 {
		return 0, 0, fmt.Errorf("tensor.%s: needs at least one dim, got a scalar (shape [])", op)
	}
	n = a.shape[len(a.shape)-1]
	if n == 0 {
		return 0, 0, fmt.Errorf("tensor.%s: last dim of shape %v is empty", op, a.shape)
	}
	return a.Numel() / n, n, nil
}

func reduceLast[T Float](op string, a *Tensor[T], f func(row []T) T) (*Tensor[T], error) {
	rows, n, err := lastDim(op, a)
	if err != nil {
		return nil, err
	}
	out := newMeta(make([]T, rows), a.shape[:len(a.shape)-1])
	x, o := contig(a), out.Data()
	for r := range o {
		o[r] = f(x[r*n : (r+1)*n])
	}
	return out, nil
}

// SumLast returns the sums along the last dimension (shape without the last
// dim).
func SumLast[T Float](a *Tensor[T]) (*Tensor[T], error) {
	return reduceLast("SumLast", a, vec.Sum[T])
}

// MeanLast returns the means along the last dimension.
func MeanLast[T Float](a *Tensor[T]) (*Tensor[T], error) {
	return reduceLast("MeanLast", a, func(r []T) T { return T(float64(vec.Sum(r)) / float64(len(r))) })
}

// MaxLast returns the maxima along the last dimension.
func MaxLast[T Float](a *Tensor[T]) (*Tensor[T], error) {
	return reduceLast("MaxLast", a, func(r []T) T { m, _ := vec.Max(r); return m })
}

// ArgMax returns, for every row along the last dimension, the first index of
// its largest element (e.g. the predicted classes of [batch, classes]
// logits); the result has Numel()/Size(-1) entries in row-major order.
func ArgMax[T Float](a *Tensor[T]) ([]int, error) {
	rows, n, err := lastDim("ArgMax", a)
	if err != nil {
		return nil, err
	}
	out := make([]int, rows)
	x := contig(a)
	for r := range out {
		out[r] = vec.ArgMax(x[r*n : (r+1)*n])
	}
	return out, nil
}

// AllClose reports whether a and b have equal shapes and every pair of
// elements satisfies |a-b| <= atol + rtol*|b| (NaNs are never close), as
// torch.allclose. It returns (true, nil) when they are close and (false, err)
// otherwise, err naming the differing shapes or the first element that is not
// close — convenient in tests:
//
//	if ok, why := tensor.AllClose(got, want, 1e-5, 1e-6); !ok { t.Fatal(why) }
func AllClose[T Float](a, b *Tensor[T], rtol, atol float64) (bool, error) {
	if err := sameShape("AllClose", a, b); err != nil {
		return false, err
	}
	x, y := contig(a), contig(b)
	for i := range x {
		d := math.Abs(float64(x[i]) - float64(y[i]))
		if !(d <= atol+rtol*math.Abs(float64(y[i]))) {
			return false, fmt.Errorf("tensor.AllClose: element %d (row-major) of shape %v: %v vs %v (|diff| %.3g > atol %g + rtol %g*|b|)",
				i, a.shape, x[i], y[i], d, atol, rtol)
		}
	}
	return true, nil
}

// Equal reports whether a and b have equal shapes and equal elements.
func Equal[T Float](a, b *Tensor[T]) bool {
	ok, _ := AllClose(a, b, 0, 0)
	return ok
}
