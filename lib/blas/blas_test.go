package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"

	"repdyn/lib/internal/cpu"
)

func forEachLevel(t *testing.T, f func(t *testing.T)) {
	saved := cpu.Selected
	defer cpu.Set(saved)
	for _, l := range cpu.Levels() {
		cpu.Set(l)
		t.Run(l.String(), f)
	}
}

func randF64(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.NormFloat64()
	}
	return s
}

// TestGemmMatchesGonum compares Sgemm and Dgemm with gonum's on every
// transpose combination, with padded leading dimensions.
func TestGemmMatchesGonum(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 1))
		tr := []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}
		for _, s := range [][3]int{{1, 1, 1}, {7, 13, 29}, {65, 33, 130}, {130, 300, 70}} {
			for _, ta := range tr {
				for _, tb := range tr {
					m, n, k := s[0], s[1], s[2]
					lda, ldb, ldc := k+1, n+2, n+3
					if ta != blas.NoTrans {
						lda = m + 1
					}
					if tb != blas.NoTrans {
						ldb = k + 2
					}
					a := randF64(r, max(m, k)*lda)
					b := randF64(r, max(n, k)*ldb)
					c := randF64(r, m*ldc)
					want := append([]float64(nil), c...)
					got := append([]float64(nil), c...)
					gonum.Implementation{}.Dgemm(ta, tb, m, n, k, 0.75, a, lda, b, ldb, -0.5, want, ldc)
					Implementation{}.Dgemm(ta, tb, m, n, k, 0.75, a, lda, b, ldb, -0.5, got, ldc)
					if !floats.EqualApprox(got, want, 1e-12*float64(k)) {
						t.Fatalf("Dgemm %v %v %v differs from gonum", ta, tb, s)
					}
					a32, b32, c32 := to32(a), to32(b), to32(c)
					want32 := append([]float32(nil), c32...)
					got32 := append([]float32(nil), c32...)
					gonum.Implementation{}.Sgemm(ta, tb, m, n, k, 0.75, a32, lda, b32, ldb, -0.5, want32, ldc)
					Implementation{}.Sgemm(ta, tb, m, n, k, 0.75, a32, lda, b32, ldb, -0.5, got32, ldc)
					for i := range got32 {
						if d := math.Abs(float64(got32[i] - want32[i])); d > 1e-5*float64(k)*(1+math.Abs(float64(want32[i]))) {
							t.Fatalf("Sgemm %v %v %v differs from gonum at %d: %v vs %v", ta, tb, s, i, got32[i], want32[i])
						}
					}
				}
			}
		}
	})
}

func to32(s []float64) []float32 {
	d := make([]float32, len(s))
	for i, v := range s {
		d[i] = float32(v)
	}
	return d
}

