package vec

// BNApplyRows computes, for the rows r < len(dst)/hw of hw elements (e.g.
// the channels of one image in NCHW) and i < hw, with o = r*hw + i,
//
//	dst[o] = relu?(gamma[r]*((x[o]-mean[r])*invstd[r]) + beta[r] + res?[o])
//
// (res nil: no residual; relu false: no ReLU), with exactly the results of
// Axpb(d, xr, 1, -mean[r]); Scale(d, d, invstd[r]); Axpb(d, d, gamma[r],
// beta[r]); Add(d, d, resr); Relu(d, d) on each row, but in one pass over
// the data where this CPU level has a kernel for it (the batch-norm output
// of inference, fused with the residual add and the ReLU), and in one call
// for all the rows: small images (64 pixels a channel) would otherwise
// spend more in calls than in the arithmetic. dst may be x.
func BNApplyRows[T Float](dst, x, res []T, hw int, mean, invstd, gamma, beta []T, relu bool) {
	checkLen("BNApplyRows", len(dst), len(x))
	if res != nil {
		checkLen("BNApplyRows", len(dst), len(res))
	}
	if hw <= 0 || len(dst) == 0 {
		return
	}
	if len(dst)%hw != 0 {
		panic("vec: BNApplyRows: length is not a multiple of the row length")
	}
	rows := len(dst) / hw
	for _, p := range [][]T{mean, invstd, gamma, beta} {
		checkLen("BNApplyRows parameters", rows, len(p))
	}
	if is32[T]() && bnApplyRows32(f32(dst), f32(x), f32(res), hw, f32(mean), f32(invstd), f32(gamma), f32(beta), relu) {
		return
	}
	for r := 0; r < rows; r++ {
		o := r * hw
		var rs []T
		if res != nil {
			rs = res[o : o+hw]
		}
		bnApplyGo(dst[o:o+hw], x[o:o+hw], rs, mean[r], invstd[r], gamma[r], beta[r], relu)
	}
}

// bnApplyGo is one row of BNApplyRows as the sequence of kernels it fuses.
func bnApplyGo[T Float](dst, x, res []T, mean, invstd, gamma, beta T, relu bool) {
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
