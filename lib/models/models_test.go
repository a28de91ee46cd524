package models

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

func TestNewAllNames(t *testing.T) {
	for _, name := range Names() {
		cfg := Config{Width: 0.125, NumClasses: 7, InChannels: 1, Seed: 1}
		m, err := New[float32](name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		in := []int{2, 1, 28, 28}
		if name == "resnet18" || name == "resnet34" {
			in = []int{2, 1, 33, 33}
		}
		x := tensor.Must(tensor.New[float32](in...))
		y, err := m.Forward(x, nn.Train)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(y.Shape(), []int{2, 7}) {
			t.Fatalf("%s: output shape %v", name, y.Shape())
		}
		// last layer is Linear
		ls := m.Layers
		if _, ok := ls[len(ls)-1].(*nn.Linear[float32]); !ok {
			t.Errorf("%s: last layer %T is not Linear", name, ls[len(ls)-1])
		}
		if _, err := m.Backward(y); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	_, err := New[float32]("resnet99", Config{})
	if err == nil || !strings.Contains(err.Error(), "resnet20") || !strings.Contains(err.Error(), "preact-resnet18") {
		t.Errorf("unknown name error does not list the known names: %v", err)
	}
}

// Parameter counts of the full-width models as reported by PyTorch
// (torchvision resnet18/34 with 1000 classes, pytorch-cifar PreActResNet18,
// ResNet-20/56 with option B shortcuts).
func TestParamCounts(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want int
	}{
		{"resnet18", Config{NumClasses: 1000}, 11689512},
		{"resnet34", Config{NumClasses: 1000}, 21797672},
		{"preact-resnet18", Config{}, 11171146},
		{"resnet18-cifar", Config{}, 11173962},
	} {
		m, err := New[float32](c.name, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := nn.NumParams[float32](m); got != c.want {
			t.Errorf("%s: %d parameters, want %d", c.name, got, c.want)
		}
		// torchvision's published multiply-adds at 224x224: 1.82G and 3.67G
		wantMACs := map[string]float64{"resnet18": 1.82e9, "resnet34": 3.67e9}[c.name]
		if wantMACs > 0 {
			s, err := m.Summary([]int{1, 3, 224, 224})
			if err != nil {
				t.Fatal(err)
			}
			if macs := float64(s.TotalFLOPs) / 2; math.Abs(macs/wantMACs-1) > 0.01 {
				t.Errorf("%s: %.3g multiply-adds, want %.3g", c.name, macs, wantMACs)
			}
		}
	}
}

func TestSummary(t *testing.T) {
	m, err := New[float32]("resnet20", Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Summary([]int{1, 3, 32, 32})
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalParams != nn.NumParams[float32](m) {
		t.Errorf("summary params %d != %d", s.TotalParams, nn.NumParams[float32](m))
	}
	str := s.String()
	for _, w := range []string{"layer3.2.conv2", "Conv2d", "[1 64 8 8]", "fc", "[1 10]"} {
		if !strings.Contains(str, w) {
			t.Errorf("summary lacks %q:\n%s", w, str)
		}
	}
	// ResNet-20 is about 41 MFLOPs of multiply-adds (82 MFLOPs) on 32x32.
	if s.TotalFLOPs < 75e6 || s.TotalFLOPs > 90e6 {
		t.Errorf("resnet20 FLOPs %d", s.TotalFLOPs)
	}
	if testing.Verbose() {
		t.Log("\n" + str)
	}
}

func TestShapeErrors(t *testing.T) {
	m, _ := New[float32]("resnet20", Config{Width: 0.25})
	x := tensor.Must(tensor.New[float32](2, 1, 8, 8))
	_, err := m.Forward(x, nn.Eval)
	if err == nil || !strings.Contains(err.Error(), `"conv1"`) || !strings.Contains(err.Error(), "[2 1 8 8]") {
		t.Errorf("wrong-channel error: %v", err)
	}
	mlp, _ := New[float32]("mlp", Config{InFeatures: 10, Hidden: []int{5}})
	x = tensor.Must(tensor.New[float32](2, 11))
	_, err = mlp.Forward(x, nn.Eval)
	if err == nil || !strings.Contains(err.Error(), `"layers.0"`) || !strings.Contains(err.Error(), "[2 11]") {
		t.Errorf("MLP error: %v", err)
	}
}

func TestInitStatistics(t *testing.T) {
	m, _ := New[float64]("resnet20", Config{Seed: 3, NumClasses: 100})
	sd := nn.StateDict[float64](m)
	std := func(d []float64) float64 {
		var s float64
		for _, v := range d {
			s += v * v
		}
		return math.Sqrt(s / float64(len(d)))
	}
	// kaiming_normal fan_out: std sqrt(2/(32*9)) for layer2.0.conv2
	w := sd["layer2.0.conv2.weight"]
	if got, want := std(w), math.Sqrt(2.0/(32*9)); math.Abs(got/want-1) > 0.02 {
		t.Errorf("conv std %v want %v", got, want)
	}
	// Linear default: U(±1/sqrt(64)) has std 1/sqrt(3*64)
	if got, want := std(sd["fc.weight"]), 1/math.Sqrt(3*64); math.Abs(got/want-1) > 0.05 {
		t.Errorf("fc std %v want %v", got, want)
	}
	if sd["bn1.weight"][0] != 1 || sd["bn1.bias"][0] != 0 || sd["bn1.running_var"][0] != 1 {
		t.Errorf("bn init")
	}
	m2, _ := New[float64]("resnet20", Config{Seed: 3, NumClasses: 100})
	if !slices.Equal(nn.FlattenParams[float64](m, nil), nn.FlattenParams[float64](m2, nil)) {
		t.Errorf("init not deterministic")
	}
}

// gradCheckModel compares the backward pass of a whole model with central
// differences of the cross-entropy loss in float64.
func gradCheckModel(t *testing.T, m *Model[float64], xshape []int, mode nn.Mode, tol float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 12))
	x := make([]float64, 1)
	x = x[:0]
	for i := 0; i < prod(xshape); i++ {
		x = append(x, r.NormFloat64())
	}
	xt := tensor.Must(tensor.FromSlice(x, xshape...))
	labels := make([]int, xshape[0])
	for i := range labels {
		labels[i] = r.IntN(m.Config.NumClasses)
	}
	ce := &nn.CrossEntropy[float64]{Smoothing: 0.1}
	loss := func() float64 {
		y, err := m.Forward(xt, mode)
		if err != nil {
			t.Fatal(err)
		}
		l, _, err := ce.Forward(y, labels)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	y, err := m.Forward(xt, mode)
	if err != nil {
		t.Fatal(err)
	}
	_, g, _ := ce.Forward(y, labels)
	nn.ZeroGrad[float64](m)
	dxT, err := m.Backward(g)
	if err != nil {
		t.Fatal(err)
	}
	dx := slices.Clone(dxT.Data())
	const h = 1e-6
	check := func(what string, v, g []float64, per int) {
		step := max(1, len(v)/per)
		for i := 0; i < len(v); i += step {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			fd := (lp - lm) / (2 * h)
			if d := math.Abs(fd - g[i]); d > tol*(math.Abs(fd)+1e-3) {
				t.Errorf("%s[%d]: backward %.10g, finite difference %.10g", what, i, g[i], fd)
				return
			}
		}
	}
	check("input", x, dx, 16)
	for _, p := range m.Params() {
		check(p.Name, p.Data, slices.Clone(p.Grad), 4)
	}
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func TestGradModels(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   Config
		shape []int
	}{
		{"resnet20", Config{Width: 0.25, Seed: 1}, []int{2, 3, 8, 8}},
		{"preact-resnet18", Config{Width: 1.0 / 16, Seed: 2, NumClasses: 3}, []int{2, 3, 8, 8}},
		{"resnet18", Config{Width: 1.0 / 16, Seed: 3, InChannels: 1}, []int{2, 1, 16, 16}},
		{"mlp", Config{InFeatures: 12, Hidden: []int{6, 5}, Activation: nn.ActTanh, Seed: 4}, []int{3, 3, 2, 2}},
		{"mlp", Config{InFeatures: 12, Hidden: []int{6}, NoBias: true, Activation: nn.ActLeakyReLU, Seed: 5}, []int{3, 12}},
	} {
		for _, mode := range []nn.Mode{nn.Train, nn.Eval} {
			t.Run(c.name+"_"+mode.String(), func(t *testing.T) {
				m, err := New[float64](c.name, c.cfg)
				if err != nil {
					t.Fatal(err)
				}
				// non-trivial batch-norm parameters and statistics
				r := rand.New(rand.NewPCG(9, 9))
				for _, p := range m.Params() {
					if strings.Contains(p.Name, "bn") || strings.Contains(p.Name, "downsample.1") {
						for i := range p.Data {
							p.Data[i] += 0.2 * r.NormFloat64()
						}
					}
				}
				for _, b := range m.Buffers() {
					if strings.HasSuffix(b.Name, "running_var") || strings.HasSuffix(b.Name, "running_mean") {
						for i := range b.Data {
							b.Data[i] += 0.1 * math.Abs(r.NormFloat64())
						}
					}
				}
				gradCheckModel(t, m, c.shape, mode, 1e-5)
			})
		}
	}
}

// TestModelJacobianJVP: for whole models in float64, forward-mode JVP equals
// the Jacobian (built from reverse-mode rows) times v, in both batch-norm
// modes usable for theory (BatchStats, Eval).
func TestModelJacobianJVP(t *testing.T) {
	for _, name := range []string{"resnet20", "preact-resnet18"} {
		m, err := New[float64](name, Config{Width: 0.125, Seed: 7, NumClasses: 3})
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 5))
		x := make([]float64, 2*3*8*8)
		for i := range x {
			x[i] = r.NormFloat64()
		}
		xt := tensor.Must(tensor.FromSlice(x, 2, 3, 8, 8))
		for _, mode := range []nn.Mode{nn.BatchStats, nn.Eval} {
			// J row by row: row i = J^T e_i by nn.VJP (theory.ComputeJacobian
			// assembles Jacobians; this package's tests cannot import it).
			y, err := m.Forward(xt, mode)
			if err != nil {
				t.Fatal(err)
			}
			N, d := y.Numel(), nn.NumParams[float64](m)
			J := make([]float64, N*d)
			e := make([]float64, N)
			for i := 0; i < N; i++ {
				e[i] = 1
				if _, _, err := nn.VJP[float64](m, xt, tensor.Must(tensor.FromSlice(e, y.Shape()...)), mode, J[i*d:i*d]); err != nil {
					t.Fatal(err)
				}
				e[i] = 0
			}
			v := make([]float64, d)
			for i := range v {
				v[i] = r.NormFloat64()
			}
			_, jv, err := nn.JVP[float64](m, xt, nil, v, mode)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < N; i++ {
				var s float64
				for j, vj := range v {
					s += J[i*d+j] * vj
				}
				if got := jv.Data()[i]; math.Abs(got-s) > 1e-10*(1+math.Abs(s)) {
					t.Errorf("%s %v: (Jv)[%d]: JVP %.15g, J*v %.15g", name, mode, i, got, s)
				}
			}
		}
	}
}