func panicMsg(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// TestGemmPanics checks that bad arguments panic exactly as gonum's do.
func TestGemmPanics(t *testing.T) {
	type args struct {
		ta, tb        blas.Transpose
		m, n, k       int
		la, lb, lc    int
		lda, ldb, ldc int
	}
	ok := args{blas.NoTrans, blas.NoTrans, 3, 4, 5, 15, 20, 12, 5, 4, 4}
	cases := []func(a *args){
		func(a *args) { a.ta = 'X' },
		func(a *args) { a.tb = 0 },
		func(a *args) { a.m = -1 },
		func(a *args) { a.n = -1 },
		func(a *args) { a.k = -1 },
		func(a *args) { a.lda = 4 },
		func(a *args) { a.ta = blas.Trans; a.lda = 2 },
		func(a *args) { a.ldb = 3 },
		func(a *args) { a.tb = blas.Trans; a.ldb = 4 },
		func(a *args) { a.ldc = 3 },
		func(a *args) { a.la = 14 },
		func(a *args) { a.lb = 19 },
		func(a *args) { a.lc = 11 },
		func(a *args) { a.m = 0; a.la = 0; a.lc = 0 },
		func(a *args) {},
	}
	for i, mod := range cases {
		a := ok
		mod(&a)
		for _, impl := range []struct {
			name string
			s32  func(blas.Transpose, blas.Transpose, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)
			s64  func(blas.Transpose, blas.Transpose, int, int, int, float64, []float64, int, []float64, int, float64, []float64, int)
		}{{"sgemm/dgemm", Implementation{}.Sgemm, Implementation{}.Dgemm}} {
			want := panicMsg(func() {
				gonum.Implementation{}.Sgemm(a.ta, a.tb, a.m, a.n, a.k, 1, make([]float32, a.la), a.lda, make([]float32, a.lb), a.ldb, 0, make([]float32, a.lc), a.ldc)
			})
			got := panicMsg(func() {
				impl.s32(a.ta, a.tb, a.m, a.n, a.k, 1, make([]float32, a.la), a.lda, make([]float32, a.lb), a.ldb, 0, make([]float32, a.lc), a.ldc)
			})
			got64 := panicMsg(func() {
				impl.s64(a.ta, a.tb, a.m, a.n, a.k, 1, make([]float64, a.la), a.lda, make([]float64, a.lb), a.ldb, 0, make([]float64, a.lc), a.ldc)
			})
			if got != want || got64 != want {
				t.Errorf("case %d: panics %q (f32) %q (f64), gonum %q", i, got, got64, want)
			}
		}
	}
}

// TestGonumOnTop runs gonum's mat and lapack on this implementation.
func TestGonumOnTop(t *testing.T) {
	prev64, prev32 := blas64.Implementation(), blas32.Implementation()
	blas64.Use(Implementation{})
	blas32.Use(Implementation{})
	defer blas64.Use(prev64)
	defer blas32.Use(prev32)

	r := rand.New(rand.NewPCG(2, 2))
	const m, n = 120, 90
	a := mat.NewDense(m, n, randF64(r, m*n))
	b := mat.NewDense(n, 70, randF64(r, n*70))

	// Mul against a naive product.
	var c mat.Dense
	c.Mul(a, b)
	for i := 0; i < m; i++ {
		for j := 0; j < 70; j++ {
			var s float64
			for l := 0; l < n; l++ {
				s += a.At(i, l) * b.At(l, j)
			}
			if math.Abs(c.At(i, j)-s) > 1e-10 {
				t.Fatalf("Mul (%d,%d) = %v, want %v", i, j, c.At(i, j), s)
			}
		}
	}

	// SVD: A = U Σ Vᵀ.
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		t.Fatal("SVD failed")
	}
	var u, v, rec mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	sigma := mat.NewDiagDense(n, svd.Values(nil))
	rec.Product(&u, sigma, v.T())
	if !mat.EqualApprox(&rec, a, 1e-10) {
		t.Fatal("SVD reconstruction differs")
	}

	// QR: A = Q R, QᵀQ = I.
	var qr mat.QR
	qr.Factorize(a)
	var q, rr, qrec, qtq mat.Dense
	qr.QTo(&q)
	qr.RTo(&rr)
	qrec.Mul(&q, &rr)
	if !mat.EqualApprox(&qrec, a, 1e-10) {
		t.Fatal("QR reconstruction differs")
	}
	qtq.Mul(q.T(), &q)
	if !mat.EqualApprox(&qtq, eye(m), 1e-10) {
		t.Fatal("Q is not orthogonal")
	}

	// EigenSym of AᵀA: (AᵀA) V = V Λ.
	var ata mat.SymDense
	ata.SymOuterK(1, a.T())
	var es mat.EigenSym
	if !es.Factorize(&ata, true) {
		t.Fatal("EigenSym failed")
	}
	var ev, lhs, rhs mat.Dense
	es.VectorsTo(&ev)
	lhs.Mul(&ata, &ev)
	rhs.Mul(&ev, mat.NewDiagDense(n, es.Values(nil)))
	if !mat.EqualApprox(&lhs, &rhs, 1e-8) {
		t.Fatal("EigenSym: A V != V Λ")
	}

	// General Eigen of a square matrix: A v = λ v.
	sq := mat.NewDense(60, 60, randF64(r, 3600))
	var eg mat.Eigen
	if !eg.Factorize(sq, mat.EigenRight) {
		t.Fatal("Eigen failed")
	}
	var vecs mat.CDense
	eg.VectorsTo(&vecs)
	vals := eg.Values(nil)
	for j := 0; j < 60; j++ {
		for i := 0; i < 60; i++ {
			var s complex128
			for l := 0; l < 60; l++ {
				s += complex(sq.At(i, l), 0) * vecs.At(l, j)
			}
			if d := s - vals[j]*vecs.At(i, j); math.Hypot(real(d), imag(d)) > 1e-8 {
				t.Fatalf("Eigen: (A v - λ v)[%d] for λ%d = %v", i, j, d)
			}
		}
	}

	// lapack Cholesky solve of (AᵀA + I) x = b.
	spd := mat.NewSymDense(n, nil)
	spd.SymOuterK(1, a.T())
	for i := 0; i < n; i++ {
		spd.SetSym(i, i, spd.At(i, i)+1)
	}
	raw := spd.RawSymmetric()
	chol := blas64.Symmetric{N: n, Stride: raw.Stride, Uplo: raw.Uplo, Data: append([]float64(nil), raw.Data...)}
	tri, ok := lapack64.Potrf(chol)
	if !ok {
		t.Fatal("Potrf failed")
	}
	x := randF64(r, n)
	rhsB := blas64.General{Rows: n, Cols: 1, Stride: 1, Data: append([]float64(nil), x...)}
	lapack64.Potrs(tri, rhsB)
	var chk mat.VecDense
	chk.MulVec(spd, mat.NewVecDense(n, rhsB.Data))
	if !floats.EqualApprox(chk.RawVector().Data, x, 1e-9) {
		t.Fatal("Cholesky solve differs")
	}

	// A large enough product that gonum's mat blocks through Dgemm with
	// transposes.
	big := mat.NewDense(300, 257, randF64(r, 300*257))
	var g1, g2 mat.Dense
	g1.Mul(big.T(), big)
	blas64.Use(gonum.Implementation{})
	g2.Mul(big.T(), big)
	blas64.Use(Implementation{})
	if !mat.EqualApprox(&g1, &g2, 1e-9) {
		t.Fatal("AᵀA differs from gonum's")
	}
}

func eye(n int) *mat.Dense {
	d := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		d.Set(i, i, 1)
	}
	return d
}
