package tensor

import (
	"fmt"
	"slices"
	"strings"
	"unsafe"
)

// Float is the element type of a tensor: float32 or float64 (or a type
// defined on them).
type Float interface{ ~float32 | ~float64 }

// Tensor is a dense row-major n-dimensional view of a shared []T.
// Create tensors with New, FromSlice, Zeros, Ones or Full; the zero value is
// not a valid tensor.
type Tensor[T Float] struct {
	data    []T
	shape   []int
	strides []int
	offset  int
}

// Must returns v, or panics with err's message if err is not nil.
// Use it for calls whose shapes are valid by construction:
//
//	t := tensor.Must(tensor.New[float32](2, 3))
func Must[V any](v V, err error) V {
	if err != nil {
		panic(err)
	}
	return v
}

// Check panics with err's message if err is not nil (the Must of calls that
// return only an error).
func Check(err error) {
	if err != nil {
		panic(err)
	}
}

func numel(op string, shape []int) (int, error) {
	n := 1
	for d, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("tensor.%s: negative size %d at dim %d of shape %v", op, s, d, shape)
		}
		if s != 0 && n > (1<<62)/s {
			return 0, fmt.Errorf("tensor.%s: shape %v has too many elements", op, shape)
		}
		n *= s
	}
	return n, nil
}

func rowMajorStrides(shape []int, strides []int) []int {
	st := 1
	for d := len(shape) - 1; d >= 0; d-- {
		strides[d] = st
		st *= shape[d]
	}
	return strides
}

// newMeta builds a contiguous tensor over data; shape is copied.
func newMeta[T Float](data []T, shape []int) *Tensor[T] {
	meta := make([]int, 2*len(shape))
	sh, st := meta[:len(shape):len(shape)], meta[len(shape):]
	copy(sh, shape)
	return &Tensor[T]{data: data, shape: sh, strides: rowMajorStrides(sh, st)}
}

// New returns a zero-filled contiguous tensor of the given shape.
func New[T Float](shape ...int) (*Tensor[T], error) {
	n, err := numel("New", shape)
	if err != nil {
		return nil, err
	}
	return newMeta(make([]T, n), shape), nil
}

// Zeros is New: a zero-filled tensor.
func Zeros[T Float](shape ...int) (*Tensor[T], error) {
	n, err := numel("Zeros", shape)
	if err != nil {
		return nil, err
	}
	return newMeta(make([]T, n), shape), nil
}

// Ones returns a tensor of the given shape filled with 1.
func Ones[T Float](shape ...int) (*Tensor[T], error) {
	n, err := numel("Ones", shape)
	if err != nil {
		return nil, err
	}
	t := newMeta(make([]T, n), shape)
	t.Fill(1)
	return t, nil
}

// Full returns a tensor of the given shape filled with v.
func Full[T Float](v T, shape ...int) (*Tensor[T], error) {
	n, err := numel("Full", shape)
	if err != nil {
		return nil, err
	}
	t := newMeta(make([]T, n), shape)
	t.Fill(v)
	return t, nil
}

// FromSlice wraps data, without copying it, as a contiguous tensor of the
// given shape; len(data) must be the product of shape.
func FromSlice[T Float](data []T, shape ...int) (*Tensor[T], error) {
	n, err := numel("FromSlice", shape)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, fmt.Errorf("tensor.FromSlice: data of length %d does not fit shape %v (%d elements)", len(data), shape, n)
	}
	return newMeta(data[:n:n], shape), nil
}

// Shape returns the sizes of the dimensions. The slice belongs to the tensor:
// do not modify it (copy it with slices.Clone to keep it).
func (t *Tensor[T]) Shape() []int { return t.shape }

// Strides returns the element strides of the dimensions (read-only, like
// Shape).
func (t *Tensor[T]) Strides() []int { return t.strides }

// Offset returns the index in the shared storage of the first element.
func (t *Tensor[T]) Offset() int { return t.offset }

// NDim returns the number of dimensions (0 for a scalar).
func (t *Tensor[T]) NDim() int { return len(t.shape) }

// Size returns the size of dimension d (negative d counts from the end).
// It panics if d is out of range.
func (t *Tensor[T]) Size(d int) int {
	dd, err := t.dim("Size", d)
	if err != nil {
		panic(err)
	}
	return t.shape[dd]
}

// Numel returns the number of elements.
func (t *Tensor[T]) Numel() int {
	n := 1
	for _, s := range t.shape {
		n *= s
	}
	return n
}

