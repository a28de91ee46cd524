//go:build !amd64 || noasm

package vec

func bnApply32(dst, x, res []float32, negMean, invstd, gamma, beta float32, relu bool) bool {
	return false
}
