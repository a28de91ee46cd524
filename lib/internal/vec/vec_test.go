package vec

import (
	"fmt"
	"math"
	"testing"

	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/parallel"
)

// forLevels runs f once per kernel level this machine and build can run.
func forLevels(t *testing.T, f func(t *testing.T)) {
	saved := cpu.Selected
	defer cpu.Set(saved)
	for _, l := range cpu.Levels() {
		cpu.Set(l)
		t.Run(l.String(), f)
	}
}

// lengths: every length 0..100, a few around the block and vector sizes,
// and some large ones.
func lengths() []int {
	var ls []int
	for n := 0; n <= 100; n++ {
		ls = append(ls, n)
	}
	return append(ls, 127, 128, 129, 255, 1000, BlockLen-1, BlockLen, BlockLen+17, 3*BlockLen+5, 100003)
}

const guard = 8

// rnd is a tiny deterministic generator for test data.
type rnd uint64

func (r *rnd) f() float64 {
	*r = *r*6364136223846793005 + 1442695040888963407
	return float64(uint64(*r)>>11)*0x1p-53*2 - 1
}

// buf returns a slice of n values starting at an unaligned offset, followed by
// guard elements set to a poison value that kernels must not touch.
func buf[T Float](r *rnd, n, off int) ([]T, []T) {
	all := make([]T, off+n+guard)
	for i := range all {
		all[i] = T(r.f() * 4)
		if i%7 == 3 {
			all[i] = 0
		}
	}
	for i := off + n; i < len(all); i++ {
		all[i] = 12345
	}
	return all[off : off+n : off+n], all[off+n:]
}

func checkGuard[T Float](t *testing.T, what string, g []T) {
	t.Helper()
	for _, v := range g {
		if v != 12345 {
			t.Fatalf("%s wrote past the end", what)
		}
	}
}

func eps[T Float]() float64 {
	if is32[T]() {
		return 0x1p-23
	}
	return 0x1p-52
}

// close reports whether got matches want to within a few ulps of scale.
func closeTo[T Float](got T, want, scale float64) bool {
	return math.Abs(float64(got)-want) <= 4*eps[T]()*(math.Abs(want)+scale)
}

func testElementwise[T Float](t *testing.T) {
	r := rnd(1)
	for _, n := range lengths() {
		off := n % 5
		x, _ := buf[T](&r, n, off)
		y, _ := buf[T](&r, n, (off+2)%5)
		dst, g := buf[T](&r, n, (off+1)%5)
		a, b := T(r.f()), T(r.f())
		name := fmt.Sprintf("n=%d", n)

		copy(dst, y)
		Axpy(a, x, dst)
		for i := range dst {
			if !closeTo(dst[i], float64(y[i])+float64(a)*float64(x[i]), math.Abs(float64(y[i]))) {
				t.Fatalf("Axpy %s i=%d: %v", name, i, dst[i])
			}
		}
		Axpb(dst, x, a, b)
		for i := range dst {
			if !closeTo(dst[i], float64(a)*float64(x[i])+float64(b), math.Abs(float64(b))) {
				t.Fatalf("Axpb %s i=%d", name, i)
			}
		}
		Axpbyc(dst, x, y, a, b, 0.25)
		for i := range dst {
			w := float64(a)*float64(x[i]) + float64(b)*float64(y[i]) + 0.25
			if !closeTo(dst[i], w, math.Abs(float64(a)*float64(x[i]))+math.Abs(float64(b)*float64(y[i]))+0.25) {
				t.Fatalf("Axpbyc %s i=%d: %v want %v", name, i, dst[i], w)
			}
		}
		Scale(dst, x, a)
		for i := range dst {
			if dst[i] != a*x[i] {
				t.Fatalf("Scale %s i=%d", name, i)
			}
		}
		Add(dst, x, y)
		for i := range dst {
			if dst[i] != x[i]+y[i] {
				t.Fatalf("Add %s i=%d", name, i)
			}
		}
		AddInPlace(dst, x)
		for i := range dst {
			if dst[i] != (x[i]+y[i])+x[i] {
				t.Fatalf("AddInPlace %s i=%d", name, i)
			}
		}
		Sub(dst, x, y)
		for i := range dst {
			if dst[i] != x[i]-y[i] {
				t.Fatalf("Sub %s i=%d", name, i)
			}
		}
		Mul(dst, x, y)
		for i := range dst {
			if dst[i] != x[i]*y[i] {
				t.Fatalf("Mul %s i=%d", name, i)
			}
		}
		Relu(dst, x)
		for i := range dst {
			if dst[i] != max(x[i], 0) {
				t.Fatalf("Relu %s i=%d: %v -> %v", name, i, x[i], dst[i])
			}
		}
		ReluBackward(dst, y, x)
		for i := range dst {
			want := T(0)
			if x[i] > 0 {
				want = y[i]
			}
			if dst[i] != want {
				t.Fatalf("ReluBackward %s i=%d", name, i)
			}
		}
		LeakyRelu(dst, x, 0.1)
		for i := range dst {
			want := x[i]
			if x[i] <= 0 {
				want = 0.1 * x[i]
			}
			if dst[i] != want {
				t.Fatalf("LeakyRelu %s i=%d", name, i)
			}
		}
		LeakyReluBackward(dst, y, x, 0.1)
		for i := range dst {
			want := y[i]
			if x[i] <= 0 {
				want = 0.1 * y[i]
			}
			if dst[i] != want {
				t.Fatalf("LeakyReluBackward %s i=%d", name, i)
			}
		}
		checkGuard(t, name, g)
		// dst == x aliasing
		copy(dst, x)
		Relu(dst, dst)
		for i := range dst {
			if dst[i] != max(x[i], 0) {
				t.Fatalf("Relu in place %s", name)
			}
		}
		checkGuard(t, name, g)
	}
}

