package nn

import (
	"fmt"
	"slices"
)

// buf is a reusable tensor: get returns the same tensor while the shape is
// unchanged, so steady-state steps allocate nothing; a new shape reuses the
// storage when it is large enough (a smaller last batch, evaluation batches).
// Contents are NOT cleared.
type buf[T Float] struct {
	t     *Tensor[T]
	shape []int
	store []T
}

func (b *buf[T]) get(shape ...int) *Tensor[T] {
	if b.t != nil && slices.Equal(b.shape, shape) {
		return b.t
	}
	b.shape = append(b.shape[:0], shape...)
	n := prod(shape)
	if cap(b.store) < n {
		b.store = make([]T, n)
	}
	b.t = wrap(b.store[:n:n], b.shape...)
	return b.t
}

// scratch is a reusable slice.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// layerError formats an error naming the layer.
func layerError(kind, name string, format string, args ...any) error {
	if name == "" {
		name = "(top)"
	}
	return fmt.Errorf("nn.%s %q: %s", kind, name, fmt.Sprintf(format, args...))
}

// checkGrad verifies that dy has the shape of the saved output.
func checkGrad[T Float](kind, name string, dy *Tensor[T], out []int) error {
	if dy == nil {
		return layerError(kind, name, "Backward with nil gradient")
	}
	if out == nil {
		return layerError(kind, name, "Backward before Forward")
	}
	if !slices.Equal(shapeOf(dy), out) {
		return layerError(kind, name, "gradient shape %v does not match output shape %v", shapeOf(dy), out)
	}
	return nil
}

func paramNew[T Float](prefix, local string, noDecay bool, shape ...int) *Param[T] {
	n := prod(shape)
	return &Param[T]{Name: joinName(prefix, local), Shape: append([]int(nil), shape...),
		Data: make([]T, n), Grad: make([]T, n), NoDecay: noDecay}
}

// gemm computes C = A*B + beta*C for row-major A (m x k, or k x m if ta),
// B (k x n, or n x k if tb), C (m x n) with leading dimensions lda, ldb, ldc.
func gemm[T Float](ta, tb bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if fastGemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(ci)
		} else if beta != 1 {
			for j := range ci {
				ci[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var av T
			if ta {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			if av == 0 {
				continue
			}
			if tb {
				for j := range ci {
					ci[j] += av * b[j*ldb+p]
				}
			} else {
				bp := b[p*ldb : p*ldb+n]
				for j := range ci {
					ci[j] += av * bp[j]
				}
			}
		}
	}
}

// shapeCache remembers the output shape of the last input shape so that
// steady-state Forward calls do not allocate shape slices.
type shapeCache struct {
	in, out []int
}

func (c *shapeCache) lookup(in []int, f func([]int) ([]int, error)) ([]int, error) {
	if c.out != nil && slices.Equal(c.in, in) {
		return c.out, nil
	}
	out, err := f(in)
	if err != nil {
		return nil, err
	}
	c.in = append(c.in[:0], in...)
	c.out = out
	return out, nil
}
