package vec

import (
	"sync"

	"repdyn/lib/internal/parallel"
)

// Per-channel kernels on NCHW data: x has n*c*hw elements, the hw elements of
// image i and channel ch starting at (i*c+ch)*hw. Channels are reduced
// independently (and in parallel when the work is large); within a channel the
// images are visited in order 0..n-1 and each image's partial is added in
// float64, so the results do not depend on the thread count.

// parallelMin is the number of elements from which the per-channel kernels
// spread channels over the worker pool.
const parallelMin = 1 << 15

func checkNCHW(op string, x []int, n, c, hw int, per []int) {
	if n < 0 || c < 0 || hw < 0 {
		panic("vec." + op + ": negative size n=" + itoa(n) + " c=" + itoa(c) + " hw=" + itoa(hw))
	}
	for _, l := range x {
		if l < n*c*hw {
			panic("vec." + op + ": slice of length " + itoa(l) + " shorter than n*c*hw = " + itoa(n*c*hw))
		}
	}
	for _, l := range per {
		if l < c {
			panic("vec." + op + ": per-channel slice of length " + itoa(l) + " shorter than c = " + itoa(c))
		}
	}
}

func sumF64[T Float](x []T) float64 {
	var s float64
	for len(x) > 0 {
		k := min(len(x), BlockLen)
		s += sumBlock(x[:k])
		x = x[k:]
	}
	return s
}

func dotF64[T Float](x, y []T) float64 {
	var s float64
	for len(x) > 0 {
		k := min(len(x), BlockLen)
		s += dotBlock(x[:k], y[:k])
		x, y = x[k:], y[k:]
	}
	return s
}

func sumSqDevF64[T Float](x []T, m T) float64 {
	var s float64
	for len(x) > 0 {
		k := min(len(x), BlockLen)
		s += sumSqDevBlock(x[:k], m)
		x = x[k:]
	}
	return s
}

// chanTask runs one of the per-channel kernels for channel i.
type chanTask[T Float] struct {
	kind              int
	x, y              []T
	n, c, hw          int
	o1, o2, a, b, cst []T
	z                 []T
	denom             float64
}

const (
	kindMeanVar = iota
	kindSumDot
	kindSum
	kindScaleShift
	kindAxpbyc
)

var chanPool32, chanPool64 sync.Pool

func getChanTask[T Float]() *chanTask[T] {
	p := &chanPool64
	if is32[T]() {
		p = &chanPool32
	}
	if t, ok := p.Get().(*chanTask[T]); ok {
		return t
	}
	return new(chanTask[T])
}

func putChanTask[T Float](t *chanTask[T]) {
	*t = chanTask[T]{}
	if is32[T]() {
		chanPool32.Put(t)
	} else {
		chanPool64.Put(t)
	}
}

func (t *chanTask[T]) Do(ch int) {
	n, c, hw := t.n, t.c, t.hw
	switch t.kind {
	case kindMeanVar:
		var s float64
		for i := 0; i < n; i++ {
			s += sumF64(t.x[(i*c+ch)*hw : (i*c+ch+1)*hw])
		}
		m := s / float64(n*hw)
		var q float64
		mt := T(m)
		for i := 0; i < n; i++ {
			q += sumSqDevF64(t.x[(i*c+ch)*hw:(i*c+ch+1)*hw], mt)
		}
		// Correct for mean rounding to T: sum((x-mt)^2) = sum((x-m)^2) + N*(m-mt)^2.
		d := m - float64(mt)
		q -= float64(n*hw) * d * d
		if q < 0 {
			q = 0
		}
		t.o1[ch] = mt
		t.o2[ch] = T(q / t.denom)
	case kindSumDot:
		var s, d float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * hw
			s += sumF64(t.x[o : o+hw])
			d += dotF64(t.x[o:o+hw], t.y[o:o+hw])
		}
		t.o1[ch] = T(s)
		t.o2[ch] = T(d)
	case kindSum:
		var s float64
		for i := 0; i < n; i++ {
			s += sumF64(t.x[(i*c+ch)*hw : (i*c+ch+1)*hw])
		}
		t.o1[ch] = T(s)
	case kindScaleShift:
		for i := 0; i < n; i++ {
			o := (i*c + ch) * hw
			Axpb(t.y[o:o+hw], t.x[o:o+hw], t.a[ch], t.b[ch])
		}
	case kindAxpbyc:
		for i := 0; i < n; i++ {
			o := (i*c + ch) * hw
			Axpbyc(t.z[o:o+hw], t.x[o:o+hw], t.y[o:o+hw], t.a[ch], t.b[ch], t.cst[ch])
		}
	}
}

