//go:build !noasm

package vec

import "repdyn/lib/internal/cpu"

//go:noescape
func bnApply32AVX512(dst, x, res *float32, n int, negMean, invstd, gamma, beta float32, flags int)

// bnApply32 runs the one-pass kernel (false if none at this level).
func bnApply32(dst, x, res []float32, negMean, invstd, gamma, beta float32, relu bool) bool {
	if cpu.Selected != cpu.AVX512 {
		return false
	}
	flags := 0
	rp := &dst[0] // not read without flags&1
	if res != nil {
		flags, rp = 1, &res[0]
	}
	if relu {
		flags |= 2
	}
	bnApply32AVX512(&dst[0], &x[0], rp, len(dst), negMean, invstd, gamma, beta, flags)
	return true
}
