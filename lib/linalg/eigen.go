package linalg

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"

	"repdyn/lib/tensor"
)

// EigenSymDesc is the full symmetric eigen-decomposition of a row-major n x n
// matrix, eigenvalues descending.
func EigenSymDesc(a []float64, n int, vectors bool) ([]float64, *mat.Dense, error) {
	s := mat.NewSymDense(n, slices.Clone(a))
	var es mat.EigenSym
	if !es.Factorize(s, vectors) {
		return nil, nil, fmt.Errorf("linalg: eigen-decomposition of %d x %d did not converge", n, n)
	}
	vals := es.Values(nil)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return vals[idx[a]] > vals[idx[b]] })
	out := make([]float64, n)
	for i, j := range idx {
		out[i] = vals[j]
	}
	if !vectors {
		return out, nil, nil
	}
	var ev mat.Dense
	es.VectorsTo(&ev)
	v := mat.NewDense(n, n, nil)
	for i, j := range idx {
		for r := 0; r < n; r++ {
			v.Set(r, i, ev.At(r, j))
		}
	}
	return out, v, nil
}

// Lanczos returns the nev largest eigenvalues (descending) of a symmetric
// positive semi-definite operator of size n given by matvec (dst = A v), by
// the Lanczos iteration with full re-orthogonalization for iters steps
// (0: min(n, max(2*nev+20, 60))). Use it for large N, e.g. with a matrix-free
// K v = J (J^T v) (see theory.NTKMatVec).
func Lanczos(matvec func(dst, v []float64), n, nev, iters int, seed uint64) ([]float64, error) {
	if iters <= 0 {
		iters = min(n, max(2*nev+20, 60))
	}
	iters = min(iters, n)
	if nev > iters {
		return nil, fmt.Errorf("linalg: Lanczos: %d eigenvalues requested from %d steps", nev, iters)
	}
	r := tensor.NewRNG(seed)
	Q := make([][]float64, 0, iters)
	alpha := make([]float64, 0, iters)
	beta := make([]float64, 0, iters)
	q := make([]float64, n)
	for i := range q {
		q[i] = r.Normal()
	}
	scal(q, 1/nrm2(q))
	w := make([]float64, n)
	for it := 0; it < iters; it++ {
		Q = append(Q, slices.Clone(q))
		matvec(w, q)
		a := dot(w, q)
		alpha = append(alpha, a)
		// full re-orthogonalization (twice is enough)
		for pass := 0; pass < 2; pass++ {
			for _, qq := range Q {
				axpy(-dot(w, qq), qq, w)
			}
		}
		b := nrm2(w)
		if it == iters-1 || b <= 1e-14*math.Abs(alpha[0])+1e-300 {
			break
		}
		beta = append(beta, b)
		copy(q, w)
		scal(q, 1/b)
	}
	m := len(alpha)
	T := make([]float64, m*m)
	for i := 0; i < m; i++ {
		T[i*m+i] = alpha[i]
		if i+1 < m {
			T[i*m+i+1], T[(i+1)*m+i] = beta[i], beta[i]
		}
	}
	vals, _, err := EigenSymDesc(T, m, false)
	if err != nil {
		return nil, err
	}
	return vals[:min(nev, m)], nil
}

// SymmetryError is max |K_ij - K_ji| / max |K_ij| (0 after ComputeNTK's
// symmetrization; use it on kernels from elsewhere).
func SymmetryError(k []float64, n int) float64 {
	var e, m float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			e = max(e, math.Abs(k[i*n+j]-k[j*n+i]))
			m = max(m, math.Abs(k[i*n+j]))
		}
	}
	return e / m
}
