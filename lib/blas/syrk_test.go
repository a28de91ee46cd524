package blas

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Dsyrk against gonum's reference on both triangles, both transposes,
// several betas (0 with NaN in C), sizes around the block size and padded
// leading dimensions; the other triangle must stay untouched.
func TestDsyrkMatchesGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 5, 191, 192, 193, 400} {
		for _, k := range []int{1, 7, 300} {
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, ul := range []blas.Uplo{blas.Lower, blas.Upper} {
					for _, beta := range []float64{0, 1, -0.5} {
						rowsA, colsA := n, k
						if tA == blas.Trans {
							rowsA, colsA = k, n
						}
						lda, ldc := colsA+3, n+2
						a := make([]float64, rowsA*lda)
						for i := range a {
							a[i] = r.NormFloat64()
						}
						c := make([]float64, n*ldc)
						for i := range c {
							c[i] = r.NormFloat64()
							if beta == 0 && i%7 == 0 {
								c[i] = math.NaN()
							}
						}
						want := append([]float64(nil), c...)
						gonum.Implementation{}.Dsyrk(ul, tA, n, k, 0.7, a, lda, beta, want, ldc)
						got := append([]float64(nil), c...)
						Implementation{}.Dsyrk(ul, tA, n, k, 0.7, a, lda, beta, got, ldc)
						for i := range got {
							w, g := want[i], got[i]
							if math.IsNaN(w) && math.IsNaN(g) {
								continue
							}
							if math.Abs(w-g) > 1e-12*(1+math.Abs(w))*float64(k) {
								t.Fatalf("n %d k %d %v %v beta %g: c[%d] = %v, gonum %v", n, k, tA, ul, beta, i, g, w)
							}
						}
					}
				}
			}
		}
	}
}

func BenchmarkDsyrk(b *testing.B) {
	const n, k = 1280, 2048
	a := make([]float64, n*k)
	for i := range a {
		a[i] = float64(i%13) - 6
	}
	c := make([]float64, n*n)
	b.Run("syrk", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Implementation{}.Dsyrk(blas.Lower, blas.NoTrans, n, k, 1, a, k, 1, c, n)
		}
		b.ReportMetric(float64(n)*float64(n+syrkBlock)*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("gemm", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Implementation{}.Dgemm(blas.NoTrans, blas.Trans, n, n, k, 1, a, k, a, k, 1, c, n)
		}
		b.ReportMetric(2*float64(n)*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
