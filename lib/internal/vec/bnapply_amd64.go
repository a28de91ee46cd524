//go:build !noasm

package vec

import "repdyn/lib/internal/cpu"

//go:noescape
func bnApplyRows32AVX512(dst, x, res *float32, hw, rows int, mean, invstd, gamma, beta *float32, flags int)

// bnApplyRows32 runs the one-pass kernel on rows rows of hw elements
// (false if none at this level). res is nil or as long as dst; the
// parameter slices hold at least rows values.
func bnApplyRows32(dst, x, res []float32, hw int, mean, invstd, gamma, beta []float32, relu bool) bool {
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
	bnApplyRows32AVX512(&dst[0], &x[0], rp, hw, len(dst)/hw, &mean[0], &invstd[0], &gamma[0], &beta[0], flags)
	return true
}
