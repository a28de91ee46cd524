package theory

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"repdyn/lib/linalg"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// fdColumn returns the central finite difference of the stacked outputs
// with respect to parameter column k.
func fdColumn(t *testing.T, m nn.Module[float64], x *tensor.Tensor[float64], mode nn.Mode, k int, h float64) []float64 {
	theta := nn.FlattenParams(m, nil)
	orig := theta[k]
	theta[k] = orig + h
	nn.SetParams(m, theta)
	yp, _, err := Outputs(m, x, mode)
	if err != nil {
		t.Fatal(err)
	}
	theta[k] = orig - h
	nn.SetParams(m, theta)
	ym, _, _ := Outputs(m, x, mode)
	theta[k] = orig
	nn.SetParams(m, theta)
	col := make([]float64, len(yp))
	for i := range col {
		col[i] = (yp[i] - ym[i]) / (2 * h)
	}
	return col
}

func checkJacobian(t *testing.T, name string, m nn.Module[float64], x *tensor.Tensor[float64], mode nn.Mode, cols int) {
	t.Run(fmt.Sprintf("%s/%v", name, mode), func(t *testing.T) {
		J, err := ComputeJacobian(m, x, JacobianOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if J.Mode != mode || J.N != x.Shape()[0]*J.Outputs || J.D != nn.NumParams(m) {
			t.Fatalf("bad Jacobian header %v N=%d D=%d", J.Mode, J.N, J.D)
		}
		// 1. columns against central finite differences
		r := tensor.NewRNG(5)
		worst := 0.0
		for c := 0; c < cols; c++ {
			k := r.Intn(J.D)
			if c < len(J.Columns) {
				k = J.Columns[c].Offset // at least one column of every parameter
			}
			fd := fdColumn(t, m, x, mode, k, 1e-6)
			col := make([]float64, J.N)
			var scale float64
			for i := range col {
				col[i] = J.At(i, k)
				scale = max(scale, math.Abs(col[i]))
			}
			var e float64
			for i := range col {
				e = max(e, math.Abs(col[i]-fd[i]))
			}
			e /= max(scale, 1e-3)
			worst = max(worst, e)
			if e > 1e-6 {
				t.Errorf("column %d: |J - FD| / |J| = %.3g", k, e)
			}
		}
		// 2. J v (forward mode) and J^T u (one backward) against explicit J
		v := make([]float64, J.D)
		for i := range v {
			v[i] = r.Normal()
		}
		u := make([]float64, J.N)
		for i := range u {
			u[i] = r.Normal()
		}
		jv, yhat, err := Jv(m, x, v, JacobianOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		ejv := relErr(jv, J.MatVec(v))
		ey := relErr(yhat, J.Yhat)
		jtu, err := JTu(m, x, u, JacobianOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		ejtu := relErr(jtu, J.TMatVec(u))
		if ejv > 1e-11 || ejtu > 1e-11 || ey > 1e-12 {
			t.Errorf("Jv err %.3g, JTu err %.3g, yhat err %.3g", ejv, ejtu, ey)
		}
		// 3. K symmetric PSD to round-off
		K := KernelOf(J)
		ev, _, err := K.Eigen(false)
		if err != nil {
			t.Fatal(err)
		}
		if ev[len(ev)-1] < -1e-12*ev[0] {
			t.Errorf("K not PSD: min eigenvalue %.3g, max %.3g", ev[len(ev)-1], ev[0])
		}
		// 4. chunked NTK equals J J^T
		pl := PlanNTK(J.N, J.D, 1<<40)
		K2, err := ComputeNTK(m, x, NTKOptions{JacobianOptions: JacobianOptions{Mode: mode}, Budget: pl.Strategies[0].PeakBytes - pl.JBytes*2/3})
		if err != nil {
			t.Fatal(err)
		}
		if K2.Plan.Strategies[K2.Plan.Chosen].Name != "column-chunks" {
			t.Errorf("plan chose %q", K2.Plan.Strategies[K2.Plan.Chosen].Name)
		}
		ek := relErr(K2.K, K.K)
		if ek > 1e-12 {
			t.Errorf("chunked K differs from J J^T: %.3g", ek)
		}
		// 5. Lanczos top eigenvalues and the matrix-free K u
		top, err := linalg.Lanczos(NTKMatVec(m, x, JacobianOptions{Mode: mode}), J.N, 3, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		el := relErr(top, ev[:3])
		if el > 1e-8 {
			t.Errorf("Lanczos %v vs %v", top, ev[:3])
		}
		t.Logf("N=%d D=%d: worst FD col err %.2g, Jv %.2g, JTu %.2g, min eig/max %.2g, chunked K %.2g (passes %d), Lanczos %.2g",
			J.N, J.D, worst, ejv, ejtu, ev[len(ev)-1]/ev[0], ek, K2.Plan.Strategies[K2.Plan.Chosen].Passes, el)
	})
}

func TestJacobianAgainstFiniteDifferences(t *testing.T) {
	mlp := tinyMLP(true)
	xm := randInput(1, 6, 5)
	res := tinyResNet(t)
	xr := randInput(2, 3, 2, 6, 6)
	for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
		checkJacobian(t, "mlp", mlp, xm, mode, 40)
		checkJacobian(t, "resnet8", res, xr, mode, 40)
	}
}

func TestBatchStatsCouplesExamples(t *testing.T) {
	// In BatchStats mode, the outputs of example 0 depend on example 1's
	// input; in Eval mode they do not. Check through Jacobian rows: the rows
	// of example 0 change when example 1 changes only in BatchStats mode.
	m := tinyMLP(true)
	x := randInput(3, 4, 5)
	x2 := x.Clone()
	x2.Data()[5] += 0.5 // example 1
	for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
		a, _ := ComputeJacobian(m, x, JacobianOptions{Mode: mode})
		b, _ := ComputeJacobian(m, x2, JacobianOptions{Mode: mode})
		same := slices.Equal(a.Row(0), b.Row(0))
		if same != (mode == nn.Eval) {
			t.Errorf("mode %v: rows of example 0 unchanged = %v", mode, same)
		}
	}
}

func TestParamSelection(t *testing.T) {
	m := tinyResNet(t)
	x := randInput(4, 2, 2, 6, 6)
	full, _ := ComputeJacobian(m, x, JacobianOptions{})
	ps := SelectParams(m, "fc.", "layer1.")
	sub, err := ComputeJacobian(m, x, JacobianOptions{Params: ps})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	ref := full.SubColumns(full.GroupColumns(names...))
	if sub.D != ref.D || relErr(sub.Data, ref.Data) != 0 {
		t.Errorf("selected columns differ: D %d vs %d", sub.D, ref.D)
	}
}

func TestTrainModeRefused(t *testing.T) {
	m := tinyMLP(true)
	if _, err := ComputeJacobian(m, randInput(1, 3, 5), JacobianOptions{Mode: nn.Train}); err == nil {
		t.Error("Train mode accepted")
	}
}

func TestWorkersIdentical(t *testing.T) {
	res := tinyResNet(t)
	mlp := tinyMLP(true)
	for _, c := range []struct {
		m nn.Module[float64]
		x *tensor.Tensor[float64]
	}{{res, randInput(4, 3, 2, 6, 6)}, {mlp, randInput(5, 5, 5)}} {
		for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
			a, err := ComputeJacobian(c.m, c.x, JacobianOptions{Mode: mode, Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			b, err := ComputeJacobian(c.m, c.x, JacobianOptions{Mode: mode, Workers: 3})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Data, b.Data) || !slices.Equal(a.Yhat, b.Yhat) {
				t.Errorf("%v: workers change the Jacobian (max diff %.3g)", mode, relErr(a.Data, b.Data))
			}
		}
	}
	if _, err := replicate(res); err != nil {
		t.Errorf("models.Model not replicable: %v", err)
	}
	if _, err := replicate(mlp); err != nil {
		t.Errorf("Sequential not replicable: %v", err)
	}
}