func testReductions[T Float](t *testing.T) {
	r := rnd(2)
	for _, n := range lengths() {
		x, _ := buf[T](&r, n, n%3)
		y, _ := buf[T](&r, n, (n+1)%3)
		var s, sa, d, da, q, qa, m float64
		for i := range x {
			s += float64(x[i])
			sa += math.Abs(float64(x[i]))
			d += float64(x[i]) * float64(y[i])
			da += math.Abs(float64(x[i]) * float64(y[i]))
		}
		if n > 0 {
			m = float64(T(s / float64(n)))
		}
		for i := range x {
			q += (float64(x[i]) - m) * (float64(x[i]) - m)
		}
		qa = q
		tol := func(scale float64) float64 { return 2 * eps[T]() * scale * math.Sqrt(float64(n+16)) * 4 }
		if got := Sum(x); math.Abs(float64(got)-s) > tol(sa) {
			t.Fatalf("Sum n=%d: %v want %v", n, got, s)
		}
		if got := Dot(x, y); math.Abs(float64(got)-d) > tol(da) {
			t.Fatalf("Dot n=%d: %v want %v", n, got, d)
		}
		if got := SumSqDev(x, T(m)); math.Abs(float64(got)-q) > tol(qa) {
			t.Fatalf("SumSqDev n=%d: %v want %v", n, got, q)
		}
		if got := SumSq(x); got != Dot(x, x) {
			t.Fatalf("SumSq n=%d", n)
		}
		// Same input, same result (bit for bit).
		if Sum(x) != Sum(x) || Dot(x, y) != Dot(x, y) {
			t.Fatal("non-deterministic")
		}
		mv, mi := Max(x)
		wi := -1
		for i := range x {
			if wi < 0 || x[i] > x[wi] {
				wi = i
			}
		}
		if mi != wi || (n > 0 && mv != x[wi]) || ArgMax(x) != wi {
			t.Fatalf("Max n=%d: (%v,%d) want %d", n, mv, mi, wi)
		}
	}
}

func TestElementwise(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		t.Run("float32", testElementwise[float32])
		t.Run("float64", testElementwise[float64])
	})
}

func TestReductions(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		t.Run("float32", testReductions[float32])
		t.Run("float64", testReductions[float64])
	})
}

