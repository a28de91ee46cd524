package tensor

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func seq(shape ...int) *Tensor[float64] {
	t := Must(New[float64](shape...))
	for i, d := 0, t.Data(); i < len(d); i++ {
		d[i] = float64(i)
	}
	return t
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func wantPanic(t *testing.T, f func(), parts ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("expected a panic containing %q", parts)
		}
		var msg string
		switch v := r.(type) {
		case error:
			msg = v.Error()
		case string:
			msg = v
		}
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				t.Errorf("panic %q does not contain %q", msg, p)
			}
		}
	}()
	f()
}

func TestConstructors(t *testing.T) {
	x := Must(New[float32](2, 3))
	if !slices.Equal(x.Shape(), []int{2, 3}) || !slices.Equal(x.Strides(), []int{3, 1}) || x.Numel() != 6 || !x.IsContiguous() {
		t.Fatalf("New: %v %v", x.Shape(), x.Strides())
	}
	o := Must(Ones[float64](4))
	f := Must(Full[float64](2.5, 2, 2))
	if Sum(o) != 4 || Sum(f) != 10 {
		t.Fatal("Ones/Full")
	}
	s := Must(New[float64]())
	if s.Numel() != 1 || s.NDim() != 0 {
		t.Fatal("scalar")
	}
	e := Must(Zeros[float64](0, 3))
	if e.Numel() != 0 || len(e.Data()) != 0 {
		t.Fatal("empty")
	}
	_, err := New[float32](2, -1, 3)
	wantErr(t, err, "tensor.New", "-1", "dim 1", "[2 -1 3]")
	_, err = FromSlice([]float32{1, 2, 3}, 2, 2)
	wantErr(t, err, "tensor.FromSlice", "length 3", "[2 2]")
	d := []float64{1, 2, 3, 4, 5, 6}
	fs := Must(FromSlice(d, 3, 2))
	fs.Set(42, 1, 1)
	if d[3] != 42 || fs.At(1, 1) != 42 {
		t.Fatal("FromSlice must share data")
	}
	wantPanic(t, func() { fs.At(3, 0) }, "tensor.At", "index 3", "dim 0", "[3 2]")
	wantPanic(t, func() { fs.Set(1, 0) }, "tensor.Set", "1 indices", "[3 2]")
	wantPanic(t, func() { Must(New[float32](-2)) }, "tensor.New", "-2")
}

