package tensor

import (
	"math"
	"testing"
)

func meanStd[T Float](x *Tensor[T]) (float64, float64) {
	var s, s2 float64
	d := x.Data()
	for _, v := range d {
		s += float64(v)
	}
	m := s / float64(len(d))
	for _, v := range d {
		s2 += (float64(v) - m) * (float64(v) - m)
	}
	return m, math.Sqrt(s2 / float64(len(d)))
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %v, want %v ± %v", what, got, want, tol)
	}
}

func TestFansAndGain(t *testing.T) {
	fi, fo, err := Fans([]int{64, 16, 3, 3})
	if err != nil || fi != 144 || fo != 576 {
		t.Fatal(fi, fo, err)
	}
	fi, fo, _ = Fans([]int{10, 512})
	if fi != 512 || fo != 10 {
		t.Fatal("linear fans")
	}
	_, _, err = Fans([]int{5})
	wantErr(t, err, "tensor.Fans", "[5]", "fewer than 2")
	for _, c := range []struct {
		nl    string
		param []float64
		want  float64
	}{
		{"linear", nil, 1}, {"conv2d", nil, 1}, {"sigmoid", nil, 1}, {"tanh", nil, 5.0 / 3},
		{"relu", nil, math.Sqrt2}, {"leaky_relu", nil, math.Sqrt(2 / (1 + 0.0001))},
		{"leaky_relu", []float64{0.2}, math.Sqrt(2 / 1.04)}, {"leaky_relu", []float64{0}, math.Sqrt2}, {"selu", nil, 0.75},
	} {
		g, err := Gain(c.nl, c.param...)
		if err != nil || math.Abs(g-c.want) > 1e-15 {
			t.Errorf("Gain(%s, %v) = %v, %v; want %v", c.nl, c.param, g, err, c.want)
		}
	}
	_, err = Gain("swish")
	wantErr(t, err, "swish")
}

func TestInitStatistics(t *testing.T) {
	r := NewRNG(2024)
	w := Must(New[float32](256, 128, 3, 3)) // fan_in 1152, fan_out 2304, 294912 elements
	tol := func(std float64) float64 { return 0.01 * std }

	Check(KaimingNormal(w, r.Split("kn"), 0, FanOut, "relu"))
	m, s := meanStd(w)
	std := math.Sqrt2 / math.Sqrt(2304)
	near(t, "KaimingNormal fan_out mean", m, 0, tol(std))
	near(t, "KaimingNormal fan_out std", s, std, tol(std))

	Check(KaimingNormal(w, r.Split("kn2"), 0.1, FanIn, "leaky_relu"))
	m, s = meanStd(w)
	std = math.Sqrt(2/(1+0.01)) / math.Sqrt(1152)
	near(t, "KaimingNormal leaky mean", m, 0, tol(std))
	near(t, "KaimingNormal leaky std", s, std, tol(std))

	Check(KaimingUniform(w, r.Split("ku"), math.Sqrt(5), FanIn, "leaky_relu"))
	m, s = meanStd(w)
	bound := 1 / math.Sqrt(1152)
	near(t, "KaimingUniform(a=sqrt5) mean", m, 0, tol(bound))
	near(t, "KaimingUniform(a=sqrt5) std", s, bound/math.Sqrt(3), tol(bound))
	maxAbs := 0.0
	for _, v := range w.Data() {
		maxAbs = max(maxAbs, math.Abs(float64(v)))
	}
	if maxAbs > bound || maxAbs < 0.99*bound {
		t.Errorf("KaimingUniform max |w| %v, bound %v", maxAbs, bound)
	}

	lin := Must(New[float64](300, 1000))
	Check(XavierNormal(lin, r.Split("xn"), 2))
	m, s = meanStd(lin)
	std = 2 * math.Sqrt(2.0/1300)
	near(t, "XavierNormal mean", m, 0, tol(std))
	near(t, "XavierNormal std", s, std, tol(std))
	Check(XavierUniform(lin, r.Split("xu"), 1))
	m, s = meanStd(lin)
	std = math.Sqrt(2.0 / 1300)
	near(t, "XavierUniform mean", m, 0, tol(std))
	near(t, "XavierUniform std", s, std, tol(std))

	Uniform(lin, r.Split("u"), -1, 3)
	m, s = meanStd(lin)
	near(t, "Uniform mean", m, 1, 0.01)
	near(t, "Uniform std", s, 4/math.Sqrt(12), 0.01)
	Normal(lin, r.Split("n"), 0.5, 2)
	m, s = meanStd(lin)
	near(t, "Normal mean", m, 0.5, 0.02)
	near(t, "Normal std", s, 2, 0.02)

	Constant(lin, 0.25)
	if lin.At(299, 999) != 0.25 {
		t.Error("Constant")
	}
	ZerosInit(lin)
	OnesInit(w)
	if Sum(lin) != 0 || w.At(1, 2, 1, 0) != 1 {
		t.Error("Zeros/Ones")
	}

	wantErr(t, KaimingNormal(Must(New[float32](10)), r, 0, FanIn, "relu"), "tensor.KaimingNormal", "[10]")
	wantErr(t, KaimingUniform(w, r, 0, FanIn, "gelu"), "tensor.KaimingUniform", "gelu")
	wantErr(t, XavierUniform(Must(New[float32](0, 0)), r, 1), "tensor.XavierUniform")

	b := Must(New[float32](256))
	Check(TorchDefault(w, b, r.Split("w"), r.Split("b")))
	for _, v := range b.Data() {
		if math.Abs(float64(v)) > bound {
			t.Fatal("TorchDefault bias out of bound")
		}
	}
}

func TestInitDeterministic(t *testing.T) {
	a := Must(New[float32](8, 4, 3, 3))
	b := Must(New[float32](8, 4, 3, 3))
	Check(KaimingNormal(a, NewRNG(3).Split("conv"), 0, FanOut, "relu"))
	Check(KaimingNormal(b, NewRNG(3).Split("conv"), 0, FanOut, "relu"))
	if Must(Dot(a, a)) != Must(Dot(a, b)) || a.At(7, 3, 2, 2) != b.At(7, 3, 2, 2) {
		t.Fatal("same seed and name must give the same init")
	}
	// A strided view is filled in row-major order of the view.
	c := Must(New[float64](3, 4))
	ct := Must(c.Transpose(0, 1))
	Uniform(ct, NewRNG(1), 0, 1)
	d := Must(New[float64](4, 3))
	Uniform(d, NewRNG(1), 0, 1)
	if ct.At(3, 2) != d.At(3, 2) {
		t.Fatal("strided fill order")
	}
}
