// Package blas is repdyn's BLAS: a gonum blas.Float32 and blas.Float64
// implementation whose matrix multiplies (Sgemm, Dgemm) run on repdyn's
// packed, multi-threaded assembly kernels (lib/internal/gemm; AVX-512 or
// AVX2+FMA chosen at run time by lib/internal/cpu, portable Go otherwise).
// All other routines are gonum's pure-Go ones (gonum.org/v1/gonum/blas/gonum).
//
// It exists so that gonum's mat and lapack, and any code written against
// gonum's BLAS interfaces, get fast GEMM:
//
//	blas32.Use(blas.Implementation{})
//	blas64.Use(blas.Implementation{})
//
// Matrices are row-major, with gonum's argument conventions and panics.
// Results of Sgemm and Dgemm are bit-identical for every thread count
// (parallel.SetThreads).
package blas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"repdyn/lib/internal/gemm"
)

// Implementation implements blas.Float32 and blas.Float64 (and so
// blas.Float32Level3 and blas.Float64Level3). Its zero value is ready to use.
// Sgemm and Dgemm are repdyn's; every other method is gonum's, promoted from
// the embedded gonum.Implementation.
type Implementation struct {
	gonum.Implementation
}

var (
	_ blas.Float32       = Implementation{}
	_ blas.Float64       = Implementation{}
	_ blas.Float32Level3 = Implementation{}
	_ blas.Float64Level3 = Implementation{}
)

// Panic messages, identical to gonum/blas/gonum's.
const (
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badTranspose = "blas: illegal transpose"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

// checkGemm panics as gonum's ?gemm does on bad arguments and reports
// whether there is anything to compute.
func checkGemm(tA, tB blas.Transpose, m, n, k, lda, lenA, ldb, lenB, ldc, lenC int) bool {
	switch tA {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	switch tB {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	aTrans := tA != blas.NoTrans
	if aTrans {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	bTrans := tB != blas.NoTrans
	if bTrans {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return false
	}
	if aTrans {
		if lenA < (k-1)*lda+m {
			panic(shortA)
		}
	} else if lenA < (m-1)*lda+k {
		panic(shortA)
	}
	if bTrans {
		if lenB < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if lenB < (k-1)*ldb+n {
		panic(shortB)
	}
	if lenC < (m-1)*ldc+n {
		panic(shortC)
	}
	return true
}

// Sgemm performs one of the matrix-matrix operations
//
//	C = alpha * A * B + beta * C
//	C = alpha * Aᵀ * B + beta * C
//	C = alpha * A * Bᵀ + beta * C
//	C = alpha * Aᵀ * Bᵀ + beta * C
//
// where A is an m×k or k×m dense matrix, B is an n×k or k×n dense matrix, C is
// an m×n matrix, and alpha and beta are scalars. tA and tB specify whether A or
// B are transposed. beta == 0 overwrites C whatever it holds.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !checkGemm(tA, tB, m, n, k, lda, len(a), ldb, len(b), ldc, len(c)) {
		return
	}
	gemm.Gemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm performs one of the matrix-matrix operations
//
//	C = alpha * A * B + beta * C
//	C = alpha * Aᵀ * B + beta * C
//	C = alpha * A * Bᵀ + beta * C
//	C = alpha * Aᵀ * Bᵀ + beta * C
//
// where A is an m×k or k×m dense matrix, B is an n×k or k×n dense matrix, C is
// an m×n matrix, and alpha and beta are scalars. tA and tB specify whether A or
// B are transposed. beta == 0 overwrites C whatever it holds.
func (Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !checkGemm(tA, tB, m, n, k, lda, len(a), ldb, len(b), ldc, len(c)) {
		return
	}
	gemm.Gemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
