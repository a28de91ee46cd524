// Package linalg is the dense linear algebra of repdyn's theory toolkit
// (lib/theory): thin SVDs with the numerical column space at a relative
// cut-off (Subspace), the full symmetric eigen-decomposition with
// eigenvalues in descending order, the Lanczos iteration for the top of a
// symmetric operator given matrix-free, and a symmetry check. It runs on
// whatever float64 BLAS gonum has registered (blas64.Use): programs register
// repdyn's (lib/blas) for its fast GEMM; a library never does it for them.
package linalg

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Subspace is an orthonormal basis of the numerical column space of a matrix
// at a cut-off, from its thin SVD A = U S V^T.
type Subspace struct {
	Rows     int
	Singular []float64  // all singular values, descending
	U        *mat.Dense // Rows x min(Rows, Cols) left singular vectors
}

// SVDOf factorizes a row-major rows x cols matrix.
func SVDOf(a []float64, rows, cols int) (*Subspace, error) {
	if rows == 0 || cols == 0 {
		return &Subspace{Rows: rows, U: mat.NewDense(max(rows, 1), 1, nil)}, nil
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(rows, cols, a), mat.SVDThinU) {
		return nil, fmt.Errorf("linalg: SVD of %d x %d did not converge", rows, cols)
	}
	var u mat.Dense
	svd.UTo(&u)
	return &Subspace{Rows: rows, Singular: svd.Values(nil), U: &u}, nil
}

// Rank is the number of singular values above tau * sigma_max.
func (s *Subspace) Rank(tau float64) int {
	r := 0
	for _, v := range s.Singular {
		if len(s.Singular) > 0 && v > tau*s.Singular[0] {
			r++
		}
	}
	return r
}

// Project returns ||U_r^T y|| / ||y|| and ||(I - U_r U_r^T) y|| / ||y||
// with r = Rank(tau), each computed directly (the in-column part from the
// coefficients U_r^T y, the out-of-column part from the explicit residual),
// so neither is obtained by cancellation from the other.
func (s *Subspace) Project(y []float64, tau float64) (in, out float64) {
	r := s.Rank(tau)
	res := append([]float64(nil), y...)
	var cc float64
	for k := 0; k < r; k++ {
		var c float64
		for i := 0; i < s.Rows; i++ {
			c += s.U.At(i, k) * y[i]
		}
		cc += c * c
		for i := 0; i < s.Rows; i++ {
			res[i] -= c * s.U.At(i, k)
		}
	}
	ny := nrm2(y)
	if ny == 0 {
		return 0, 0
	}
	return math.Sqrt(cc) / ny, nrm2(res) / ny
}

// Residual is ||(I - U_r U_r^T) y|| / ||y|| with r = Rank(tau).
func (s *Subspace) Residual(y []float64, tau float64) float64 {
	_, out := s.Project(y, tau)
	return out
}

// SmallestKept is the smallest singular value above tau * sigma_max.
func (s *Subspace) SmallestKept(tau float64) float64 {
	r := s.Rank(tau)
	if r == 0 {
		return 0
	}
	return s.Singular[r-1]
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func nrm2(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func scal(a []float64, s float64) {
	for i := range a {
		a[i] *= s
	}
}

func axpy(s float64, x, y []float64) {
	for i, v := range x {
		y[i] += s * v
	}
}
