// Package use registers repdyn's BLAS (lib/blas) as gonum's float32 and
// float64 implementation when a program imports it for its side effect:
//
//	import _ "repdyn/lib/blas/use"
//
// gonum's mat and lapack (and lib/linalg, lib/theory) then run on the
// assembly GEMM and SYRK. Libraries never import it: registration is a
// process-wide choice that belongs to the program (lib/cmd/repdyn, a
// notebook's first cell).
package use

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"

	"repdyn/lib/blas"
)

func init() {
	blas32.Use(blas.Implementation{})
	blas64.Use(blas.Implementation{})
}
