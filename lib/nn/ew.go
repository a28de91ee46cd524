package nn

import (
	"repdyn/lib/internal/parallel"
	"repdyn/lib/internal/vec"
)

// Element-wise kernels of lib/internal/vec, split over lib/internal/parallel's
// workers for large tensors. Each layer owns an ewTask, so a call allocates
// nothing. Results do not depend on the thread count (the kernels are
// element-wise). Batch norm's kernels are in bnfused.go.

type ewOp int

const (
	opRelu ewOp = iota
	opReluBack
	opLeaky
	opLeakyBack
	opAdd
)

// parMin is the smallest tensor (elements) split over workers.
const parMin = 1 << 15

type ewTask[T Float] struct {
	op        ewOp
	dst, a, b []T
	slope     T
	per       int // elements per item
}

func (t *ewTask[T]) Do(i int) {
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