func TestNameAliases(t *testing.T) {
	for _, n := range []string{"PreAct_ResNet18", "RESNET20", "resnet18_cifar", "resnet18-imagenet"} {
		if _, err := New[float32](n, Config{Width: 0.0625}); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	m, _ := New[float32]("resnet18-imagenet", Config{Width: 0.0625})
	if m.Arch != "resnet18" {
		t.Errorf("arch %q", m.Arch)
	}
}

func TestConvertAndLoadStateDict(t *testing.T) {
	m32, _ := New[float32]("preact-resnet18", Config{Width: 0.0625, Seed: 4, NumClasses: 3})
	x := tensor.Must(tensor.New[float32](2, 3, 8, 8))
	for i, d := 0, x.Data(); i < len(d); i++ {
		d[i] = float32(i%5) - 2
	}
	m32.Forward(x, nn.Train) // move the running statistics
	y32, _ := m32.Forward(x, nn.Eval)
	m64, err := Convert[float64](m32)
	if err != nil {
		t.Fatal(err)
	}
	y64, _ := m64.Forward(tensor.Convert[float64](x), nn.Eval)
	for i, v := range y64.Data() {
		if math.Abs(v-float64(y32.Data()[i])) > 1e-4*(1+math.Abs(v)) {
			t.Fatalf("converted model output %v vs %v", v, y32.Data()[i])
		}
	}
	// state dict round trip, strict name checks
	m2, _ := New[float32]("preact-resnet18", Config{Width: 0.0625, Seed: 99, NumClasses: 3})
	if err := nn.LoadStateDict[float32](m2, nn.StateDict[float64](m64), true); err != nil {
		t.Fatal(err)
	}
	y2, _ := m2.Forward(x, nn.Eval)
	if !slices.Equal(y2.Data(), y32.Data()) {
		t.Error("LoadStateDict did not reproduce the model")
	}
	sd := nn.StateDict[float32](m2)
	sd["extra.weight"] = []float32{1}
	delete(sd, "linear.bias")
	err = nn.LoadStateDict[float32](m2, sd, true)
	if err == nil || !strings.Contains(err.Error(), "linear.bias") || !strings.Contains(err.Error(), "extra.weight") {
		t.Errorf("strict load error: %v", err)
	}
	if err := nn.LoadStateDict[float32](m2, sd, false); err != nil {
		t.Errorf("non-strict load: %v", err)
	}
}

// TestMemorize: plain SGD on the layers' gradients drives the training loss
// of a small ResNet on 16 random images with random labels towards zero.
func TestMemorize(t *testing.T) {
	m, _ := New[float32]("resnet20", Config{Width: 0.25, Seed: 5, NumClasses: 4})
	r := rand.New(rand.NewPCG(3, 4))
	x := tensor.Must(tensor.New[float32](16, 3, 8, 8))
	for i, d := 0, x.Data(); i < len(d); i++ {
		d[i] = float32(r.NormFloat64())
	}
	labels := make([]int, 16)
	for i := range labels {
		labels[i] = r.IntN(4)
	}
	ce := &nn.CrossEntropy[float32]{}
	var first, last float64
	for step := 0; step < 60; step++ {
		y, err := m.Forward(x, nn.Train)
		if err != nil {
			t.Fatal(err)
		}
		loss, g, _ := ce.Forward(y, labels)
		if step == 0 {
			first = loss
		}
		last = loss
		nn.ZeroGrad[float32](m)
		if _, err := m.Backward(g); err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params() {
			for i := range p.Data {
				p.Data[i] -= 0.1 * p.Grad[i]
			}
		}
	}
	t.Logf("loss %.4f -> %.4f", first, last)
	if !(last < 0.1*first) {
		t.Errorf("training loss %.4f -> %.4f: not memorizing", first, last)
	}
}