func TestReluNaNAndSignedZero(t *testing.T) {
	nan := float32(math.NaN())
	negz := float32(math.Copysign(0, -1))
	x := []float32{nan, negz, -1, 2, float32(math.Inf(-1)), float32(math.Inf(1)), 0}
	for len(x) < 37 {
		x = append(x, x...)
	}
	dy := make([]float32, len(x))
	for i := range dy {
		dy[i] = nan
		if i%3 == 0 {
			dy[i] = 1
		}
	}
	forLevels(t, func(t *testing.T) {
		d := make([]float32, len(x))
		Relu(d, x)
		for i, v := range d {
			want := x[i]
			if x[i] < 0 {
				want = 0
			}
			if math.Float32bits(v) != math.Float32bits(want) && !(math.IsNaN(float64(v)) && math.IsNaN(float64(want))) {
				t.Fatalf("Relu(%v) = %v, want %v", x[i], v, want)
			}
		}
		ReluBackward(d, dy, x)
		for i, v := range d {
			want := float32(0)
			if x[i] > 0 {
				want = dy[i]
			}
			if math.Float32bits(v) != math.Float32bits(want) && !(math.IsNaN(float64(v)) && math.IsNaN(float64(want))) {
				t.Fatalf("ReluBackward(dy=%v, x=%v) = %v, want %v", dy[i], x[i], v, want)
			}
		}
	})
}

func TestPanicsOnShortOperand(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("no panic")
		}
	}()
	Add(make([]float32, 4), make([]float32, 4), make([]float32, 3))
}

func naiveChannel[T Float](x, y []T, n, c, hw int) (mean, vr, sx, sxy []float64) {
	mean, vr, sx, sxy = make([]float64, c), make([]float64, c), make([]float64, c), make([]float64, c)
	for ch := 0; ch < c; ch++ {
		for i := 0; i < n; i++ {
			for k := 0; k < hw; k++ {
				v := float64(x[(i*c+ch)*hw+k])
				sx[ch] += v
				sxy[ch] += v * float64(y[(i*c+ch)*hw+k])
			}
		}
		mean[ch] = sx[ch] / float64(n*hw)
		for i := 0; i < n; i++ {
			for k := 0; k < hw; k++ {
				d := float64(x[(i*c+ch)*hw+k]) - mean[ch]
				vr[ch] += d * d
			}
		}
		vr[ch] /= float64(n * hw)
	}
	return
}

