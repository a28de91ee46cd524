package gemm

// The portable micro-kernel, built everywhere: the Generic level uses it
// (on amd64 with REPDYN_NOASM=1 or the noasm tag, and on other
// architectures), with the same packing, blocking and threading as the
// assembly kernels.

// kernGo4x4 is the portable micro-kernel (MR = NR = 4).
func kernGo4x4[T Float](kc int, a *T, rsa, csa int, b *T, ldb int, c *T, ldc int, alpha, beta T, flags int, _ uintptr, _ int) {
	as := unsafeSlice(a, 3*rsa+(kc-1)*csa+1)
	bs := unsafeSlice(b, (kc-1)*ldb+4)
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 T
	for p := 0; p < kc; p++ {
		bp := bs[p*ldb : p*ldb+4 : p*ldb+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		o := p * csa
		a0 := as[o]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := as[o+rsa]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := as[o+2*rsa]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := as[o+3*rsa]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	cs := unsafeSlice(c, 3*ldc+4)
	store := func(row []T, x0, x1, x2, x3 T) {
		row = row[:4:4]
		if flags&1 != 0 {
			row[0] = alpha*x0 + beta*row[0]
			row[1] = alpha*x1 + beta*row[1]
			row[2] = alpha*x2 + beta*row[2]
			row[3] = alpha*x3 + beta*row[3]
		} else {
			row[0] = alpha * x0
			row[1] = alpha * x1
			row[2] = alpha * x2
			row[3] = alpha * x3
		}
	}
	store(cs[0:], c00, c01, c02, c03)
	store(cs[ldc:], c10, c11, c12, c13)
	store(cs[2*ldc:], c20, c21, c22, c23)
	store(cs[3*ldc:], c30, c31, c32, c33)
}
