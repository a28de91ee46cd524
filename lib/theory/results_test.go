package theory

import (
	"testing"

	"repdyn/lib/models"
	"repdyn/lib/nn"
)

func TestR5PLAndR1Split(t *testing.T) {
	x := randInput(41, 6, 3)
	y := []float64{1, -1, 0.5, 2, 0, -0.5}
	m := models.SmallMLP(3, []int{20}, 1, nn.ActTanh, true, 2)
	J, _ := ComputeJacobian(m, x, JacobianOptions{})
	pl, err := PLRatio(J, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.InCol || pl.Ratio < 1-1e-12 {
		t.Errorf("aligned point: %+v", pl)
	}
	pl.SetSmoothness(2 * pl.SigmaMin * pl.SigmaMin * 4)
	if pl.Rate <= 0 || pl.Rate >= 1 {
		t.Errorf("rate %g", pl.Rate)
	}
	// duplicates: r has a component outside Col(J), the PL hypothesis fails
	xd := x.Clone()
	copy(xd.Data()[3:6], xd.Data()[0:3])
	Jd, _ := ComputeJacobian(m, xd, JacobianOptions{})
	sp, _ := SplitResidual(Jd, y, 0)
	pld, _ := PLRatio(Jd, y, 0)
	if pld.InCol || sp.OutCol < 0.1 {
		t.Errorf("duplicates: split %+v", sp)
	}
	t.Logf("aligned: PL ratio %.3g (sigma_min+ %.3g); duplicates: ||(I-P)r||/||r|| = %.3f", pl.Ratio, pl.SigmaMin, sp.OutCol)
}

func TestR2CrossEntropyInf(t *testing.T) {
	x := randInput(42, 5, 3)
	labels := []int{0, 1, 2, 1, 0}
	m := models.SmallMLP(3, []int{16}, 3, nn.ActReLU, true, 3) // rank J = N = 15
	J, _ := ComputeJacobian(m, x, JacobianOptions{})
	f1, q1, _ := CrossEntropyColumnInf(J, labels, 0, 100)
	f2, q2, _ := CrossEntropyColumnInf(J, labels, 0, 400)
	if !(f2 <= f1 && f1 < 1e-3 && q1 > 10) {
		t.Errorf("CE inf over Col(J): %.4g (|q| %.3g) then %.4g (|q| %.3g)", f1, q1, f2, q2)
	}
	t.Logf("inf F over Col(J) -> 0 without attainment: %.4g (|q|=%.2f) after 100 steps, %.4g (|q|=%.2f) after 400", f1, q1, f2, q2)
}

func TestR6WiderContainsSmaller(t *testing.T) {
	x := randInput(43, 8, 3)
	small := models.SmallMLP(3, []int{1}, 1, nn.ActTanh, true, 5) // d = 6 < N = 8
	big, err := models.WidenMLP(small, 6, 9)
	if err != nil {
		t.Fatal(err)
	}
	ys, _, _ := Outputs(small, x, nn.Eval)
	yb, _, _ := Outputs(big, x, nn.Eval)
	if e := relErr(yb, ys); e > 1e-15 {
		t.Fatalf("widened model changed the function: %.3g", e)
	}
	Js, _ := ComputeJacobian(small, x, JacobianOptions{})
	Jb, _ := ComputeJacobian(big, x, JacobianOptions{})
	inc, _ := ColumnSpaceInclusion(Js, Jb, 0)
	if inc > 1e-12 {
		t.Errorf("Col(J_small) not in Col(J_large): %.3g", inc)
	}
	y := make([]float64, 8)
	for i := range y {
		y[i] = float64(i%3) - 1
	}
	rs, _ := DAA(Js, y, DAAOptions{})
	rb, _ := DAA(Jb, y, DAAOptions{})
	t.Logf("inclusion residual %.2g; small: rank %d rho %.3g; large: rank %d rho %.3g", inc, rs.PerTau[1].Rank, rs.PerTau[1].Rho, rb.PerTau[1].Rank, rb.PerTau[1].Rho)
	if rb.PerTau[1].Rank < rs.PerTau[1].Rank || rb.PerTau[1].Rho > rs.PerTau[1].Rho+1e-12 {
		t.Errorf("larger model lost alignment")
	}
}

func TestR7DepthSweep(t *testing.T) {
	const dx = 2
	x := randInput(44, 10, dx)
	y := make([]float64, 10)
	for i := range y {
		y[i] = float64(i % 2)
	}
	pts, err := Sweep([]int{1, 2, 4, 8, 16, 32}, func(depth int) (nn.Module[float64], error) {
		return models.WidthOneChain(dx, depth, 7, true), nil
	}, x, y, JacobianOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		if p.Rank != dx || p.Verdict != "fails" { // R7: rank J <= d_x, exactly d_x for an active chain
			t.Errorf("depth %d: d=%d rank %d verdict %s", p.Value, p.D, p.Rank, p.Verdict)
		}
		t.Logf("width-1 chain depth %2d: d = %2d, N = %d, rank J = %d, rho = %.3f", p.Value, p.D, p.N, p.Rank, p.Rho)
	}
}

func TestScaledAndPlanLimits(t *testing.T) {
	m := models.SmallMLP(3, []int{8}, 2, nn.ActTanh, true, 1)
	x := randInput(61, 4, 3)
	J1, _ := ComputeJacobian(m, x, JacobianOptions{})
	s := NewScaled(m, 10)
	J10, err := ComputeJacobian(s, x, JacobianOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range J1.Data {
		if d := J10.Data[i] - 10*J1.Data[i]; d > 1e-12 || d < -1e-12 {
			t.Fatalf("scaled Jacobian wrong at %d", i)
		}
	}
	jv, _, err := Jv(s, x, make([]float64, J1.D), JacobianOptions{})
	if err != nil || len(jv) != J1.N {
		t.Fatal(err)
	}
	if FeatureDrift([]float64{1, 2}, []float64{1, 2}) != 0 {
		t.Error("drift")
	}
	// a budget below K alone: refused before computing, with the plan
	if _, err := ComputeNTK(m, x, NTKOptions{Budget: 1000}); err == nil {
		t.Error("infeasible budget accepted")
	} else {
		t.Logf("%v", err)
	}
}

// C1 ("beyond NTK"): with the output scaled by alpha (and the step by
// 1/alpha^2) gradient descent reaches the same loss while the kernel barely
// moves for large alpha (lazy), and moves much more for alpha = 1 (rich).
func TestLazyVersusRich(t *testing.T) {
	x := randInput(81, 8, 3)
	y := []float64{1, -1, 0.5, -0.5, 1, 0, -1, 0.3}
	dist := map[float64]float64{}
	for _, alpha := range []float64{1, 100} {
		m := models.SmallMLP(3, []int{32}, 1, nn.ActTanh, true, 4)
		s := NewScaled(m, alpha)
		f0, _, _ := Outputs(s, x, nn.Eval)
		J0, _ := ComputeJacobian(m, x, JacobianOptions{})
		K0 := KernelOf(J0)
		theta := nn.FlattenParams[float64](m, nil)
		ev, _, _ := K0.Eigen(false)
		lr := 0.45 / (ev[0] * alpha * alpha) // GD step on ||r||^2: stable below 1/lambda_max
		var loss float64
		for step := 0; step < 3000; step++ {
			f, _, _ := Outputs(s, x, nn.Eval)
			r := make([]float64, len(f))
			loss = 0
			for i := range r {
				r[i] = f[i] - f0[i] - y[i] // centred model alpha (f - f_0)
				loss += r[i] * r[i]
			}
			g, err := JTu(s, x, r, JacobianOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range theta {
				theta[i] -= lr * 2 * g[i]
			}
			nn.SetParams[float64](m, theta)
		}
		Jt, _ := ComputeJacobian(m, x, JacobianOptions{})
		dist[alpha] = KernelDistance(K0, KernelOf(Jt))
		t.Logf("alpha %g: final loss %.2e, kernel distance %.3g (K_0 condition %.3g)", alpha, loss, dist[alpha], ev[0]/ev[len(ev)-1])
		if !(loss <= 1e-2) {
			t.Errorf("alpha %g: loss %.3g not small", alpha, loss)
		}
	}
	if !(dist[100] <= dist[1]/20) {
		t.Errorf("lazy regime kernel distance %.3g not << rich %.3g", dist[100], dist[1])
	}
}
