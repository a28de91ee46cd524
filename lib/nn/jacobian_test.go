package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestVJPJacobian builds the Jacobian of a block with batch norm row by row
// from VJP (row i = J^T e_i; full Jacobians are assembled by
// theory.ComputeJacobian) and checks it against central differences of the
// outputs in both BatchStats and Eval modes; VJP leaves Param.Grad as it was.
func TestVJPJacobian(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	m := NewSequential[float64]("", NewConv2d[float64]("conv", 2, 3, 3, 2, 1, false), NewBatchNorm2d[float64]("bn", 3),
		NewReLU[float64]("relu"), NewGlobalAvgPool[float64]("pool"), NewLinear[float64]("fc", 3, 2, true))
	randInit(r, m, 0.7)
	x := wrap(randSlice(r, 3*2*4*4, 1), 3, 2, 4, 4)
	grads := randSlice(r, NumParams[float64](m), 1)
	off := 0
	for _, p := range m.Params() {
		off += copy(p.Grad, grads[off:])
	}
	for _, mode := range []Mode{BatchStats, Eval} {
		y, err := m.Forward(x, mode)
		if err != nil {
			t.Fatal(err)
		}
		N, d := y.Numel(), NumParams[float64](m)
		J := make([]float64, N*d)
		ut := newTensor[float64](y.Shape())
		u := dataOf(ut)
		for i := 0; i < N; i++ {
			u[i] = 1
			_, row, err := VJP[float64](m, x, ut, mode, J[i*d:i*d])
			if err != nil {
				t.Fatal(err)
			}
			u[i] = 0
			if len(row) != d || &row[0] != &J[i*d] {
				t.Fatalf("row %d: length %d, not written into dst", i, len(row))
			}
		}
		if N != 6 || d != NumParams[float64](m) {
			t.Fatalf("J is %d x %d", N, d)
		}
		if g := FlattenGrads[float64](m, nil); !slices.Equal(g, grads) {
			t.Fatal("VJP changed Param.Grad")
		}
		theta := FlattenParams[float64](m, nil)
		out := func() []float64 {
			SetParams(m, theta)
			y, _ := m.Forward(x, mode)
			return slices.Clone(y.Data())
		}
		for j := 0; j < d; j += 3 {
			old := theta[j]
			theta[j] = old + 1e-6
			yp := out()
			theta[j] = old - 1e-6
			ym := out()
			theta[j] = old
			for i := 0; i < N; i++ {
				fd := (yp[i] - ym[i]) / 2e-6
				if math.Abs(fd-J[i*d+j]) > 1e-6*(1+math.Abs(fd)) {
					t.Fatalf("%v: J[%d,%d] = %v, finite difference %v", mode, i, j, J[i*d+j], fd)
				}
			}
		}
		SetParams(m, theta)
	}
	// a failing Backward (wrong upstream shape) leaves Param.Grad as it was
	if _, _, err := VJP[float64](m, x, wrap(make([]float64, 5), 5), Eval, nil); err == nil {
		t.Error("wrong upstream shape accepted")
	}
	if g := FlattenGrads[float64](m, nil); !slices.Equal(g, grads) {
		t.Error("failed VJP changed Param.Grad")
	}
}
