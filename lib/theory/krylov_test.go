package theory

import (
	"math"
	"testing"

	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// The matrix-free lambda_min+ of K (Lanczos through J v and J^T u on the
// model) against the explicit eigenvalues of K, on a rank-deficient MLP
// (rank 31 < N = 60: the zero eigenvalues must not be reported) and a
// full-rank one; the interval [Lower, Upper] must contain the explicit value.
func TestSmallestNonzeroEigen(t *testing.T) {
	cases := []struct {
		name string
		m    nn.Module[float64]
		x    *tensor.Tensor[float64]
	}{
		{"rank-deficient", models.SmallMLP(3, []int{4}, 3, nn.ActTanh, true, 2), randInput(4, 20, 3)},
		{"full rank", models.SmallMLP(3, []int{16}, 2, nn.ActTanh, true, 3), randInput(5, 10, 3)},
	}
	for _, tc := range cases {
		J, err := ComputeJacobian(tc.m, tc.x, JacobianOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vals, _, _ := KernelOf(J).Eigen(false)
		want := 0.0
		for _, v := range vals {
			if v > KernelCut*vals[0] {
				want = v
			}
		}
		op, err := ModelOperator(tc.m, tc.x, JacobianOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := SmallestNonzeroEigen(op, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: explicit lambda_min+ %.8g; %v", tc.name, want, e)
		tol := 1e-9 * vals[0]
		if !e.Converged || want < e.Lower-tol || want > e.Upper+tol || math.Abs(e.Theta-want) > 1e-6*want {
			t.Errorf("%s: explicit %.10g not in [%.10g, %.10g] (converged %v)", tc.name, want, e.Lower, e.Upper, e.Converged)
		}
		// Truncated early, Upper is still an upper bound.
		e2, _ := SmallestNonzeroEigen(op, 5, 1)
		if e2.Upper < want*(1-1e-9) {
			t.Errorf("%s: 5 steps: upper %.6g below the explicit %.6g", tc.name, e2.Upper, want)
		}
	}
}

// Randomized DAA through J v and J^T u: when the sketch covers Col J the
// interval is tight around the explicit rho (its lower end loses
// Epsilon / (tau sigma_max), largest at the finest tau); with a small sketch it is wide
// but still contains it.
func TestRandomizedDAA(t *testing.T) {
	r := tensor.NewRNG(9)
	y := make([]float64, 60)
	for i := range y {
		y[i] = r.Normal()
	}
	m := models.SmallMLP(3, []int{4}, 3, nn.ActTanh, true, 2) // rank 31 of 60
	x := randInput(4, 20, 3)
	J, _ := ComputeJacobian(m, x, JacobianOptions{})
	op, _ := ModelOperator(m, x, JacobianOptions{})
	exact, _ := DAA(J, y, DAAOptions{})
	check := func(name string, s *SketchDAA, tight bool) {
		t.Logf("%s:\n%s", name, s)
		for i, st := range s.PerTau {
			rho := exact.PerTau[i].Rho
			if rho < st.Lower-1e-9 || rho > st.Upper+1e-9 {
				t.Errorf("%s tau %g: explicit rho %.8g not in [%.8g, %.8g]", name, st.Tau, rho, st.Lower, st.Upper)
			}
			if tight && (st.Upper-st.Lower > 1e-2 || st.Rank != exact.PerTau[i].Rank || (st.Tau >= 1e-6 && st.Upper-st.Lower > 1e-6)) {
				t.Errorf("%s tau %g: interval [%.8g, %.8g] rank %d, want tight around %.8g rank %d", name, st.Tau, st.Lower, st.Upper, st.Rank, rho, exact.PerTau[i].Rank)
			}
		}
	}
	full, err := RandomizedDAA(op, y, 12, 3, 10, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	check("block 12, 3 Krylov steps", full, true)
	small, _ := RandomizedDAA(op, y, 4, 1, 10, nil, 3)
	check("block 4, 1 Krylov step", small, false)

	// Aligned targets: y = J z is certified by the upper end.
	z := make([]float64, J.D)
	for i := range z {
		z[i] = r.Normal()
	}
	ya := J.MatVec(z)
	s, _ := RandomizedDAA(op, ya, 12, 3, 10, nil, 4)
	for _, st := range s.PerTau {
		if st.Upper > RoundoffFloor(op.N, s.Singular[0], st.SmallestKept, false) {
			t.Errorf("aligned y: tau %g upper %.3g above round-off", st.Tau, st.Upper)
		}
	}
}
