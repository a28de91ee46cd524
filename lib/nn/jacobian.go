package nn

// VJP returns J^T u for the batch x: it runs Forward(x, mode) and Backward(u)
// and returns the input gradient and the parameter gradient flattened in
// FlattenParams order (into dst, grown as needed), leaving Param.Grad as it
// was (also on error). u has the shape of f(x). Mode Train is allowed (the
// running statistics then change).
//
// It is the reverse-mode primitive of the theory toolkit (lib/theory), which
// assembles full Jacobians, column subsets and NTKs; forward mode is JVP.
func VJP[T Float](m Module[T], x, u *Tensor[T], mode Mode, dst []T) (dx *Tensor[T], dtheta []T, err error) {
	if _, err = m.Forward(x, mode); err != nil {
		return nil, nil, err
	}
	saved := FlattenGrads(m, nil)
	defer func() {
		off := 0
		for _, p := range m.Params() {
			off += copy(p.Grad, saved[off:])
		}
	}()
	ZeroGrad(m)
	if dx, err = m.Backward(u); err != nil {
		return nil, nil, err
	}
	return dx, FlattenGrads(m, dst), nil
}
