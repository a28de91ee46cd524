package nn

import (
	"repdyn/lib/internal/parallel"
	"repdyn/lib/internal/vec"
)

// Element-wise kernels of lib/internal/vec, split over lib/internal/parallel's
// workers for large tensors. Each layer owns an ewTask, so a call allocates
// nothing. Results do not depend on the thread count (the kernels are
// element-wise; the per-channel reductions stay single-threaded).

type ewOp int

const (
	opRelu ewOp = iota
	opReluBack
	opLeaky
	opLeakyBack
	opAdd
	opScaleShift // dst = a*p[ch] + q[ch]
	opAxpbyc     // dst = p[ch]*a + q[ch]*b + r[ch]
	opCenter     // dst = (a - p[ch]) * q[ch]
)

// parMin is the smallest tensor (elements) split over workers.
const parMin = 1 << 15

type ewTask[T Float] struct {
	op        ewOp
	dst, a, b []T
	p, q, r   []T
	slope     T
	n, c, hw  int
	per       int // elements (flat ops) or samples (channel ops) per item
}

func (t *ewTask[T]) Do(i int) {
	switch t.op {
	case opScaleShift, opAxpbyc, opCenter:
		lo, hi := i*t.per, min((i+1)*t.per, t.n)
		s := t.c * t.hw
		d, a := t.dst[lo*s:hi*s], t.a[lo*s:hi*s]
		switch t.op {
		case opCenter:
			// subtract first (one rounding), then scale: no cancellation
			// error when |mean| >> std, unlike x*q - p*q
			for r := 0; r < (hi-lo)*t.c; r++ {
				ch := r % t.c
				row := d[r*t.hw : (r+1)*t.hw]
				vec.Axpb(row, a[r*t.hw:(r+1)*t.hw], 1, -t.p[ch])
				vec.Scale(row, row, t.q[ch])
			}
		case opScaleShift:
			vec.ChannelScaleShift(d, a, hi-lo, t.c, t.hw, t.p, t.q)
		default:
			vec.ChannelAxpbyc(d, a, t.b[lo*s:hi*s], hi-lo, t.c, t.hw, t.p, t.q, t.r)
		}
		return
	}
	lo, hi := i*t.per, min((i+1)*t.per, len(t.dst))
	d, a := t.dst[lo:hi], t.a[lo:hi]
	switch t.op {
	case opRelu:
		vec.Relu(d, a)
	case opReluBack:
		vec.ReluBackward(d, a, t.b[lo:hi])
	case opLeaky:
		vec.LeakyRelu(d, a, t.slope)
	case opLeakyBack:
		vec.LeakyReluBackward(d, a, t.b[lo:hi], t.slope)
	case opAdd:
		vec.Add(d, a, t.b[lo:hi])
	}
}

// flat runs a flat element-wise op over dst.
func (t *ewTask[T]) flat(op ewOp, dst, a, b []T, slope T) {
	t.op, t.dst, t.a, t.b, t.slope = op, dst, a, b, slope
	items := 1
	if len(dst) >= parMin {
		items = min(parallel.Threads(), len(dst)/(parMin/2))
	}
	if items <= 1 {
		t.per = len(dst)
		t.Do(0)
	} else {
		t.per = (len(dst) + items - 1) / items
		t.per = (t.per + 63) &^ 63 // keep chunks vector-aligned
		parallel.Run((len(dst)+t.per-1)/t.per, t)
	}
	t.dst, t.a, t.b = nil, nil, nil
}

// channel runs a per-channel op over an NCHW tensor, split by samples.
func (t *ewTask[T]) channel(op ewOp, dst, a, b []T, n, c, hw int, p, q, r []T) {
	t.op, t.dst, t.a, t.b, t.n, t.c, t.hw, t.p, t.q, t.r = op, dst, a, b, n, c, hw, p, q, r
	items := 1
	if len(dst) >= parMin {
		items = min(parallel.Threads(), n)
	}
	t.per = (n + items - 1) / items
	if items <= 1 {
		t.Do(0)
	} else {
		parallel.Run((n+t.per-1)/t.per, t)
	}
	t.dst, t.a, t.b, t.p, t.q, t.r = nil, nil, nil, nil, nil, nil
}
