package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestCrossEntropy(t *testing.T) {
	// logits [[1,2,3],[0,0,0]], labels [2,0]
	z := []float64{1, 2, 3, 0, 0, 0}
	labels := []int{2, 0}
	ce := &CrossEntropy[float64]{}
	loss, _, err := ce.Forward(wrap(z, 2, 3), labels)
	if err != nil {
		t.Fatal(err)
	}
	lse := math.Log(math.Exp(1) + math.Exp(2) + math.Exp(3))
	want := ((lse - 3) + math.Log(3)) / 2
	if math.Abs(loss-want) > 1e-14 {
		t.Errorf("loss %v want %v", loss, want)
	}
	// label smoothing 0.2: q = 0.8 onehot + 0.2/3
	ce.Smoothing = 0.2
	loss, _, _ = ce.Forward(wrap(z, 2, 3), labels)
	var want2 float64
	for i, y := range labels {
		zi := z[i*3 : i*3+3]
		l := math.Log(math.Exp(zi[0]) + math.Exp(zi[1]) + math.Exp(zi[2]))
		for k := 0; k < 3; k++ {
			q := 0.2 / 3
			if k == y {
				q += 0.8
			}
			want2 -= q * (zi[k] - l)
		}
	}
	if want2 /= 2; math.Abs(loss-want2) > 1e-14 {
		t.Errorf("smoothed loss %v want %v", loss, want2)
	}
	// gradient by finite differences
	r := rand.New(rand.NewPCG(1, 1))
	z = randSlice(r, 12, 2)
	labels = []int{0, 3, 1}
	_, g, _ := ce.Forward(wrap(z, 3, 4), labels)
	gs := slices.Clone(g.Data())
	for i := range z {
		old := z[i]
		z[i] = old + 1e-6
		lp, _, _ := ce.Forward(wrap(z, 3, 4), labels)
		z[i] = old - 1e-6
		lm, _, _ := ce.Forward(wrap(z, 3, 4), labels)
		z[i] = old
		if fd := (lp - lm) / 2e-6; math.Abs(fd-gs[i]) > 1e-8 {
			t.Errorf("dz[%d] = %v, finite difference %v", i, gs[i], fd)
		}
	}
	if _, _, err := ce.Forward(wrap(z, 3, 4), []int{0, 4, 1}); err == nil {
		t.Error("label out of range accepted")
	}
	if _, _, err := ce.Forward(wrap(z, 4, 3), labels); err == nil {
		t.Error("label count mismatch accepted")
	}
}