func testChannel[T Float](t *testing.T) {
	r := rnd(3)
	for _, sh := range [][3]int{{1, 1, 1}, {2, 3, 5}, {4, 16, 49}, {8, 64, 64}, {3, 2, 1000}} {
		n, c, hw := sh[0], sh[1], sh[2]
		x, _ := buf[T](&r, n*c*hw, 1)
		for i := range x {
			x[i] += 3 // offset mean: exercises the two-pass method
		}
		y, _ := buf[T](&r, n*c*hw, 2)
		mean, vr, sx, sxy := naiveChannel(x, y, n, c, hw)
		m, v, s1, s2 := make([]T, c), make([]T, c), make([]T, c), make([]T, c)
		ChannelMeanVar(x, n, c, hw, m, v, 0)
		ChannelSumDot(x, y, n, c, hw, s1, s2)
		tol := 64 * eps[T]()
		for ch := 0; ch < c; ch++ {
			if math.Abs(float64(m[ch])-mean[ch]) > tol*4 || math.Abs(float64(v[ch])-vr[ch]) > tol*(vr[ch]+1) {
				t.Fatalf("ChannelMeanVar %v ch=%d: %v %v want %v %v", sh, ch, m[ch], v[ch], mean[ch], vr[ch])
			}
			scale := float64(n * hw * 8)
			if math.Abs(float64(s1[ch])-sx[ch]) > tol*scale || math.Abs(float64(s2[ch])-sxy[ch]) > tol*scale {
				t.Fatalf("ChannelSumDot %v ch=%d", sh, ch)
			}
		}
		ChannelMeanVar(x, n, c, hw, m, v, 1)
		if N := n * hw; N > 1 && math.Abs(float64(v[0])-vr[0]*float64(N)/float64(N-1)) > tol*(vr[0]+1) {
			t.Fatalf("unbiased variance %v", sh)
		}
		cs := make([]T, c)
		ChannelSum(x, n, c, hw, cs)
		for ch := range cs {
			if cs[ch] != s1[ch] {
				t.Fatal("ChannelSum != ChannelSumDot's sum")
			}
		}
		a, b := make([]T, c), make([]T, c)
		for ch := range a {
			a[ch], b[ch] = T(r.f()), T(r.f())
		}
		out := make([]T, n*c*hw)
		ChannelScaleShift(out, x, n, c, hw, a, b)
		for i := range out {
			ch := i / hw % c
			if !closeTo(out[i], float64(x[i])*float64(a[ch])+float64(b[ch]), math.Abs(float64(b[ch]))) {
				t.Fatalf("ChannelScaleShift %v i=%d", sh, i)
			}
		}
		cc := make([]T, c)
		for ch := range cc {
			cc[ch] = T(r.f())
		}
		ChannelAxpbyc(out, x, y, n, c, hw, a, b, cc)
		for i := range out {
			ch := i / hw % c
			w := float64(a[ch])*float64(x[i]) + float64(b[ch])*float64(y[i]) + float64(cc[ch])
			if !closeTo(out[i], w, 8) {
				t.Fatalf("ChannelAxpbyc %v i=%d", sh, i)
			}
		}
		// Thread count must not change any bit.
		prev := parallel.SetThreads(1)
		m1, v1, t1, t2 := make([]T, c), make([]T, c), make([]T, c), make([]T, c)
		ChannelMeanVar(x, n, c, hw, m1, v1, 1)
		ChannelSumDot(x, y, n, c, hw, t1, t2)
		parallel.SetThreads(prev)
		for ch := 0; ch < c; ch++ {
			if !same(m1[ch], m[ch]) || !same(v1[ch], v[ch]) || t1[ch] != s1[ch] || t2[ch] != s2[ch] {
				t.Fatalf("thread count changed per-channel results %v", sh)
			}
		}
	}
}

func TestChannel(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		t.Run("float32", testChannel[float32])
		t.Run("float64", testChannel[float64])
	})
}

func TestSGDStep(t *testing.T) {
	for _, nesterov := range []bool{false, true} {
		p := []float64{1, -2, 3}
		g := []float64{0.5, 0.5, -1}
		buf := make([]float64, 3)
		lr, mom, damp, wd := 0.1, 0.9, 0.1, 0.01
		// reference: PyTorch's algorithm, two steps
		rp := append([]float64(nil), p...)
		rb := make([]float64, 3)
		for step := 0; step < 2; step++ {
			for i := range rp {
				d := g[i] + wd*rp[i]
				if step == 0 {
					rb[i] = d
				} else {
					rb[i] = mom*rb[i] + (1-damp)*d
				}
				if nesterov {
					d += mom * rb[i]
				} else {
					d = rb[i]
				}
				rp[i] -= lr * d
			}
			SGDStep(p, g, buf, lr, mom, damp, wd, nesterov, step == 0)
		}
		for i := range p {
			if math.Abs(p[i]-rp[i]) > 1e-15 || math.Abs(buf[i]-rb[i]) > 1e-15 {
				t.Fatalf("SGD nesterov=%v: %v want %v", nesterov, p, rp)
			}
		}
	}
	p := []float32{1, 2}
	SGDStep(p, []float32{1, 1}, nil, 0.5, 0, 0, 0, false, true)
	if p[0] != 0.5 || p[1] != 1.5 {
		t.Fatal("plain SGD")
	}
}

