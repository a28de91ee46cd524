package main

// The program registers repdyn's BLAS (lib/blas: gonum's routines with the
// assembly GEMM and SYRK) as gonum's implementation, so the theory toolkit's
// SVDs, eigen-decompositions and NTK updates run on it. Libraries never
// register it themselves.
import _ "repdyn/lib/blas/use"
