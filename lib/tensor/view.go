package tensor

import (
	"fmt"
	"slices"
)

// view returns a tensor sharing t's storage with the given shape and strides
// (both copied).
func (t *Tensor[T]) view(shape, strides []int, offset int) *Tensor[T] {
	meta := make([]int, 2*len(shape))
	sh, st := meta[:len(shape):len(shape)], meta[len(shape):]
	copy(sh, shape)
	copy(st, strides)
	return &Tensor[T]{data: t.data, shape: sh, strides: st, offset: offset}
}

// Reshape returns a view with a new shape of the same number of elements;
// one entry may be -1 and is then inferred. t must be contiguous (use
// t.Contiguous().Reshape(...) otherwise).
func (t *Tensor[T]) Reshape(shape ...int) (*Tensor[T], error) { return t.reshape("Reshape", shape) }

// View is Reshape (the PyTorch name): a view with a new shape, no copy.
func (t *Tensor[T]) View(shape ...int) (*Tensor[T], error) { return t.reshape("View", shape) }

func (t *Tensor[T]) reshape(op string, shape []int) (*Tensor[T], error) {
	n := t.Numel()
	infer := -1
	known := 1
	for d, s := range shape {
		switch {
		case s == -1 && infer < 0:
			infer = d
		case s == -1:
			return nil, fmt.Errorf("tensor.%s: more than one -1 in shape %v (from %v)", op, shape, t.shape)
		case s < 0:
			return nil, fmt.Errorf("tensor.%s: negative size %d at dim %d of shape %v (from %v)", op, s, d, shape, t.shape)
		default:
			known *= s
		}
	}
	var sh []int
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("tensor.%s: cannot infer dim %d of shape %v from %v (%d elements)", op, infer, shape, t.shape, n)
		}
		sh = slices.Clone(shape)
		sh[infer] = n / known
	} else {
		if known != n {
			return nil, fmt.Errorf("tensor.%s: shape %v (%d elements) incompatible with shape %v (%d elements)", op, shape, known, t.shape, n)
		}
		sh = shape
	}
	if !t.IsContiguous() {
		return nil, fmt.Errorf("tensor.%s: tensor of shape %v with strides %v is not contiguous; reshape to %v needs Contiguous() first", op, t.shape, t.strides, shape)
	}
	r := newMeta(t.data, sh)
	r.offset = t.offset
	return r, nil
}

// Narrow returns the view of elements start..start+length-1 along dim.
func (t *Tensor[T]) Narrow(dim, start, length int) (*Tensor[T], error) {
	return t.narrow("Narrow", dim, start, length)
}

// Slice returns the view of elements start..end-1 along dim (Narrow with
// an end index instead of a length).
func (t *Tensor[T]) Slice(dim, start, end int) (*Tensor[T], error) {
	return t.narrow("Slice", dim, start, end-start)
}

func (t *Tensor[T]) narrow(op string, dim, start, length int) (*Tensor[T], error) {
	d, err := t.dim(op, dim)
	if err != nil {
		return nil, err
	}
	if start < 0 || length < 0 || start+length > t.shape[d] {
		return nil, fmt.Errorf("tensor.%s: range [%d, %d) out of bounds at dim %d of shape %v", op, start, start+length, d, t.shape)
	}
	v := t.view(t.shape, t.strides, t.offset+start*t.strides[d])
	v.shape[d] = length
	return v, nil
}

// Index returns the view of t[i] along the first dimension, which is dropped.
func (t *Tensor[T]) Index(i int) (*Tensor[T], error) { return t.sel("Index", 0, i) }

// Select returns the view of index i along dim, which is dropped.
func (t *Tensor[T]) Select(dim, i int) (*Tensor[T], error) { return t.sel("Select", dim, i) }

func (t *Tensor[T]) sel(op string, dim, i int) (*Tensor[T], error) {
	if len(t.shape) == 0 {
		return nil, fmt.Errorf("tensor.%s: cannot index a scalar (shape [])", op)
	}
	d, err := t.dim(op, dim)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= t.shape[d] {
		return nil, fmt.Errorf("tensor.%s: index %d out of range at dim %d of shape %v", op, i, d, t.shape)
	}
	sh := slices.Delete(slices.Clone(t.shape), d, d+1)
	st := slices.Delete(slices.Clone(t.strides), d, d+1)
	return t.view(sh, st, t.offset+i*t.strides[d]), nil
}

// Transpose returns the view with dimensions d0 and d1 swapped.
func (t *Tensor[T]) Transpose(d0, d1 int) (*Tensor[T], error) {
	a, err := t.dim("Transpose", d0)
	if err != nil {
		return nil, err
	}
	b, err := t.dim("Transpose", d1)
	if err != nil {
		return nil, err
	}
	v := t.view(t.shape, t.strides, t.offset)
	v.shape[a], v.shape[b] = v.shape[b], v.shape[a]
	v.strides[a], v.strides[b] = v.strides[b], v.strides[a]
	return v, nil
}