func TestMSE(t *testing.T) {
	p := []float32{1, 2, 3, 4}
	y := []float32{1, 0, 3, 0}
	var l MSE[float32]
	loss, g, err := l.Forward(wrap(p, 2, 2), wrap(y, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	if loss != 5 { // (4+16)/4
		t.Errorf("loss %v", loss)
	}
	if !slices.Equal(g.Data(), []float32{0, 1, 0, 2}) {
		t.Errorf("grad %v", g.Data())
	}
	if _, _, err := l.Forward(wrap(p, 2, 2), wrap(y, 4, 1)); err == nil {
		t.Error("shape mismatch accepted")
	}
}

// TestConvMatchesReference compares lib/conv with the private im2col
// reference in float32 and float64.
func TestConvMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, c := range []struct{ in, out, k, s, p, d, h, w int }{
		{3, 5, 3, 1, 1, 1, 7, 6}, {4, 3, 3, 2, 1, 1, 8, 8}, {3, 4, 1, 2, 0, 1, 7, 7},
		{2, 3, 7, 2, 3, 1, 11, 11}, {2, 2, 3, 1, 2, 2, 6, 6},
	} {
		g := convGeom{N: 2, Cin: c.in, H: c.h, W: c.w, Cout: c.out, K: c.k, Stride: c.s, Pad: c.p, Dil: c.d}
		ek := c.d*(c.k-1) + 1
		g.OH, g.OW = (c.h+2*c.p-ek)/c.s+1, (c.w+2*c.p-ek)/c.s+1
		x := randSlice(r, g.N*g.Cin*g.H*g.W, 1)
		w := randSlice(r, g.Cout*g.Cin*g.K*g.K, 1)
		b := randSlice(r, g.Cout, 1)
		dy := randSlice(r, g.N*g.Cout*g.OH*g.OW, 1)
		run := func(ref bool) (y, dx, dw, db []float64) {
			useRefConv = ref
			defer func() { useRefConv = false }()
			var ws convWork[float64]
			y = make([]float64, len(dy))
			dx = make([]float64, len(x))
			dw = make([]float64, len(w))
			db = make([]float64, len(b))
			dw[0], db[0] = 1, 1 // accumulation
			if err := ws.forward(g, x, w, b, y, 0); err != nil {
				t.Fatal(err)
			}
			if err := ws.backwardWeights(g, x, dy, dw, db); err != nil {
				t.Fatal(err)
			}
			if err := ws.backwardData(g, dy, w, dx); err != nil {
				t.Fatal(err)
			}
			return
		}
		y1, dx1, dw1, db1 := run(false)
		y2, dx2, dw2, db2 := run(true)
		for _, p := range []struct {
			n    string
			a, b []float64
		}{{"y", y1, y2}, {"dx", dx1, dx2}, {"dw", dw1, dw2}, {"db", db1, db2}} {
			for i := range p.a {
				if math.Abs(p.a[i]-p.b[i]) > 1e-12*(1+math.Abs(p.b[i])) {
					t.Errorf("%+v %s[%d]: lib/conv %v, reference %v", c, p.n, i, p.a[i], p.b[i])
					break
				}
			}
		}
	}
}

func TestShapeErrorMessages(t *testing.T) {
	x4 := wrap(make([]float64, 2*3*4*4), 2, 3, 4, 4)
	x2 := wrap(make([]float64, 2*5), 2, 5)
	for _, c := range []struct {
		m    Module[float64]
		x    *Tensor[float64]
		want []string
	}{
		{NewConv2d[float64]("layer1.0.conv1", 4, 8, 3, 1, 1, false), x4, []string{"Conv2d", `"layer1.0.conv1"`, "[2 3 4 4]", "[N 4 H W]"}},
		{NewConv2d[float64]("stem", 3, 8, 7, 1, 0, false), x4, []string{"Conv2d", `"stem"`, "[2 3 4 4]", "smaller"}},
		{NewLinear[float64]("fc", 4, 3, true), x2, []string{"Linear", `"fc"`, "[2 5]", "[N 4]"}},
		{NewLinear[float64]("fc", 5, 3, true), x4, []string{"Linear", `"fc"`, "[2 3 4 4]"}},
		{NewBatchNorm2d[float64]("bn1", 4), x4, []string{"BatchNorm2d", `"bn1"`, "[2 3 4 4]"}},
		{NewBatchNorm1d[float64]("bn", 5), x4, []string{"BatchNorm1d", `"bn"`}},
		{NewMaxPool2d[float64]("pool", 3, 2, 0), x2, []string{"MaxPool2d", `"pool"`, "[2 5]"}},
		{NewGlobalAvgPool[float64]("avgpool"), x2, []string{"GlobalAvgPool", `"avgpool"`}},
		{NewBasicBlock[float64]("layer2.0", 4, 4, 1), x4, []string{`"layer2.0.conv1"`, "[2 3 4 4]"}},
		{NewSequential[float64]("", NewFlatten[float64]("flatten"), NewLinear[float64]("layers.0", 47, 3, true)), x4,
			[]string{`"layers.0"`, "[2 48]", "[N 47]"}},
	} {
		_, err := c.m.Forward(c.x, Train)
		if err == nil {
			t.Errorf("%s: no error", c.m.Name())
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
	// gradient of the wrong shape, Backward before Forward
	l := NewLinear[float64]("fc", 5, 3, true)
	if _, err := l.Backward(x2); err == nil || !strings.Contains(err.Error(), "before Forward") {
		t.Errorf("Backward before Forward: %v", err)
	}
	l.Forward(x2, Train)
	if _, err := l.Backward(x2); err == nil || !strings.Contains(err.Error(), "[2 5]") || !strings.Contains(err.Error(), "[2 3]") {
		t.Errorf("wrong gradient shape: %v", err)
	}
}

// TestBackwardReentrant: Backward may be called several times after one
// Forward (rows of a Jacobian); gradients accumulate.
func TestBackwardReentrant(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	b := NewBasicBlock[float64]("b", 2, 3, 2)
	randInit(r, b, 0.5)
	x := wrap(randSlice(r, 3*2*4*4, 1), 3, 2, 4, 4)
	y, _ := b.Forward(x, Train)
	u := wrap(randSlice(r, y.Numel(), 1), y.Shape()...)
	ZeroGrad[float64](b)
	dx1, _ := b.Backward(u)
	d1 := slices.Clone(dx1.Data())
	g1 := FlattenGrads[float64](b, nil)
	dx2, _ := b.Backward(u)
	g2 := FlattenGrads[float64](b, nil)
	for i := range d1 {
		if d1[i] != dx2.Data()[i] {
			t.Fatalf("dx changed on the second Backward")
		}
	}
	for i := range g1 {
		if math.Abs(g2[i]-2*g1[i]) > 1e-12*(1+math.Abs(g1[i])) {
			t.Fatalf("gradients do not accumulate: %v vs 2*%v", g2[i], g1[i])
		}
	}
}

func TestBatchNormRunningStats(t *testing.T) {
	bn := NewBatchNorm2d[float64]("bn", 2)
	x := []float64{1, 2, 3, 4, 10, 10, 10, 10, 5, 6, 7, 8, 0, 0, 0, 4} // [2 2 2 2]
	if _, err := bn.Forward(wrap(x, 2, 2, 2, 2), BatchStats); err != nil {
		t.Fatal(err)
	}
	if bn.RunningMean.Data[0] != 0 || bn.RunningVar.Data[0] != 1 || bn.NumBatchesTracked.Data[0] != 0 {
		t.Fatal("BatchStats mode changed the running statistics")
	}
	bn.Forward(wrap(x, 2, 2, 2, 2), Train)
	// channel 0: values 1,2,3,4,5,6,7,8: mean 4.5, unbiased var 6
	if math.Abs(bn.RunningMean.Data[0]-0.45) > 1e-15 || math.Abs(bn.RunningVar.Data[0]-(0.9+0.6)) > 1e-15 {
		t.Errorf("running stats %v %v", bn.RunningMean.Data[0], bn.RunningVar.Data[0])
	}
	if bn.NumBatchesTracked.Data[0] != 1 {
		t.Errorf("num_batches_tracked %v", bn.NumBatchesTracked.Data[0])
	}
	if _, err := bn.Forward(wrap([]float64{1, 2}, 1, 2, 1, 1), Train); err == nil {
		t.Error("train mode with one value per channel accepted")
	}
}

func TestDropout(t *testing.T) {
	d := NewDropout[float64]("drop", 0.25, 42)
	x := make([]float64, 4000)
	for i := range x {
		x[i] = 1
	}
	y, _ := d.Forward(wrap(x, 4, 1000), Train)
	zeros := 0
	for _, v := range y.Data() {
		if v == 0 {
			zeros++
		} else if math.Abs(v-1/0.75) > 1e-15 {
			t.Fatalf("kept value %v", v)
		}
	}
	if zeros < 900 || zeros > 1100 {
		t.Errorf("%d of 4000 dropped at p=0.25", zeros)
	}
	first := slices.Clone(y.Data())
	u := make([]float64, 4000)
	for i := range u {
		u[i] = 2
	}
	dx, _ := d.Backward(wrap(u, 4, 1000))
	for i, v := range dx.Data() {
		if v != 2*first[i] {
			t.Fatalf("backward does not use the forward mask")
		}
	}
	y2, _ := d.Forward(wrap(x, 4, 1000), Train)
	if slices.Equal(first, y2.Data()) {
		t.Error("same mask on two steps")
	}
	d2 := NewDropout[float64]("drop", 0.25, 42)
	y3, _ := d2.Forward(wrap(x, 4, 1000), Train)
	if !slices.Equal(first, y3.Data()) {
		t.Error("dropout not reproducible from its seed")
	}
	ye, _ := d.Forward(wrap(x, 4, 1000), Eval)
	if !slices.Equal(ye.Data(), x) {
		t.Error("dropout not identity in eval mode")
	}
	// The call count is state (a buffer): restored into a fresh layer, as a
	// checkpoint does, the next mask is the one the original layer draws.
	f32 := NewDropout[float32]("drop", 0.5, 7)
	x32 := make([]float32, 64)
	for i := range x32 {
		x32[i] = 1
	}
	for range 5 {
		f32.Forward(wrap(x32, 64), Train)
	}
	if f32.Calls() != 5 || len(f32.Buffers()) != 1 || f32.Buffers()[0].Name != "drop.calls" {
		t.Fatalf("calls %d, buffers %+v", f32.Calls(), f32.Buffers())
	}
	resumed := NewDropout[float32]("drop", 0.5, 7)
	copy(resumed.Buffers()[0].Data, f32.Buffers()[0].Data)
	a, _ := f32.Forward(wrap(x32, 64), Train)
	b, _ := resumed.Forward(wrap(x32, 64), Train)
	if !slices.Equal(a.Data(), b.Data()) {
		t.Error("a layer restored from the calls buffer draws another mask")
	}
	big := NewDropout[float32]("drop", 0.5, 7)
	big.setCalls(1<<33 + 12345)
	if big.Calls() != 1<<33+12345 {
		t.Errorf("calls %d after setCalls(2^33+12345): not exact in float32", big.Calls())
	}
}

func TestActKindText(t *testing.T) {
	for k := ActReLU; k <= ActIdentity; k++ {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var k2 ActKind
		if err := k2.UnmarshalText(b); err != nil || k2 != k {
			t.Errorf("%v round trip: %v %v", k, k2, err)
		}
	}
	if k, err := ParseActKind("leaky_relu"); err != nil || k != ActLeakyReLU {
		t.Errorf("leaky_relu: %v %v", k, err)
	}
	if _, err := ParseActKind("gelu"); err == nil {
		t.Error("gelu accepted")
	}
}

// TestNilAndViewInputs: a nil input is an error naming the layer; a
// non-contiguous view is accepted (copied).
func TestNilAndViewInputs(t *testing.T) {
	for _, m := range []Module[float64]{NewConv2d[float64]("c", 1, 1, 1, 1, 0, false), NewLinear[float64]("fc", 2, 2, true),
		NewBatchNorm2d[float64]("bn", 2), NewReLU[float64]("r"), NewDropout[float64]("d", 0.1, 1), NewFlatten[float64]("f"),
		NewMaxPool2d[float64]("p", 2, 2, 0), NewGlobalAvgPool[float64]("g"), NewBasicBlock[float64]("b", 2, 2, 1)} {
		_, err := m.Forward(nil, Train)
		if err == nil || !strings.Contains(err.Error(), `"`+m.Name()) {
			t.Errorf("%s: nil input: %v", m.Name(), err)
		}
	}
	x := wrap([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	xt, err := x.Transpose(0, 1) // [3 2], not contiguous
	if err != nil {
		t.Fatal(err)
	}
	l := NewLinear[float64]("fc", 2, 1, false)
	l.Weight.Data[0], l.Weight.Data[1] = 1, 10
	y, err := l.Forward(xt, Eval)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y.Data(), []float64{41, 52, 63}) {
		t.Errorf("linear on a transposed view: %v", y.Data())
	}
}