func TestViews(t *testing.T) {
	x := seq(2, 3, 4)
	r := Must(x.Reshape(6, -1))
	if !slices.Equal(r.Shape(), []int{6, 4}) || r.At(5, 3) != 23 {
		t.Fatalf("reshape: %v", r)
	}
	r.Set(-1, 0, 0)
	if x.At(0, 0, 0) != -1 {
		t.Fatal("reshape must share storage")
	}
	x.Set(0, 0, 0, 0)
	_, err := x.Reshape(5, 5)
	wantErr(t, err, "tensor.Reshape", "[5 5]", "[2 3 4]")
	_, err = x.Reshape(-1, -1)
	wantErr(t, err, "more than one -1")
	_, err = x.View(7, -1)
	wantErr(t, err, "tensor.View", "cannot infer")

	tr := Must(x.Transpose(0, 2)) // [4 3 2]
	if !slices.Equal(tr.Shape(), []int{4, 3, 2}) || tr.IsContiguous() {
		t.Fatal("transpose shape")
	}
	for i := 0; i < 4; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 2; k++ {
				if tr.At(i, j, k) != x.At(k, j, i) {
					t.Fatal("transpose values")
				}
			}
		}
	}
	_, err = tr.Reshape(24)
	wantErr(t, err, "tensor.Reshape", "not contiguous", "[4 3 2]", "strides")
	wantPanic(t, func() { tr.Data() }, "tensor.Data", "not contiguous")
	c := tr.Contiguous()
	if !c.IsContiguous() || c.At(3, 2, 1) != x.At(1, 2, 3) || Must(c.Reshape(24)).At(1) != x.At(1, 0, 0) {
		t.Fatal("contiguous copy")
	}
	if x.Contiguous() != x {
		t.Fatal("Contiguous must not copy a contiguous tensor")
	}

	p := Must(x.Permute(1, 2, 0)) // [3 4 2]
	if !slices.Equal(p.Shape(), []int{3, 4, 2}) || p.At(2, 3, 1) != x.At(1, 2, 3) {
		t.Fatal("permute")
	}
	_, err = x.Permute(0, 0, 1)
	wantErr(t, err, "tensor.Permute", "repeated", "[2 3 4]")
	_, err = x.Permute(0, 1)
	wantErr(t, err, "tensor.Permute", "[2 3 4]")
	_, err = x.Transpose(0, 3)
	wantErr(t, err, "tensor.Transpose", "dim 3", "[2 3 4]")

	n := Must(x.Narrow(2, 1, 2)) // [2 3 2]
	if n.At(1, 2, 0) != x.At(1, 2, 1) || n.IsContiguous() {
		t.Fatal("narrow")
	}
	n0 := Must(x.Narrow(0, 1, 1))
	if !n0.IsContiguous() || n0.Data()[0] != 12 {
		t.Fatal("narrow along dim 0 stays contiguous")
	}
	sl := Must(x.Slice(-1, 2, 4))
	if sl.At(0, 0, 1) != 3 {
		t.Fatal("slice with negative dim")
	}
	_, err = x.Narrow(1, 2, 2)
	wantErr(t, err, "tensor.Narrow", "[2, 4)", "dim 1", "[2 3 4]")

	ix := Must(x.Index(1))
	if !slices.Equal(ix.Shape(), []int{3, 4}) || ix.At(2, 3) != 23 {
		t.Fatal("index")
	}
	_, err = x.Index(2)
	wantErr(t, err, "tensor.Index", "index 2", "dim 0", "[2 3 4]")
	se := Must(x.Select(1, 2))
	if !slices.Equal(se.Shape(), []int{2, 4}) || se.At(1, 3) != x.At(1, 2, 3) {
		t.Fatal("select")
	}
	u := Must(x.Unsqueeze(1))
	if !slices.Equal(u.Shape(), []int{2, 1, 3, 4}) || !u.IsContiguous() || u.At(1, 0, 2, 3) != 23 {
		t.Fatal("unsqueeze")
	}
	sq := Must(u.Squeeze(1))
	if !slices.Equal(sq.Shape(), x.Shape()) {
		t.Fatal("squeeze")
	}
	_, err = x.Squeeze(0)
	wantErr(t, err, "tensor.Squeeze", "size 2")

	cl := n.Clone()
	cl.Set(100, 0, 0, 0)
	if x.At(0, 0, 1) == 100 {
		t.Fatal("clone must copy")
	}
	dst := Must(New[float64](2, 3, 2))
	Check(dst.CopyFrom(n))
	if dst.At(1, 2, 1) != n.At(1, 2, 1) {
		t.Fatal("copyfrom")
	}
	wantErr(t, dst.CopyFrom(x), "tensor.CopyFrom", "[2 3 2]", "[2 3 4]", "dim 2")
	// strided destination
	Check(n.CopyFrom(Must(Full[float64](-3, 2, 3, 2))))
	if x.At(1, 1, 1) != -3 || x.At(1, 1, 0) != 16 || x.At(1, 1, 3) != 19 {
		t.Fatal("copy into a strided view")
	}
	if s := x.String(); !strings.Contains(s, "Tensor[float64][2 3 4]") || !strings.Contains(s, "24 elements") {
		t.Fatalf("String: %s", s)
	}
	if s := tr.String(); !strings.Contains(s, "strides") {
		t.Fatalf("String of view: %s", s)
	}
	c32 := Convert[float32](tr)
	back := Convert[float64](c32)
	if c32.At(3, 2, 1) != float32(x.At(1, 2, 3)) || back.At(0, 1, 1) != tr.At(0, 1, 1) {
		t.Fatal("convert")
	}
	wantErr(t, ConvertInto(c32, x), "tensor.ConvertInto", "[4 3 2]", "[2 3 4]")
}

