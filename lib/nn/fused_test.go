package nn

import (
	"math"
	"testing"

	"repdyn/lib/internal/parallel"
)

// The fused passes (batch norm + residual add + ReLU in one pass, the block
// gradients in shared scratch, conv input gradients accumulated in place)
// must agree with the layer-by-layer path (ForwardJVP runs the layers one by
// one, and Backward then follows them), and be bit-identical for every
// thread count.

func fillParams[T Float](m Module[T], seed uint64) {
	s := seed
	for _, p := range m.Params() {
		for i := range p.Data {
			s = s*6364136223846793005 + 1442695040888963407
			p.Data[i] = T(float64(s>>40)/float64(1<<24) - 0.5)
		}
	}
	for _, b := range m.Buffers() {
		for i := range b.Data {
			s = s*6364136223846793005 + 1442695040888963407
			b.Data[i] = T(float64(s>>40)/float64(1<<24)) + 0.5
		}
	}
}

func seqData[T Float](n int, seed uint64) []T {
	d := make([]T, n)
	s := seed
	for i := range d {
		s = s*6364136223846793005 + 1442695040888963407
		d[i] = T(float64(s>>40)/float64(1<<24)*4 - 2)
	}
	return d
}

type fusedRun[T Float] struct {
	y, dx []T
	grads []T
}

func runBlock[T Float](t *testing.T, m Module[T], x, dy *Tensor[T], mode Mode, layered bool) fusedRun[T] {
	t.Helper()
	var y *Tensor[T]
	var err error
	if layered {
		y, _, err = m.(JVPModule[T]).ForwardJVP(x, nil, mode)
	} else {
		y, err = m.Forward(x, mode)
	}
	if err != nil {
		t.Fatal(err)
	}
	ys := append([]T(nil), dataOf(y)...)
	ZeroGrad(m)
	dx, err := m.Backward(dy)
	if err != nil {
		t.Fatal(err)
	}
	return fusedRun[T]{ys, append([]T(nil), dataOf(dx)...), FlattenGrads(m, nil)}
}

func maxRel[T Float](a, b []T) float64 {
	var scale, d float64
	for i := range a {
		scale = max(scale, math.Abs(float64(b[i])))
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	if scale == 0 {
		return d
	}
	return d / scale
}

func bitEqual[T Float](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

func testFused[T Float](t *testing.T, tol float64) {
	mk := map[string]func() Module[T]{
		"basic":           func() Module[T] { return NewBasicBlock[T]("b", 8, 8, 1) },
		"basic-down":      func() Module[T] { return NewBasicBlock[T]("b", 8, 16, 2) },
		"preact":          func() Module[T] { return NewPreActBlock[T]("p", 8, 8, 1, false) },
		"preact-short":    func() Module[T] { return NewPreActBlock[T]("p", 8, 16, 2, false) },
		"preact-short-bn": func() Module[T] { return NewPreActBlock[T]("p", 8, 16, 2, true) },
		"seq": func() Module[T] {
			return NewSequential[T]("", NewConv2d[T]("c", 8, 8, 3, 1, 1, false), NewBatchNorm2d[T]("bn", 8),
				NewReLU[T]("r"), NewBasicBlock[T]("b0", 8, 8, 1), NewBasicBlock[T]("b1", 8, 16, 2))
		},
	}
	const N, H = 8, 24 // 8*8*24*24 elements: the kernels split over threads
	for name, f := range mk {
		for _, mode := range []Mode{BatchStats, Eval} {
			m := f()
			fillParams(m, 7)
			ShareScratch(m)
			x := wrap(seqData[T](N*8*H*H, 3), N, 8, H, H)
			os, err := m.OutShape(shapeOf(x))
			if err != nil {
				t.Fatal(err)
			}
			dy := wrap(seqData[T](prod(os), 5), os...)
			ref := runBlock(t, m, x, dy, mode, true)
			prev := parallel.SetThreads(1)
			one := runBlock(t, m, x, dy, mode, false)
			parallel.SetThreads(4)
			four := runBlock(t, m, x, dy, mode, false)
			parallel.SetThreads(prev)
			for _, c := range []struct {
				what    string
				a, b, r []T
			}{{"output", one.y, four.y, ref.y}, {"input gradient", one.dx, four.dx, ref.dx}, {"parameter gradients", one.grads, four.grads, ref.grads}} {
				if !bitEqual(c.a, c.b) {
					t.Errorf("%s %v: %s differs between 1 and 4 threads", name, mode, c.what)
				}
				if d := maxRel(c.a, c.r); d > tol {
					t.Errorf("%s %v: fused %s differs from the layer-by-layer one by %.3g (tolerance %g)", name, mode, c.what, d, tol)
				}
			}
		}
	}
}

// TestConvBNEvalFusion checks that in eval mode running batch norm as the
// convolution's epilogue changes nothing: output, input gradient and
// parameter gradients are bit-identical to running the layers one after the
// other.
func TestConvBNEvalFusion(t *testing.T) {
	defer func() { fuseConvBN = true }()
	mk := map[string]func() Module[float32]{
		"basic":      func() Module[float32] { return NewBasicBlock[float32]("b", 8, 8, 1) },
		"basic-down": func() Module[float32] { return NewBasicBlock[float32]("b", 8, 16, 2) },
		"seq": func() Module[float32] {
			return NewSequential[float32]("", NewConv2d[float32]("c", 8, 8, 3, 1, 1, false), NewBatchNorm2d[float32]("bn", 8),
				NewReLU[float32]("r"), NewBasicBlock[float32]("b0", 8, 8, 1), NewConv2d[float32]("c2", 8, 4, 1, 1, 0, true),
				NewBatchNorm2d[float32]("bn2", 4))
		},
	}
	// 12x12: tiles with junk columns; 16x16: row-mode kernels
	for _, hw := range []int{12, 16} {
		for name, f := range mk {
			// two copies of the model, so that no output buffer holds a
			// result of the other run
			m, m2 := f(), f()
			fillParams(m, 11)
			fillParams(m2, 11)
			x := wrap(seqData[float32](4*8*hw*hw, 3), 4, 8, hw, hw)
			os, err := m.OutShape(shapeOf(x))
			if err != nil {
				t.Fatal(err)
			}
			dy := wrap(seqData[float32](prod(os), 5), os...)
			fuseConvBN = false
			apart := runBlock(t, m2, x, dy, Eval, false)
			fuseConvBN = true
			fused := runBlock(t, m, x, dy, Eval, false)
			for _, c := range []struct {
				what string
				a, b []float32
			}{{"output", fused.y, apart.y}, {"input gradient", fused.dx, apart.dx}, {"parameter gradients", fused.grads, apart.grads}} {
				if !bitEqual(c.a, c.b) {
					t.Errorf("%s %dx%d: fused %s differs from the unfused one (max rel %.3g)", name, hw, hw, c.what, maxRel(c.a, c.b))
				}
			}
		}
	}
}

func TestFusedBlocks(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testFused[float64](t, 1e-12) })
	t.Run("float32", func(t *testing.T) { testFused[float32](t, 1e-5) })
}