// IsContiguous reports whether the elements are laid out row-major without
// gaps (strides of dimensions of size 1 are ignored).
func (t *Tensor[T]) IsContiguous() bool {
	st := 1
	for d := len(t.shape) - 1; d >= 0; d-- {
		s := t.shape[d]
		if s == 0 {
			return true
		}
		if s != 1 && t.strides[d] != st {
			return false
		}
		st *= s
	}
	return true
}

// Data returns the elements of a contiguous tensor as a slice of its storage
// (no copy: writes change the tensor). It panics if t is not contiguous; call
// Contiguous first when unsure.
func (t *Tensor[T]) Data() []T {
	if !t.IsContiguous() {
		panic(fmt.Sprintf("tensor.Data: tensor of shape %v with strides %v is not contiguous (call Contiguous first)", t.shape, t.strides))
	}
	n := t.Numel()
	return t.data[t.offset : t.offset+n : t.offset+n]
}

// SameShape reports whether a and b have equal shapes.
func SameShape[T, U Float](a *Tensor[T], b *Tensor[U]) bool { return slices.Equal(a.shape, b.shape) }

func (t *Tensor[T]) dim(op string, d int) (int, error) {
	n := len(t.shape)
	if d < -n || d >= n {
		return 0, fmt.Errorf("tensor.%s: dim %d out of range for shape %v (%d dims)", op, d, t.shape, n)
	}
	if d < 0 {
		d += n
	}
	return d, nil
}

func (t *Tensor[T]) index(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		t.indexPanic(op, slices.Clone(idx), -1)
	}
	o := t.offset
	for d, i := range idx {
		if i < 0 || i >= t.shape[d] {
			t.indexPanic(op, slices.Clone(idx), d)
		}
		o += i * t.strides[d]
	}
	return o
}

// indexPanic reports a bad index; idx is a copy so that the caller's
// variadic slice does not escape (At and Set do not allocate).
func (t *Tensor[T]) indexPanic(op string, idx []int, d int) {
	if d < 0 {
		panic(fmt.Sprintf("tensor.%s: %d indices %v for shape %v (%d dims)", op, len(idx), idx, t.shape, len(t.shape)))
	}
	panic(fmt.Sprintf("tensor.%s: index %d out of range at dim %d of shape %v (index %v)", op, idx[d], d, t.shape, idx))
}

// At returns the element at the given index (one entry per dimension).
// It panics if the index has the wrong length or is out of range.
func (t *Tensor[T]) At(idx ...int) T { return t.data[t.index("At", idx)] }

// Set stores v at the given index; it panics like At.
func (t *Tensor[T]) Set(v T, idx ...int) { t.data[t.index("Set", idx)] = v }

// Fill sets every element to v.
func (t *Tensor[T]) Fill(v T) {
	if t.IsContiguous() {
		d := t.Data()
		for i := range d {
			d[i] = v
		}
		return
	}
	forEach(t, func(o int) { t.data[o] = v })
}

// Zero sets every element to 0.
func (t *Tensor[T]) Zero() {
	if t.IsContiguous() {
		clear(t.Data())
		return
	}
	t.Fill(0)
}

// forEach calls f with the storage index of every element in row-major order.
func forEach[T Float](t *Tensor[T], f func(o int)) {
	if t.Numel() == 0 {
		return
	}
	nd := len(t.shape)
	var buf [8]int
	var idx []int
	if nd <= len(buf) {
		idx = buf[:nd]
	} else {
		idx = make([]int, nd)
	}
	o := t.offset
	for {
		f(o)
		d := nd - 1
		for ; d >= 0; d-- {
			idx[d]++
			o += t.strides[d]
			if idx[d] < t.shape[d] {
				break
			}
			o -= idx[d] * t.strides[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// String returns a short summary: element type, shape, and the first
// elements in row-major order.
func (t *Tensor[T]) String() string {
	if t == nil {
		return "Tensor(nil)"
	}
	var z T
	typ := "float64"
	if unsafe.Sizeof(z) == 4 {
		typ = "float32"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor[%s]%v", typ, t.shape)
	if !t.IsContiguous() {
		fmt.Fprintf(&b, " strides %v", t.strides)
	}
	b.WriteString(" [")
	const show = 8
	n := t.Numel()
	head := t
	if n > show { // format only the first elements of a large tensor
		flat, err := t.Contiguous().Reshape(n)
		if err == nil {
			head, _ = flat.Narrow(0, 0, show)
		}
	}
	i := 0
	forEach(head, func(o int) {
		if i < show {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.4g", float64(head.data[o]))
		}
		i++
	})
	if n > show {
		fmt.Fprintf(&b, " ... (%d elements)", n)
	}
	b.WriteByte(']')
	return b.String()
}