func TestOps(t *testing.T) {
	a := seq(3, 4)
	b := Must(Full[float64](2, 3, 4))
	s := Must(Add(a, b))
	d := Must(Sub(a, b))
	m := Must(Mul(a, b))
	for i := 0; i < 3; i++ {
		for j := 0; j < 4; j++ {
			v := a.At(i, j)
			if s.At(i, j) != v+2 || d.At(i, j) != v-2 || m.At(i, j) != v*2 {
				t.Fatal("add/sub/mul")
			}
		}
	}
	_, err := Add(a, seq(4, 3))
	wantErr(t, err, "tensor.Add", "[3 4]", "[4 3]", "dim 0")
	wantErr(t, AddInto(seq(3, 3), a, b), "tensor.AddInto", "[3 3]", "[3 4]", "dim 1")
	_, err = Dot(a, seq(12))
	wantErr(t, err, "tensor.Dot", "[3 4]", "[12]", "number of dims")

	// In place with aliasing and a transposed (strided) operand.
	at := Must(a.Transpose(0, 1))
	sum := Must(Add(at, at))
	if sum.At(3, 2) != 2*a.At(2, 3) {
		t.Fatal("add of views")
	}
	y := a.Clone()
	Check(AddScaled(y, 0.5, b))
	Check(Axpy(0.5, b, y))
	Check(ScaleInto(y, y, 2))
	if y.At(2, 1) != 2*(a.At(2, 1)+2) {
		t.Fatal("addscaled/axpy/scaleinto")
	}
	// strided destination
	yt := Must(y.Transpose(0, 1))
	Check(MulInto(yt, at, at))
	if y.At(1, 2) != a.At(1, 2)*a.At(1, 2) {
		t.Fatal("strided destination")
	}
	before := yt.Clone()
	Check(AddScaled(yt, 2, at))
	Check(Axpy(-1, at, yt))
	for i := 0; i < 4; i++ {
		for j := 0; j < 3; j++ {
			if yt.At(i, j) != before.At(i, j)+at.At(i, j) {
				t.Fatal("AddScaled/Axpy into a strided destination")
			}
		}
	}
	if Scale(a, 3).At(2, 3) != 33 {
		t.Fatal("scale")
	}
	if Sum(a) != 66 || Mean(a) != 5.5 || Must(Max(a)) != 11 || Must(Max(at)) != 11 {
		t.Fatal("reductions")
	}
	if v := Must(Dot(a, a)); v != 506 {
		t.Fatalf("dot %v", v)
	}
	if math.Abs(float64(Norm(a))-math.Sqrt(506)) > 1e-12 {
		t.Fatal("norm")
	}
	_, err = Max(Must(New[float64](0)))
	wantErr(t, err, "tensor.Max", "empty", "[0]")
	sl := Must(SumLast(a))
	ml := Must(MeanLast(a))
	xl := Must(MaxLast(at))
	if !slices.Equal(sl.Data(), []float64{6, 22, 38}) || ml.At(1) != 5.5 || !slices.Equal(xl.Data(), []float64{8, 9, 10, 11}) {
		t.Fatalf("last-dim reductions %v %v %v", sl, ml, xl)
	}
	logits := Must(FromSlice([]float32{0, 3, 1, 5, 5, -1}, 2, 3))
	if am := Must(ArgMax(logits)); !slices.Equal(am, []int{1, 0}) {
		t.Fatalf("argmax %v", am)
	}
	_, err = ArgMax(Must(New[float32]()))
	wantErr(t, err, "tensor.ArgMax", "scalar")
	if !math.IsNaN(float64(Mean(Must(New[float32](0))))) {
		t.Fatal("mean of empty")
	}
}

