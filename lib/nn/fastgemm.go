package nn

import (
	"gonum.org/v1/gonum/blas"
	rblas "repdyn/lib/blas"
)

// blasImpl is repdyn's assembly GEMM (gonum-compatible, row-major).
var blasImpl rblas.Implementation

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// fastGemm dispatches to a BLAS for float32/float64 (types whose underlying
// type is float32/float64 but are named types fall back to the loop).
func fastGemm[T Float](ta, tb bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) bool {
	if m == 0 || n == 0 {
		return true
	}
	if k == 0 {
		return false
	}
	switch av := any(a).(type) {
	case []float64:
		blasImpl.Dgemm(tr(ta), tr(tb), m, n, k, 1, av, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
		return true
	case []float32:
		blasImpl.Sgemm(tr(ta), tr(tb), m, n, k, 1, av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return true
	}
	return false
}
