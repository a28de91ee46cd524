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
	p := [4]T{mean, invstd, gamma, beta}
	if is32[T]() && bnApplyRows32(f32(dst), f32(x), f32(res), len(dst), f32(p[0:1]), f32(p[1:2]), f32(p[2:3]), f32(p[3:4]), relu) {
		return
	}
	bnApplyGo(dst, x, res, mean, invstd, gamma, beta, relu)
}

// BNApplyRows runs BNApply on consecutive rows of hw elements (len(dst)/hw
// rows, e.g. the channels of one image in NCHW): row r uses mean[r],
// invstd[r], gamma[r] and beta[r]. One call for all the rows: small images
// (64 pixels a channel) would otherwise spend more in calls than in the
// arithmetic.
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

// bnApplyGo is BNApply as the sequence of kernels it fuses.
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
