package nn

import (
	"repdyn/lib/internal/parallel"
	"repdyn/lib/internal/vec"
)

// Row-fused batch-norm kernels. An NCHW tensor is a sequence of rows of hw
// elements (one image, one channel); every kernel here makes all of its
// element-wise steps on one row before moving to the next, so a row is read
// from memory once and the later steps run in L1:
//
//   - bnApply (split by images): y = relu?(((x-mean)*invstd)*gamma + beta + res?),
//     the batch-norm output fused with a residual add and a ReLU;
//   - bnSums (split by channels, images in order): g = dy*[mask > 0] (the
//     ReLU backward, written out when a mask is given) and the per-channel
//     sums of g and of g*xhat, with xhat recomputed from x in a scratch row;
//   - bnDx (split by images): dx = ca*g + cb*xhat + cc.
//
// The normalized input xhat is never stored: the steps that need it
// recompute it with exactly the operations of the forward pass, so it is
// bit-identical to what a stored copy would hold. The reductions run per
// channel in a fixed order (as vec.ChannelSumDot), so every result is
// bit-identical for every thread count.

type bnOp int

const (
	bnApply bnOp = iota
	bnSums
	bnDx
)

type bnTask[T Float] struct {
	op                  bnOp
	x, y, res, mask, dy []T
	g, dx               []T
	n, c, hw            int
	mean, invstd        []T
	gamma, beta         []T
	ca, cb, cc          []T
	relu                bool
	sdy, sdyx           []T
	scratch             []T // one row per item
	per                 int // images per item (apply, dx)
}

// rowSum and rowDot add the partials of vec's BlockLen blocks in float64,
// as vec.ChannelSumDot does (vec.Sum of one block is that block's partial,
// exactly).
func rowSum[T Float](x []T) float64 {
	var s float64
	for len(x) > 0 {
		k := min(len(x), vec.BlockLen)
		s += float64(vec.Sum(x[:k]))
		x = x[k:]
	}
	return s
}

func rowDot[T Float](x, y []T) float64 {
	var s float64
	for len(x) > 0 {
		k := min(len(x), vec.BlockLen)
		s += float64(vec.Dot(x[:k], y[:k]))
		x, y = x[k:], y[k:]
	}
	return s
}

// xhatRow writes (x-mean)*invstd into dst: subtracting first (one rounding),
// then scaling, as PyTorch does.
func xhatRow[T Float](dst, x []T, mean, invstd T) {
	vec.Axpb(dst, x, 1, -mean)
	vec.Scale(dst, dst, invstd)
}

func (t *bnTask[T]) Do(it int) {
	c, hw := t.c, t.hw
	switch t.op {
	case bnSums:
		ch := it
		xh := t.scratch[it*hw : (it+1)*hw]
		var s, d float64
		for i := 0; i < t.n; i++ {
			o := (i*c + ch) * hw
			g := t.dy[o : o+hw]
			if t.mask != nil {
				vec.ReluBackward(t.g[o:o+hw], g, t.mask[o:o+hw])
				g = t.g[o : o+hw]
			}
			xhatRow(xh, t.x[o:o+hw], t.mean[ch], t.invstd[ch])
			s += rowSum(g)
			d += rowDot(g, xh)
		}
		t.sdy[ch], t.sdyx[ch] = T(s), T(d)
		return
	}
	lo, hi := it*t.per, min((it+1)*t.per, t.n)
	if t.op == bnApply {
		for img := lo; img < hi; img++ {
			t.Apply(img, 0, c)
		}
		return
	}
	for r := lo * c; r < hi*c; r++ {
		ch := r % c
		o := r * hw
		xh := t.scratch[it*hw : (it+1)*hw]
		xhatRow(xh, t.x[o:o+hw], t.mean[ch], t.invstd[ch])
		vec.Axpbyc(t.dx[o:o+hw], t.g[o:o+hw], xh, t.ca[ch], t.cb[ch], t.cc[ch])
	}
}

// Apply runs the bnApply pass (xhat, the affine map, the residual add and
// the ReLU in one pass) on channels [c0, c1) of image img: the task is the
// epilogue of the convolution that produces its input
// (conv.Epilogue).
func (t *bnTask[T]) Apply(img, c0, c1 int) {
	if c1 <= c0 {
		return
	}
	hw := t.hw
	o0, o1 := (img*t.c+c0)*hw, (img*t.c+c1)*hw
	var res []T
	if t.res != nil {
		res = t.res[o0:o1]
	}
	vec.BNApplyRows(t.y[o0:o1], t.x[o0:o1], res, hw, t.mean[c0:c1], t.invstd[c0:c1], t.gamma[c0:c1], t.beta[c0:c1], t.relu)
}

// runImages runs an image-split op; it returns after all items are done.
func (t *bnTask[T]) runImages() {
	items := 1
	if t.n*t.c*t.hw >= parMin {
		// a few items per thread: the pool hands them out as threads free
		// up, which evens out threads slowed by other processes
		items = min(4*parallel.Threads(), t.n)
	}
	t.per = (t.n + items - 1) / items
	items = (t.n + t.per - 1) / t.per
	if t.op == bnDx {
		t.scratch = grow(t.scratch, items*t.hw)
	}
	if items <= 1 {
		t.Do(0)
	} else {
		parallel.Run(items, t)
	}
}

// runChannels runs the channel-split reduction.
func (t *bnTask[T]) runChannels() {
	t.scratch = grow(t.scratch, t.c*t.hw)
	if t.n*t.c*t.hw >= parMin && t.c > 1 {
		parallel.Run(t.c, t)
	} else {
		for ch := 0; ch < t.c; ch++ {
			t.Do(ch)
		}
	}
}

func (t *bnTask[T]) release() {
	t.x, t.y, t.res, t.mask, t.dy, t.g, t.dx = nil, nil, nil, nil, nil, nil, nil
	t.mean, t.invstd, t.gamma, t.beta = nil, nil, nil, nil
}
