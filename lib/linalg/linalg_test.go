package linalg

import (
	"math"
	"testing"

	"repdyn/lib/tensor"
)

// SVDOf on a diagonal matrix with known singular values (and a rank
// deficiency), the column-space residual, and Lanczos' top eigenvalues
// against the full eigen-decomposition of A A^T.
func TestSVDAndEigen(t *testing.T) {
	a := []float64{ // 4 x 3, singular values 3, 2, 0 (row 3 zero, column 2 zero)
		0, 3, 0,
		2, 0, 0,
		0, 0, 0,
		0, 0, 0,
	}
	s, err := SVDOf(a, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if s.Singular[0] != 3 || s.Singular[1] != 2 || s.Singular[2] != 0 || s.Rank(1e-12) != 2 || s.SmallestKept(1e-12) != 2 {
		t.Fatalf("singular values %v rank %d", s.Singular, s.Rank(1e-12))
	}
	in, out := s.Project([]float64{1, 1, 1, 1}, 1e-12)
	if math.Abs(in-math.Sqrt(0.5)) > 1e-15 || math.Abs(out-math.Sqrt(0.5)) > 1e-15 {
		t.Errorf("projection %v %v", in, out)
	}
	r := tensor.NewRNG(1)
	const n = 30
	b := make([]float64, n*n)
	for i := range b {
		b[i] = r.Normal()
	}
	k := make([]float64, n*n) // B B^T
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			for l := 0; l < n; l++ {
				k[i*n+j] += b[i*n+l] * b[j*n+l]
			}
		}
	}
	vals, _, err := EigenSymDesc(k, n, false)
	if err != nil {
		t.Fatal(err)
	}
	top, err := Lanczos(func(dst, v []float64) {
		for i := 0; i < n; i++ {
			dst[i] = dot(k[i*n:(i+1)*n], v)
		}
	}, n, 3, n, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range top {
		if math.Abs(top[i]-vals[i]) > 1e-9*vals[0] {
			t.Errorf("Lanczos %d: %v vs %v", i, top[i], vals[i])
		}
	}
	if e := SymmetryError(k, n); e > 1e-15 {
		t.Errorf("symmetry error %g", e)
	}
}