func runChan[T Float](t *chanTask[T]) {
	if t.n*t.c*t.hw >= parallelMin && t.c > 1 {
		parallel.Run(t.c, t)
	} else {
		for ch := 0; ch < t.c; ch++ {
			t.Do(ch)
		}
	}
	putChanTask(t)
}

// ChannelMeanVar computes, for every channel of the NCHW tensor x, the mean
// and the variance over the n*hw values of the channel, with a two-pass
// method (mean first, then the mean of squared deviations). The variance is
// divided by n*hw - correction: correction 0 gives the biased variance that
// batch norm normalizes with, 1 the unbiased one it keeps as running_var.
// If n*hw - correction <= 0 the variance is NaN (0/0), as in PyTorch.
func ChannelMeanVar[T Float](x []T, n, c, hw int, mean, variance []T, correction int) {
	checkNCHW("ChannelMeanVar", []int{len(x)}, n, c, hw, []int{len(mean), len(variance)})
	t := getChanTask[T]()
	t.kind, t.x, t.n, t.c, t.hw, t.o1, t.o2 = kindMeanVar, x, n, c, hw, mean, variance
	t.denom = float64(n*hw - correction)
	runChan(t)
}

// ChannelSumDot computes, for every channel, sumDy[ch] = sum of dy and
// sumDyX[ch] = sum of dy*x over the channel's n*hw values: the two
// reductions of the batch-norm backward pass (with x = xhat) and of the
// gradients of a per-channel affine map.
func ChannelSumDot[T Float](dy, x []T, n, c, hw int, sumDy, sumDyX []T) {
	checkNCHW("ChannelSumDot", []int{len(dy), len(x)}, n, c, hw, []int{len(sumDy), len(sumDyX)})
	t := getChanTask[T]()
	t.kind, t.x, t.y, t.n, t.c, t.hw, t.o1, t.o2 = kindSumDot, dy, x, n, c, hw, sumDy, sumDyX
	runChan(t)
}

// ChannelSum sets out[ch] to the sum of x over channel ch (a bias gradient).
func ChannelSum[T Float](x []T, n, c, hw int, out []T) {
	checkNCHW("ChannelSum", []int{len(x)}, n, c, hw, []int{len(out)})
	t := getChanTask[T]()
	t.kind, t.x, t.n, t.c, t.hw, t.o1 = kindSum, x, n, c, hw, out
	runChan(t)
}

// ChannelScaleShift computes y = x*a[ch] + b[ch] on every channel ch of the
// NCHW tensor x (y may be x): batch norm's normalize-and-affine step with
// a = gamma/sqrt(var+eps) and b = beta - mean*a.
func ChannelScaleShift[T Float](y, x []T, n, c, hw int, a, b []T) {
	checkNCHW("ChannelScaleShift", []int{len(y), len(x)}, n, c, hw, []int{len(a), len(b)})
	t := getChanTask[T]()
	t.kind, t.x, t.y, t.n, t.c, t.hw, t.a, t.b = kindScaleShift, x, y, n, c, hw, a, b
	runChan(t)
}

// ChannelAxpbyc computes dst = a[ch]*x + b[ch]*y + cst[ch] on every channel
// ch of NCHW tensors (dst may be x or y): the input gradient of batch norm,
// dx = a*dy + b*xhat + cst with a = gamma*invstd, b = -a*sumDyXhat/N and
// cst = -a*sumDy/N.
func ChannelAxpbyc[T Float](dst, x, y []T, n, c, hw int, a, b, cst []T) {
	checkNCHW("ChannelAxpbyc", []int{len(dst), len(x), len(y)}, n, c, hw, []int{len(a), len(b), len(cst)})
	t := getChanTask[T]()
	t.kind, t.x, t.y, t.z, t.n, t.c, t.hw, t.a, t.b, t.cst = kindAxpbyc, x, y, dst, n, c, hw, a, b, cst
	runChan(t)
}
