package blas

import (
	"gonum.org/v1/gonum/blas"
)

// syrkBlock is the row-block size of Dsyrk: the off-diagonal part of each
// block row of C is one GEMM call, the diagonal block a GEMM into a
// scratch block (so the other triangle of C is never written).
const syrkBlock = 192

// Dsyrk performs the symmetric rank-k update
//
//	C = alpha * A * Aᵀ + beta * C   (tA == blas.NoTrans, A n×k)
//	C = alpha * Aᵀ * A + beta * C   (tA == blas.Trans, A k×n)
//
// on the triangle ul of the n×n matrix C (the other triangle is neither read
// nor written), with repdyn's GEMM: about half the flops of the full product
// A Aᵀ (n(n+b)k for row blocks of b = 192, against 2n²k). beta == 0
// overwrites the triangle whatever it holds.
func (impl Implementation) Dsyrk(ul blas.Uplo, tA blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	if (ul != blas.Upper && ul != blas.Lower) || (tA != blas.NoTrans && tA != blas.Trans && tA != blas.ConjTrans) || n < 0 || k < 0 {
		impl.Implementation.Dsyrk(ul, tA, n, k, alpha, a, lda, beta, c, ldc) // gonum's panics
		return
	}
	trans := tA != blas.NoTrans
	rowsA, colsA := n, k
	if trans {
		rowsA, colsA = k, n
	}
	if lda < max(1, colsA) || ldc < max(1, n) || (rowsA > 0 && colsA > 0 && len(a) < (rowsA-1)*lda+colsA) || (n > 0 && len(c) < (n-1)*ldc+n) {
		impl.Implementation.Dsyrk(ul, tA, n, k, alpha, a, lda, beta, c, ldc) // gonum's panics
		return
	}
	if n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleTriangle(ul, n, beta, c, ldc)
		return
	}
	tB := blas.Trans // C_IJ = A_I A_J^T
	if trans {
		tB = blas.NoTrans
	}
	tAA := blas.NoTrans
	if trans {
		tAA = blas.Trans
	}
	// block I of A: rows i0.. (NoTrans) or columns i0.. (Trans)
	sub := func(i0 int) []float64 {
		if trans {
			return a[i0:]
		}
		return a[i0*lda:]
	}
	scratch := make([]float64, syrkBlock*syrkBlock)
	for i0 := 0; i0 < n; i0 += syrkBlock {
		b := min(syrkBlock, n-i0)
		// off-diagonal part of block row i0
		if ul == blas.Lower && i0 > 0 {
			impl.Dgemm(tAA, tB, b, i0, k, alpha, sub(i0), lda, sub(0), lda, beta, c[i0*ldc:], ldc)
		}
		if ul == blas.Upper && i0+b < n {
			impl.Dgemm(tAA, tB, b, n-i0-b, k, alpha, sub(i0), lda, sub(i0+b), lda, beta, c[i0*ldc+i0+b:], ldc)
		}
		// diagonal block through the scratch block
		impl.Dgemm(tAA, tB, b, b, k, alpha, sub(i0), lda, sub(i0), lda, 0, scratch, b)
		for i := 0; i < b; i++ {
			lo, hi := 0, i+1
			if ul == blas.Upper {
				lo, hi = i, b
			}
			row := c[(i0+i)*ldc+i0:]
			for j := lo; j < hi; j++ {
				if beta == 0 {
					row[j] = scratch[i*b+j]
				} else {
					row[j] = scratch[i*b+j] + beta*row[j]
				}
			}
		}
	}
}

func scaleTriangle(ul blas.Uplo, n int, beta float64, c []float64, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < n; i++ {
		lo, hi := 0, i+1
		if ul == blas.Upper {
			lo, hi = i, n
		}
		row := c[i*ldc:]
		for j := lo; j < hi; j++ {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}