func TestAllClose(t *testing.T) {
	a := seq(2, 3)
	b := a.Clone()
	if !Equal(a, b) || Equal(a, seq(3, 2)) {
		t.Fatal("Equal")
	}
	b.Set(5.001, 1, 2)
	if ok, _ := AllClose(a, b, 1e-3, 0); !ok {
		t.Fatal("AllClose within rtol")
	}
	ok, why := AllClose(a, b, 1e-5, 1e-6)
	if ok {
		t.Fatal("AllClose outside tolerance")
	}
	wantErr(t, why, "element 5", "[2 3]")
	_, err := AllClose(a, seq(6), 1, 1)
	wantErr(t, err, "tensor.AllClose", "[2 3]", "[6]")
}

func TestIntoNoAlloc(t *testing.T) {
	a := Must(New[float32](64, 64))
	b := Must(Ones[float32](64, 64))
	allocs := testing.AllocsPerRun(20, func() {
		Check(AddInto(a, a, b))
		Check(AddScaled(a, 0.5, b))
		Check(ScaleInto(a, a, 0.5))
		_ = Sum(a)
		_ = Must(Dot(a, b))
		a.Set(a.At(1, 2)+1, 2, 3)
		_ = a.Data()
	})
	if allocs != 0 {
		t.Fatalf("Into ops allocate %v times per run", allocs)
	}
}

type myFloat float32

func TestNamedElementType(t *testing.T) {
	a := Must(FromSlice([]myFloat{1, 2, 3, 4}, 2, 2))
	b := Must(Add(a, a))
	if Sum(b) != 20 || Must(Dot(a, a)) != 30 || Convert[float64](b).At(1, 1) != 8 {
		t.Fatal("named float32 type")
	}
}

// TestRandomViews composes random permutes, narrows and selects and checks
// Contiguous, CopyFrom and the element-wise ops against At.
func TestRandomViews(t *testing.T) {
	r := NewRNG(11)
	for it := 0; it < 200; it++ {
		nd := 1 + r.Intn(4)
		shape := make([]int, nd)
		for d := range shape {
			shape[d] = 1 + r.Intn(4)
		}
		x := Must(New[float64](shape...))
		Normal(x, r, 0, 1)
		v := x
		for k := 0; k < 3; k++ {
			switch r.Intn(3) {
			case 0:
				v = Must(v.Permute(r.Perm(v.NDim())...))
			case 1:
				d := r.Intn(v.NDim())
				s := r.Intn(v.Size(d))
				v = Must(v.Narrow(d, s, 1+r.Intn(v.Size(d)-s)))
			case 2:
				if v.NDim() > 1 {
					v = Must(v.Select(r.Intn(v.NDim()), 0))
				}
			}
		}
		c := v.Contiguous()
		idx := make([]int, v.NDim())
		k := 0
		var walk func(d int)
		walk = func(d int) {
			if d == len(idx) {
				if c.Data()[k] != v.At(idx...) {
					t.Fatalf("view %v strides %v: element %v", v.Shape(), v.Strides(), idx)
				}
				k++
				return
			}
			for i := 0; i < v.Size(d); i++ {
				idx[d] = i
				walk(d + 1)
			}
		}
		walk(0)
		s := Must(Add(v, v))
		Check(MulInto(v, v, Must(Full[float64](2, v.Shape()...))))
		if !Equal(s, v.Contiguous()) {
			t.Fatalf("ops on view %v strides %v", v.Shape(), v.Strides())
		}
		ref := v.Clone()
		Check(AddScaled(v, 0.5, ref)) // 1.5 ref
		Check(SubInto(v, v, ref))     // 0.5 ref
		Check(ScaleInto(v, v, 4))     // 2 ref
		Check(Axpy(-1, ref, v))       // ref
		if ok, why := AllClose(v.Contiguous(), ref, 1e-12, 1e-12); !ok {
			t.Fatalf("in-place ops on view %v strides %v: %v", v.Shape(), v.Strides(), why)
		}
	}
}
