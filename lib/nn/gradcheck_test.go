package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randSlice(r *rand.Rand, n int, scale float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = scale * r.NormFloat64()
	}
	return s
}

func randInit(r *rand.Rand, m Module[float64], scale float64) {
	for _, p := range m.Params() {
		for i := range p.Data {
			p.Data[i] = scale * r.NormFloat64()
		}
		if strings.Contains(p.Name, "bn") || strings.HasSuffix(p.Name, "downsample.1.weight") {
			for i := range p.Data {
				p.Data[i] = 1 + 0.3*r.NormFloat64()
			}
		}
	}
}

// gradCheck compares Backward(u) with central differences of L = <u, f(x)>
// for the input and every parameter (at most maxPer entries of each).
func gradCheck(t *testing.T, m Module[float64], xshape []int, mode Mode, seed uint64, tol float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	x := randSlice(r, prod(xshape), 1)
	xt := wrap(x, xshape...)
	y, err := m.Forward(xt, mode)
	if err != nil {
		t.Fatal(err)
	}
	yshape := append([]int(nil), shapeOf(y)...)
	u := randSlice(r, prod(yshape), 1)
	loss := func() float64 {
		fm := mode
		y, err := m.Forward(xt, fm)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, v := range dataOf(y) {
			s += u[i] * v
		}
		return s
	}
	loss()
	ZeroGrad(m)
	dxT, err := m.Backward(wrap(u, yshape...))
	if err != nil {
		t.Fatal(err)
	}
	dx := append([]float64(nil), dataOf(dxT)...)
	const h = 1e-6
	check := func(what string, v []float64, g []float64) {
		n := len(v)
		step := 1
		if n > 24 {
			step = n/24 + 1
		}
		for i := 0; i < n; i += step {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			fd := (lp - lm) / (2 * h)
			if d := math.Abs(fd - g[i]); d > tol*(1+math.Abs(fd)) {
				t.Errorf("%s[%d]: backward %.10g, finite difference %.10g (diff %.3g)", what, i, g[i], fd, d)
				return
			}
		}
	}
	check("input", x, dx)
	for _, p := range m.Params() {
		check(p.Name, p.Data, append([]float64(nil), p.Grad...))
	}
	jvpDotCheck(t, m, xt, u, mode, r)
}

// jvpDotCheck verifies forward mode against reverse mode:
// <u, J_x dx + J_theta v> = <J_x^T u, dx> + <J_theta^T u, v>.
func jvpDotCheck(t *testing.T, m Module[float64], xt *Tensor[float64], u []float64, mode Mode, r *rand.Rand) {
	t.Helper()
	dx := randSlice(r, xt.Numel(), 1)
	v := randSlice(r, NumParams(m), 1)
	_, dy, err := JVP(m, xt, wrap(dx, xt.Shape()...), v, mode)
	if err != nil {
		t.Fatal(err)
	}
	var lhs float64
	for i, d := range dy.Data() {
		lhs += u[i] * d
	}
	for _, p := range m.Params() {
		if p.Tangent != nil {
			t.Fatal("JVP left a Tangent set")
		}
	}
	ZeroGrad(m)
	dxb, err := m.Backward(wrap(u, dy.Shape()...))
	if err != nil {
		t.Fatal(err)
	}
	var rhs float64
	for i, d := range dxb.Data() {
		rhs += d * dx[i]
	}
	for i, g := range FlattenGrads(m, nil) {
		rhs += g * v[i]
	}
	if math.Abs(lhs-rhs) > 1e-10*(1+math.Abs(rhs)) {
		t.Errorf("JVP/VJP mismatch: <u, Jv> = %.15g, <J^T u, v> = %.15g", lhs, rhs)
	}
	// parameter direction only (nil input tangent)
	_, dy, err = JVP(m, xt, nil, v, mode)
	if err != nil {
		t.Fatal(err)
	}
	lhs = 0
	for i, d := range dy.Data() {
		lhs += u[i] * d
	}
	rhs = 0
	for i, g := range FlattenGrads(m, nil) {
		rhs += g * v[i]
	}
	if math.Abs(lhs-rhs) > 1e-10*(1+math.Abs(rhs)) {
		t.Errorf("JVP (parameters only) mismatch: %.15g vs %.15g", lhs, rhs)
	}
}

