package nn

import "repdyn/lib/tensor"

// Tensor is lib/tensor's dense tensor; nn's activations are *Tensor[T].
type Tensor[T Float] = tensor.Tensor[T]

func newTensor[T Float](shape []int) *Tensor[T] { return tensor.Must(tensor.New[T](shape...)) }

// wrap wraps data (not copied) as a tensor of the given shape.
func wrap[T Float](data []T, shape ...int) *Tensor[T] {
	return tensor.Must(tensor.FromSlice(data, shape...))
}

// shapeOf returns t's shape; a nil tensor has shape nil, which every layer's
// shape check rejects with an error naming the layer.
func shapeOf[T Float](t *Tensor[T]) []int {
	if t == nil {
		return nil
	}
	return t.Shape()
}

// dataOf returns the elements of t in row-major order: t's storage when t is
// contiguous (every tensor nn creates is), a contiguous copy otherwise.
func dataOf[T Float](t *Tensor[T]) []T { return t.Contiguous().Data() }
