package theory

import (
	"math"
	"testing"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// The input gradient (Backward) and the input JVP (ForwardJVP with dx) of
// f~ = f + c V phi include the path through phi: both against central
// differences of f~ in x, for a vector model (random Linear + ReLU map) and
// a ResNet (random 3x3 convolution + ReLU on the first stage), in phase 2
// with V away from zero.
func TestAlignedInputDerivatives(t *testing.T) {
	vec := nn.NewSequential("", nn.NewFlatten[float64]("in"), nn.NewLinear[float64]("l0", 4, 6, true), nn.NewTanh[float64]("t0"), nn.NewLinear[float64]("head", 6, 3, true))
	randomize(vec, 5, 0.7)
	cases := []struct {
		name  string
		base  nn.Module[float64]
		cfg   AlignedConfig
		shape []int
	}{
		{"mlp", vec, AlignedConfig{InputShape: []int{4}, SnapshotLayers: 3, RandomFeatures: 12, Seed: 2, FeatureScale: 1}, []int{3, 4}},
		{"resnet", tinyResNet(t), AlignedConfig{InputShape: []int{2, 6, 6}, SnapshotLayers: 4, RandomFeatures: 40, Seed: 3, FeatureScale: 1}, []int{2, 2, 6, 6}},
	}
	for _, tc := range cases {
		a, err := NewAlignedModel[float64](tc.base, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Switch(); err != nil {
			t.Fatal(err)
		}
		r := tensor.NewRNG(8)
		for i := range a.V.Weight.Data {
			a.V.Weight.Data[i] = r.Normal()
		}
		x := randInput(17, tc.shape...)
		f := func(x *tensor.Tensor[float64]) []float64 {
			y, _, err := Outputs(a, x, nn.Eval)
			if err != nil {
				t.Fatal(err)
			}
			return y
		}
		y0 := f(x)
		w := make([]float64, len(y0))
		for i := range w {
			w[i] = r.Normal()
		}
		dir := randInput(18, tc.shape...)
		const h = 1e-5
		shift := func(s float64) *tensor.Tensor[float64] {
			xs := x.Clone()
			for i, v := range dir.Data() {
				xs.Data()[i] += s * v
			}
			return xs
		}
		fp, fm := f(shift(h)), f(shift(-h))
		fd := make([]float64, len(y0))
		var fdw float64
		for i := range fd {
			fd[i] = (fp[i] - fm[i]) / (2 * h)
			fdw += w[i] * fd[i]
		}
		// input JVP
		_, ty, err := nn.JVP[float64](a, x, dir, make([]float64, nn.NumParams[float64](a)), nn.Eval)
		if err != nil {
			t.Fatal(err)
		}
		if e := relErr(ty.Contiguous().Data(), fd); e > 1e-7 {
			t.Errorf("%s: input JVP differs from finite differences: %.3g", tc.name, e)
		}
		// input gradient: <w, J_x dir> = <J_x^T w, dir>
		wt, _ := tensor.FromSlice(w, tc.shape[0], len(w)/tc.shape[0])
		dx, _, err := nn.VJP[float64](a, x, wt, nn.Eval, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := dot(dx.Contiguous().Data(), dir.Data())
		if math.Abs(got-fdw) > 1e-7*(1+math.Abs(fdw)) {
			t.Errorf("%s: <dx, dir> = %.12g, finite differences %.12g", tc.name, got, fdw)
		}
		// Without the phi path the gradient would be visibly wrong.
		a.Cfg.NoInputGradient = true
		if dx, _, err := nn.VJP[float64](a, x, wt, nn.Eval, nil); err != nil || dx != nil {
			t.Errorf("%s: NoInputGradient: dx %v, err %v (want nil)", tc.name, dx, err)
		}
		a.Cfg.NoInputGradient = false
		base, _, _ := nn.VJP[float64](tc.base, x, wt, nn.Eval, nil)
		if b := dot(base.Contiguous().Data(), dir.Data()); math.Abs(b-fdw) < 1e-3*math.Abs(fdw) {
			t.Errorf("%s: the phi path contributes nothing (%.6g vs %.6g): weak test", tc.name, b, fdw)
		}
		t.Logf("%s: <dx, dir> %.10g, finite differences %.10g", tc.name, got, fdw)
	}
}