func TestAdamStep(t *testing.T) {
	for _, decoupled := range []bool{false, true} {
		p := []float64{1, -2, 3}
		g := []float64{0.5, 0.25, -1}
		m, v := make([]float64, 3), make([]float64, 3)
		lr, b1, b2, e, wd := 0.01, 0.9, 0.999, 1e-8, 0.1
		rp := append([]float64(nil), p...)
		rm, rv := make([]float64, 3), make([]float64, 3)
		for step := 1; step <= 3; step++ {
			for i := range rp {
				d := g[i]
				if decoupled {
					rp[i] *= 1 - lr*wd
				} else {
					d += wd * rp[i]
				}
				rm[i] = b1*rm[i] + (1-b1)*d
				rv[i] = b2*rv[i] + (1-b2)*d*d
				bc1, bc2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
				rp[i] -= lr / bc1 * rm[i] / (math.Sqrt(rv[i])/math.Sqrt(bc2) + e)
			}
			AdamStep(p, g, m, v, step, lr, b1, b2, e, wd, decoupled)
		}
		for i := range p {
			if math.Abs(p[i]-rp[i]) > 1e-14 {
				t.Fatalf("Adam decoupled=%v: %v want %v", decoupled, p, rp)
			}
		}
	}
}

func TestNoAllocs(t *testing.T) {
	x := make([]float32, 4096)
	y := make([]float32, 4096)
	c := make([]float32, 16)
	n := testing.AllocsPerRun(10, func() {
		Axpy(2, x, y)
		Add(y, x, y)
		_ = Sum(x)
		_ = Dot(x, y)
		ChannelMeanVar(x, 4, 16, 64, c, c, 0)
		ChannelScaleShift(y, x, 4, 16, 64, c, c)
		ChannelSumDot(x, y, 4, 16, 64, c, c)
	})
	if n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

// same compares bit patterns (NaN equals NaN).
func same[T Float](a, b T) bool {
	return math.Float64bits(float64(a)) == math.Float64bits(float64(b))
}

// TestElementwiseMatchesGo compares Add, Sub, Mul and Scale of every level
// with the portable kernels on signed zeros, infinities, subnormals and
// ordinary values: bit for bit on NEON (whose kernels are single FMLAs with
// exact operands), and up to the sign of a zero elsewhere (the package
// contract).
func TestElementwiseMatchesGo(t *testing.T) {
	special := []float64{0, math.Copysign(0, -1), 1, -1, 3.5, -2.25, math.Inf(1), math.Inf(-1), 5e-324, -5e-324, 1e-40, -1e-40, 1e300, -1e300, 0.1, 7}
	forLevels(t, func(t *testing.T) {
		exact := cpu.Selected == cpu.NEON
		for _, n := range []int{1, 3, 4, 5, 8, 17, 37} {
			x, y := make([]float64, n), make([]float64, n)
			for i := range x {
				x[i], y[i] = special[(i*3)%len(special)], special[(i*5+1)%len(special)]
			}
			same := func(op string, got, want []float64) {
				for i := range got {
					g, w := got[i], want[i]
					if math.Float64bits(g) == math.Float64bits(w) || (g != g && w != w) || (!exact && g == 0 && w == 0) {
						continue
					}
					t.Fatalf("%s n=%d i=%d: %v (%x), portable %v (%x)", op, n, i, g, math.Float64bits(g), w, math.Float64bits(w))
				}
			}
			got, want := make([]float64, n), make([]float64, n)
			Add(got, x, y)
			addGo(want, x, y)
			same("Add", got, want)
			Sub(got, x, y)
			subGo(want, x, y)
			same("Sub", got, want)
			Mul(got, x, y)
			mulGo(want, x, y)
			same("Mul", got, want)
			for _, a := range []float64{0, math.Copysign(0, -1), -1.5} {
				Scale(got, x, a)
				scaleGo(want, x, a)
				same("Scale", got, want)
			}
			// float32 through the same values.
			x32, y32 := make([]float32, n), make([]float32, n)
			for i := range x {
				x32[i], y32[i] = float32(x[i]), float32(y[i])
			}
			g32, w32 := make([]float32, n), make([]float32, n)
			Mul(g32, x32, y32)
			mulGo(w32, x32, y32)
			for i := range g32 {
				g, w := g32[i], w32[i]
				if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) && !(!exact && g == 0 && w == 0) {
					t.Fatalf("Mul float32 n=%d i=%d: %v, portable %v", n, i, g, w)
				}
			}
		}
	})
}
