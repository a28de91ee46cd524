package theory

import (
	"math"
	"slices"
	"testing"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// TestJacobianConvBlock (moved from lib/nn when nn.Jacobian was folded into
// ComputeJacobian) checks the Jacobian of a block with batch norm against
// central differences of the outputs in both BatchStats and Eval modes.
func TestJacobianConvBlock(t *testing.T) {
	m := nn.NewSequential[float64]("", nn.NewConv2d[float64]("conv", 2, 3, 3, 2, 1, false), nn.NewBatchNorm2d[float64]("bn", 3),
		nn.NewReLU[float64]("relu"), nn.NewGlobalAvgPool[float64]("pool"), nn.NewLinear[float64]("fc", 3, 2, true))
	r := tensor.NewRNG(4)
	for _, p := range m.Params() {
		for i := range p.Data {
			p.Data[i] = 0.7 * r.Normal()
			if p.Name == "bn.weight" || p.Name == "bn.bias" {
				p.Data[i] = 1 + 0.3*r.Normal()
			}
		}
	}
	x := randInput(4, 3, 2, 4, 4)
	for _, mode := range []nn.Mode{nn.BatchStats, nn.Eval} {
		jac, err := ComputeJacobian(m, x, JacobianOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		J, N, d := jac.Data, jac.N, jac.D
		if N != 6 || d != nn.NumParams[float64](m) {
			t.Fatalf("J is %d x %d", N, d)
		}
		theta := nn.FlattenParams[float64](m, nil)
		out := func() []float64 {
			nn.SetParams(m, theta)
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
		nn.SetParams(m, theta)
	}
	if _, err := ComputeJacobian(m, x, JacobianOptions{Mode: nn.Train}); err == nil {
		t.Error("Train mode accepted")
	}
}

// TestMatrixFreeSubsets: Jv and JTu restricted to parameter subsets agree
// with the explicit restricted Jacobian, leave Param.Grad and Param.Tangent
// as they were, and refuse Train mode.
func TestMatrixFreeSubsets(t *testing.T) {
	m := tinyResNet(t)
	x := randInput(6, 3, 2, 6, 6)
	grads := make([][]float64, 0)
	for i, p := range m.Params() {
		for k := range p.Grad {
			p.Grad[k] = float64(i + k)
		}
		grads = append(grads, slices.Clone(p.Grad))
	}
	ps := SelectParams(m, "fc.", "layer1.", "bn1.weight")
	r := tensor.NewRNG(8)
	for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
		opt := JacobianOptions{Mode: mode, Params: ps}
		J, err := ComputeJacobian(m, x, opt)
		if err != nil {
			t.Fatal(err)
		}
		v, u := make([]float64, J.D), make([]float64, J.N)
		for i := range v {
			v[i] = r.Normal()
		}
		for i := range u {
			u[i] = r.Normal()
		}
		jv, yhat, err := Jv(m, x, v, opt)
		if err != nil {
			t.Fatal(err)
		}
		jtu, err := JTu(m, x, u, opt)
		if err != nil {
			t.Fatal(err)
		}
		if e1, e2, e3 := relErr(jv, J.MatVec(v)), relErr(jtu, J.TMatVec(u)), relErr(yhat, J.Yhat); e1 > 1e-11 || e2 > 1e-11 || e3 > 1e-12 || len(jtu) != J.D {
			t.Errorf("%v: Jv err %.3g, JTu err %.3g (len %d), yhat err %.3g", mode, e1, e2, len(jtu), e3)
		}
		if _, _, err := Jv(m, x, v[1:], opt); err == nil {
			t.Error("short direction accepted")
		}
		if _, err := JTu(m, x, u[1:], opt); err == nil {
			t.Error("short upstream accepted")
		}
	}
	for i, p := range m.Params() {
		if !slices.Equal(p.Grad, grads[i]) || p.Tangent != nil {
			t.Fatalf("%s: Grad or Tangent changed", p.Name)
		}
	}
	if _, _, err := Jv(m, x, make([]float64, nn.NumParams[float64](m)), JacobianOptions{Mode: nn.Train}); err == nil {
		t.Error("Jv: Train mode accepted")
	}
	if _, err := JTu(m, x, make([]float64, 9), JacobianOptions{Mode: nn.Train}); err == nil {
		t.Error("JTu: Train mode accepted")
	}
	if _, err := EulerResidual(m, x, ps, 1, nn.Train); err == nil {
		t.Error("EulerResidual: Train mode accepted")
	}
}

// TestSoftmaxScaledJv: the forward-mode rules of Softmax (as a head) and
// Scaled agree with the Jacobians from their Backward.
func TestSoftmaxScaledJv(t *testing.T) {
	mlp := tinyMLP(true)
	seq := nn.NewSequential("", append(append([]nn.Module[float64](nil), mlp.(*nn.Sequential[float64]).Layers...), NewSoftmax("sm"))...)
	x := randInput(12, 4, 5)
	for _, m := range []nn.Module[float64]{seq, NewScaled(seq, 3.5)} {
		for _, mode := range []nn.Mode{nn.Eval, nn.BatchStats} {
			J, err := ComputeJacobian(m, x, JacobianOptions{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			v := make([]float64, J.D)
			for i := range v {
				v[i] = math.Sin(float64(i))
			}
			jv, yhat, err := Jv(m, x, v, JacobianOptions{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			if e, ey := relErr(jv, J.MatVec(v)), relErr(yhat, J.Yhat); e > 1e-11 || ey > 1e-12 {
				t.Errorf("%T %v: Jv err %.3g, yhat err %.3g", m, mode, e, ey)
			}
		}
	}
}

// TestAlignedJVPFloat32: AlignedModel's forward-mode rule also runs in
// float32 (nn.JVP on a float32 aligned model) and agrees with float64.
func TestAlignedJVPFloat32(t *testing.T) {
	build := func() (*AlignedModel[float64], *AlignedModel[float32]) {
		mk := func() []nn.Module[float64] {
			return []nn.Module[float64]{nn.NewLinear[float64]("l0", 5, 6, true), nn.NewTanh[float64]("t0"), nn.NewLinear[float64]("head", 6, 3, true)}
		}
		b64 := nn.NewSequential("", mk()...)
		randomize(b64, 13, 0.7)
		b32 := nn.NewSequential("", nn.NewLinear[float32]("l0", 5, 6, true), nn.NewTanh[float32]("t0"), nn.NewLinear[float32]("head", 6, 3, true))
		sd := nn.StateDict[float64](b64)
		for _, p := range b32.Params() {
			for i, v := range sd[p.Name] {
				p.Data[i] = float32(v)
			}
		}
		cfg := AlignedConfig{InputShape: []int{5}, SnapshotLayers: 2, RandomFeatures: 7, Seed: 2}
		a64, err := NewAlignedModel[float64](b64, cfg)
		if err != nil {
			t.Fatal(err)
		}
		a32, err := NewAlignedModel[float32](b32, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a64, a32
	}
	a64, a32 := build()
	for _, phase2 := range []bool{false, true} {
		if phase2 {
			if err := a64.Switch(); err != nil {
				t.Fatal(err)
			}
			if err := a32.Switch(); err != nil {
				t.Fatal(err)
			}
			for i := range a64.V.Weight.Data {
				a64.V.Weight.Data[i] = 0.1 * float64(i%5-2)
				a32.V.Weight.Data[i] = float32(a64.V.Weight.Data[i])
			}
		}
		x := randInput(14, 4, 5)
		v := make([]float64, nn.NumParams[float64](a64))
		for i := range v {
			v[i] = math.Cos(float64(i))
		}
		jv, yhat, err := Jv(a64, x, v, JacobianOptions{})
		if err != nil {
			t.Fatal(err)
		}
		J, err := ComputeJacobian(a64, x, JacobianOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if e := relErr(jv, J.MatVec(v)); e > 1e-12 {
			t.Errorf("phase 2 %v: float64 Jv error %.3g", phase2, e)
		}
		x32 := tensor.Must(tensor.New[float32](x.Shape()...))
		for i, s := range x.Data() {
			x32.Data()[i] = float32(s)
		}
		v32 := make([]float32, len(v))
		for i, s := range v {
			v32[i] = float32(s)
		}
		y32, dy32, err := nn.JVP[float32](a32, x32, nil, v32, nn.Eval)
		if err != nil {
			t.Fatal(err)
		}
		for i := range jv {
			if math.Abs(float64(dy32.Data()[i])-jv[i]) > 1e-4*(1+math.Abs(jv[i])) || math.Abs(float64(y32.Data()[i])-yhat[i]) > 1e-4*(1+math.Abs(yhat[i])) {
				t.Fatalf("phase 2 %v: float32 (%v, %v) vs float64 (%v, %v) at %d", phase2, y32.Data()[i], dy32.Data()[i], yhat[i], jv[i], i)
			}
		}
	}
}