func TestGradLayers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	conv := func(in, out, k, s, p int, bias bool, dil int) Module[float64] {
		c := NewConv2d[float64]("c", in, out, k, s, p, bias)
		c.Dil = dil
		randInit(r, c, 0.5)
		return c
	}
	lin := NewLinear[float64]("fc", 5, 3, true)
	randInit(r, lin, 0.5)
	linNB := NewLinear[float64]("fc", 5, 3, false)
	randInit(r, linNB, 0.5)
	bn2 := NewBatchNorm2d[float64]("bn", 3)
	randInit(r, bn2, 1)
	bn1 := NewBatchNorm1d[float64]("bn", 4)
	randInit(r, bn1, 1)
	for i := range bn2.RunningMean.Data {
		bn2.RunningMean.Data[i] = 0.1 * float64(i)
		bn2.RunningVar.Data[i] = 0.5 + float64(i)
	}
	cases := []struct {
		name  string
		m     Module[float64]
		shape []int
		mode  Mode
	}{
		{"conv3x3", conv(2, 3, 3, 1, 1, true, 1), []int{2, 2, 5, 5}, Train},
		{"conv3x3s2", conv(2, 3, 3, 2, 1, false, 1), []int{2, 2, 6, 5}, Train},
		{"conv1x1s2", conv(3, 2, 1, 2, 0, false, 1), []int{2, 3, 5, 5}, Train},
		{"conv7x7s2p3", conv(1, 2, 7, 2, 3, false, 1), []int{1, 1, 9, 9}, Train},
		{"conv_dil2", conv(2, 2, 3, 1, 2, true, 2), []int{1, 2, 6, 6}, Train},
		{"linear", lin, []int{4, 5}, Train},
		{"linear_nobias", linNB, []int{4, 5}, Train},
		{"bn2d_train", bn2, []int{3, 3, 2, 2}, Train},
		{"bn2d_batchstats", bn2, []int{3, 3, 2, 2}, BatchStats},
		{"bn2d_eval", bn2, []int{3, 3, 2, 2}, Eval},
		{"bn1d_train", bn1, []int{5, 4}, Train},
		{"bn1d_eval", bn1, []int{5, 4}, Eval},
		{"relu", NewReLU[float64]("a"), []int{3, 7}, Train},
		{"leaky", NewLeakyReLU[float64]("a", 0.1), []int{3, 7}, Train},
		{"tanh", NewTanh[float64]("a"), []int{3, 7}, Train},
		{"sigmoid", NewSigmoid[float64]("a"), []int{3, 7}, Train},
		{"maxpool", NewMaxPool2d[float64]("p", 3, 2, 1), []int{2, 2, 5, 5}, Train},
		{"avgpool", NewAvgPool2d[float64]("p", 2, 2, 0), []int{2, 2, 4, 5}, Train},
		{"avgpool_pad", NewAvgPool2d[float64]("p", 3, 2, 1), []int{1, 2, 5, 5}, Train},
		{"gap", NewGlobalAvgPool[float64]("g"), []int{2, 3, 3, 2}, Train},
		{"flatten", NewFlatten[float64]("f"), []int{2, 3, 2, 2}, Train},
		{"dropout_eval", NewDropout[float64]("d", 0.5, 1), []int{2, 6}, Eval},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { gradCheck(t, c.m, c.shape, c.mode, 3, 1e-6) })
	}
}

func TestGradBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, mode := range []Mode{Train, Eval} {
		for _, c := range []struct {
			name string
			m    Module[float64]
		}{
			{"basic_identity", NewBasicBlock[float64]("b", 2, 2, 1)},
			{"basic_proj", NewBasicBlock[float64]("b", 2, 3, 2)},
			{"preact_identity", NewPreActBlock[float64]("b", 2, 2, 1, false)},
			{"preact_proj", NewPreActBlock[float64]("b", 2, 3, 2, false)},
			{"preact_proj_bn", NewPreActBlock[float64]("b", 2, 3, 2, true)},
		} {
			randInit(r, c.m, 0.5)
			t.Run(c.name+"_"+mode.String(), func(t *testing.T) { gradCheck(t, c.m, []int{3, 2, 4, 4}, mode, 4, 1e-5) })
		}
	}
}
