package vec

// BNApply computes, for i < len(dst),
//
//	dst[i] = relu?(gamma*((x[i]-mean)*invstd) + beta + res?[i])
//
// (res nil: no residual; relu false: no ReLU), with exactly the results of
// Axpb(dst, x, 1, -mean); Scale(dst, dst, invstd); Axpb(dst, dst, gamma,
// beta); Add(dst, dst, res); Relu(dst, dst), but in one pass over the data
// where this CPU level has a kernel for it (the batch-norm output of
// inference, fused with the residual add and the ReLU). dst may be x.
func BNApply[T Float](dst, x, res []T, mean, invstd, gamma, beta T, relu bool) {
	checkLen("BNApply", len(dst), len(x))
	if res != nil {
		checkLen("BNApply", len(dst), len(res))
	}
	if len(dst) == 0 {
		return
	}
	if is32[T]() && bnApply32(f32(dst), f32(x), f32(res), float32(-mean), float32(invstd), float32(gamma), float32(beta), relu) {
		return
	}
	Axpb(dst, x, 1, -mean)
	Scale(dst, dst, invstd)
	Axpb(dst, dst, gamma, beta)
	if res != nil {
		Add(dst, dst, res)
	}
	if relu {
		Relu(dst, dst)
	}
}
