package nn

import "fmt"

// Jacobian returns J = d vec(f(x)) / d theta for the batch x, the N x d
// matrix of THEORY.md, row-major in dst (grown as needed): row i*m+k is output
// k of example i (f(x) has shape [n, m] or any shape, flattened row-major),
// columns follow FlattenParams order. Batch norm runs in mode, which must be
// Eval (running statistics) or BatchStats (statistics of this batch, with the
// coupling between examples); Train is rejected because it would update the
// running averages.
//
// It makes one Forward and N Backward passes (J^T e_i); the parameters'
// gradients are restored afterwards. Use float64 for theory work.
func Jacobian[T Float](m Module[T], x *Tensor[T], mode Mode, dst []T) ([]T, int, int, error) {
	if mode == Train {
		return nil, 0, 0, fmt.Errorf("nn.Jacobian: mode must be Eval or BatchStats, not Train (it would update batch-norm running statistics)")
	}
	y, err := m.Forward(x, mode)
	if err != nil {
		return nil, 0, 0, err
	}
	N := y.Numel()
	yshape := append([]int(nil), shapeOf(y)...)
	saved := FlattenGrads(m, nil)
	d := len(saved)
	dst = grow(dst, N*d)
	u := newTensor[T](yshape)
	us := dataOf(u)
	for i := 0; i < N; i++ {
		ZeroGrad(m)
		us[i] = 1
		if _, err := m.Backward(u); err != nil {
			return nil, 0, 0, err
		}
		us[i] = 0
		row := dst[i*d : (i+1)*d]
		off := 0
		for _, p := range m.Params() {
			off += copy(row[off:], p.Grad)
		}
	}
	off := 0
	for _, p := range m.Params() {
		off += copy(p.Grad, saved[off:])
	}
	return dst, N, d, nil
}

// VJP returns J^T u for the batch x: it runs Forward(x, mode) and Backward(u)
// and returns the input gradient and the parameter gradient flattened in
// FlattenParams order (into dst), leaving Param.Grad as it was. u has the
// shape of f(x). Mode Train is allowed (the running statistics then change).
func VJP[T Float](m Module[T], x, u *Tensor[T], mode Mode, dst []T) (dx *Tensor[T], dtheta []T, err error) {
	if _, err = m.Forward(x, mode); err != nil {
		return nil, nil, err
	}
	saved := FlattenGrads(m, nil)
	ZeroGrad(m)
	if dx, err = m.Backward(u); err != nil {
		return nil, nil, err
	}
	dtheta = FlattenGrads(m, dst)
	off := 0
	for _, p := range m.Params() {
		off += copy(p.Grad, saved[off:])
	}
	return dx, dtheta, nil
}