// Permute returns the view whose dimension i is t's dimension dims[i];
// dims must be a permutation of 0..NDim()-1 (negative entries count from the
// end).
func (t *Tensor[T]) Permute(dims ...int) (*Tensor[T], error) {
	n := len(t.shape)
	if len(dims) != n {
		return nil, fmt.Errorf("tensor.Permute: %d dims %v for shape %v (%d dims)", len(dims), dims, t.shape, n)
	}
	v := t.view(t.shape, t.strides, t.offset)
	seen := make([]bool, n)
	for i, d := range dims {
		dd, err := t.dim("Permute", d)
		if err != nil {
			return nil, err
		}
		if seen[dd] {
			return nil, fmt.Errorf("tensor.Permute: dim %d repeated in %v for shape %v", dd, dims, t.shape)
		}
		seen[dd] = true
		v.shape[i], v.strides[i] = t.shape[dd], t.strides[dd]
	}
	return v, nil
}

// Unsqueeze returns the view with a new dimension of size 1 inserted at dim
// (0..NDim(); negative counts from the end of the result).
func (t *Tensor[T]) Unsqueeze(dim int) (*Tensor[T], error) {
	n := len(t.shape) + 1
	if dim < -n || dim >= n {
		return nil, fmt.Errorf("tensor.Unsqueeze: dim %d out of range for shape %v (result has %d dims)", dim, t.shape, n)
	}
	if dim < 0 {
		dim += n
	}
	st := 1
	if dim < len(t.shape) {
		st = t.strides[dim] * t.shape[dim]
	}
	sh := slices.Insert(slices.Clone(t.shape), dim, 1)
	sts := slices.Insert(slices.Clone(t.strides), dim, st)
	return t.view(sh, sts, t.offset), nil
}

// Squeeze returns the view without dimension dim, which must have size 1.
func (t *Tensor[T]) Squeeze(dim int) (*Tensor[T], error) {
	d, err := t.dim("Squeeze", dim)
	if err != nil {
		return nil, err
	}
	if t.shape[d] != 1 {
		return nil, fmt.Errorf("tensor.Squeeze: dim %d of shape %v has size %d, not 1", d, t.shape, t.shape[d])
	}
	return t.sel("Squeeze", d, 0)
}

// Contiguous returns t if it is contiguous and a contiguous copy otherwise.
func (t *Tensor[T]) Contiguous() *Tensor[T] {
	if t.IsContiguous() {
		return t
	}
	return t.Clone()
}

// Clone returns a contiguous copy of t with its own storage.
func (t *Tensor[T]) Clone() *Tensor[T] {
	c := newMeta(make([]T, t.Numel()), t.shape)
	copyStrided(c, t)
	return c
}

// CopyFrom copies src's elements into t; the shapes must be equal. The two
// may be views of the same storage only if they do not overlap.
func (t *Tensor[T]) CopyFrom(src *Tensor[T]) error {
	if err := sameShape("CopyFrom", t, src); err != nil {
		return err
	}
	copyStrided(t, src)
	return nil
}

// copyStrided copies src into dst (same shape).
func copyStrided[T, U Float](dst *Tensor[T], src *Tensor[U]) {
	if dst.IsContiguous() && src.IsContiguous() {
		d, s := dst.Data(), src.Data()
		if sameType[T, U]() {
			copy(d, asType[T](s))
			return
		}
		for i, v := range s {
			d[i] = T(v)
		}
		return
	}
	n := dst.Numel()
	if n == 0 {
		return
	}
	nd := len(dst.shape)
	if nd == 0 {
		dst.data[dst.offset] = T(src.data[src.offset])
		return
	}
	var buf [8]int
	var idx []int
	if nd <= len(buf) {
		idx = buf[:nd]
	} else {
		idx = make([]int, nd)
	}
	last := nd - 1
	ln, ds, ss := dst.shape[last], dst.strides[last], src.strides[last]
	od, os := dst.offset, src.offset
	for {
		for k := 0; k < ln; k++ {
			dst.data[od+k*ds] = T(src.data[os+k*ss])
		}
		d := last - 1
		for ; d >= 0; d-- {
			idx[d]++
			od += dst.strides[d]
			os += src.strides[d]
			if idx[d] < dst.shape[d] {
				break
			}
			od -= idx[d] * dst.strides[d]
			os -= idx[d] * src.strides[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// Convert returns a contiguous copy of t with element type U, e.g.
// tensor.Convert[float64](t32).
func Convert[U, T Float](t *Tensor[T]) *Tensor[U] {
	c := newMeta(make([]U, t.Numel()), t.shape)
	copyStrided(c, t)
	return c
}

// ConvertInto copies src into dst, converting the element type; the shapes
// must be equal.
func ConvertInto[U, T Float](dst *Tensor[U], src *Tensor[T]) error {
	if !slices.Equal(dst.shape, src.shape) {
		return shapeMismatch("ConvertInto", dst.shape, src.shape)
	}
	copyStrided(dst, src)
	return nil
}

func sameShape[T Float](op string, a, b *Tensor[T]) error {
	if slices.Equal(a.shape, b.shape) {
		return nil
	}
	return shapeMismatch(op, a.shape, b.shape)
}

func shapeMismatch(op string, a, b []int) error {
	if len(a) != len(b) {
		return fmt.Errorf("tensor.%s: shapes %v and %v differ in number of dims (%d vs %d)", op, a, b, len(a), len(b))
	}
	for d := range a {
		if a[d] != b[d] {
			return fmt.Errorf("tensor.%s: shapes %v and %v differ at dim %d (%d vs %d)", op, a, b, d, a[d], b[d])
		}
	}
	return nil
}
