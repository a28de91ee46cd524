package theory

import (
	"gonum.org/v1/gonum/blas/blas64"

	repblas "repdyn/lib/blas"
)

// The package registers repdyn's BLAS (lib/blas: gonum's routines with
// repdyn's multi-threaded assembly GEMM) as gonum's float64 implementation,
// so K = J J^T, the SVDs of J and the eigen-decompositions of K run on the
// fast GEMM. Results are bit-identical for every thread count.
func init() { blas64.Use(repblas.Implementation{}) }
