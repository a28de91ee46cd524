package nn

import (
	"math"
	"slices"

	"repdyn/lib/internal/vec"
)

// BatchNorm normalizes each channel of [N, C, H, W] (BatchNorm2d) or [N, C]
// / [N, C, L] (BatchNorm1d) inputs, with PyTorch semantics:
//
//   - Train: y = gamma*(x-mean_B)/sqrt(var_B+eps)+beta with the batch mean and
//     biased batch variance over N*H*W; running_mean/var are updated as
//     r = (1-momentum)*r + momentum*stat with the UNBIASED batch variance
//     (var_B*M/(M-1)); num_batches_tracked is incremented.
//   - BatchStats: as Train but the running statistics are not touched.
//   - Eval: the running statistics are used (an affine map per channel).
//
// Backward in Train/BatchStats includes the dependence of mean_B and var_B on
// every example of the batch (the loss depends on the whole batch).
type BatchNorm[T Float] struct {
	name     string
	kindName string
	C        int
	Eps      float64 // 1e-5
	Momentum float64 // 0.1
	Weight   *Param[T]
	Bias     *Param[T]

	RunningMean, RunningVar, NumBatchesTracked *Buffer[T]

	ishp                  []int
	mode                  Mode
	x                     *Tensor[T] // input of the last forward pass
	relu                  bool       // the last forward pass applied a ReLU
	xhat                  []T        // normalized input, filled by fillXhat for the JVP
	xhatOK                bool
	invstd                []T // per channel
	mean, vari            []T // per-channel scratch
	sdy, sdyx, ca, cb, cc []T
	out, dx               buf[T]
	ps                    []*Param[T]
	bs                    []*Buffer[T]
	tan                   buf[T] // forward-mode tangent of the output
	task                  bnTask[T]
}

// NewBatchNorm2d returns batch norm over the channels of NCHW inputs, with
// weight 1, bias 0, running mean 0, running variance 1 (PyTorch's init).
func NewBatchNorm2d[T Float](name string, c int) *BatchNorm[T] {
	return newBN[T](name, "BatchNorm2d", c)
}

// NewBatchNorm1d returns batch norm over the features of [N, C] (or [N, C, L]) inputs.
func NewBatchNorm1d[T Float](name string, c int) *BatchNorm[T] {
	return newBN[T](name, "BatchNorm1d", c)
}

func newBN[T Float](name, kind string, c int) *BatchNorm[T] {
	b := &BatchNorm[T]{name: name, kindName: kind, C: c, Eps: 1e-5, Momentum: 0.1}
	b.Weight = paramNew[T](name, "weight", true, c)
	b.Bias = paramNew[T](name, "bias", true, c)
	for i := range b.Weight.Data {
		b.Weight.Data[i] = 1
	}
	b.RunningMean = &Buffer[T]{Name: joinName(name, "running_mean"), Shape: []int{c}, Data: make([]T, c)}
	b.RunningVar = &Buffer[T]{Name: joinName(name, "running_var"), Shape: []int{c}, Data: make([]T, c)}
	for i := range b.RunningVar.Data {
		b.RunningVar.Data[i] = 1
	}
	b.NumBatchesTracked = &Buffer[T]{Name: joinName(name, "num_batches_tracked"), Shape: []int{}, Data: make([]T, 1)}
	return b
}

func (b *BatchNorm[T]) Name() string { return b.name }
func (b *BatchNorm[T]) Params() []*Param[T] {
	if b.ps == nil {
		b.ps = []*Param[T]{b.Weight, b.Bias}
	}
	return b.ps
}

func (b *BatchNorm[T]) Buffers() []*Buffer[T] {
	if b.bs == nil {
		b.bs = []*Buffer[T]{b.RunningMean, b.RunningVar, b.NumBatchesTracked}
	}
	return b.bs
}

func (b *BatchNorm[T]) OutShape(in []int) ([]int, error) {
	ok := len(in) >= 2 && in[1] == b.C
	if b.kindName == "BatchNorm2d" {
		ok = ok && len(in) == 4
	} else {
		ok = ok && len(in) <= 3
	}
	if !ok {
		want := "[N %d H W]"
		if b.kindName != "BatchNorm2d" {
			want = "[N %d] or [N %d L]"
			return nil, layerError(b.kindName, b.name, "input shape %v, want "+want, in, b.C, b.C)
		}
		return nil, layerError(b.kindName, b.name, "input shape %v, want "+want, in, b.C)
	}
	return in, nil
}

// geom returns batch N, channels C, spatial size S of the saved input.
func (b *BatchNorm[T]) geom() (int, int, int) {
	return b.ishp[0], b.ishp[1], prod(b.ishp[2:])
}

func (b *BatchNorm[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	return b.forwardFused(x, mode, nil, false)
}

// forwardFused computes relu?(bn(x) + res?) into the layer's output (res nil:
// no residual). Backward still differentiates batch norm alone;
// backwardInto differentiates through the ReLU.
func (b *BatchNorm[T]) forwardFused(x *Tensor[T], mode Mode, res *Tensor[T], relu bool) (*Tensor[T], error) {
	y, err := b.setup(x, mode, res, relu)
	if err != nil {
		return nil, err
	}
	b.task.runImages()
	b.finish(mode)
	return y, nil
}

// setup is forwardFused up to the pass over the data: it checks the shapes,
// computes the statistics (in train mode from x, which must hold its
// values; in eval mode from the running averages only) and readies b.task,
// whose bnApply pass (runImages, or Apply part by part) then writes the
// returned output. finish ends the pass.
func (b *BatchNorm[T]) setup(x *Tensor[T], mode Mode, res *Tensor[T], relu bool) (*Tensor[T], error) {
	os, err := b.OutShape(shapeOf(x))
	if err != nil {
		return nil, err
	}
	N, C, S := os[0], os[1], prod(os[2:])
	M := N * S
	if mode == Train && M < 2 {
		return nil, layerError(b.kindName, b.name, "train mode needs more than 1 value per channel, got input shape %v", os)
	}
	var rs []T
	if res != nil {
		if !slices.Equal(shapeOf(res), os) {
			return nil, layerError(b.kindName, b.name, "residual shape %v does not match output shape %v", shapeOf(res), os)
		}
		rs = dataOf(res)
	}
	b.ishp = append(b.ishp[:0], os...)
	b.mode = mode
	b.x, b.relu = x, relu
	b.xhatOK = false
	y := b.out.get(os...)
	xs, ys := dataOf(x), dataOf(y)
	b.invstd = grow(b.invstd, C)
	b.mean = grow(b.mean, C)
	b.vari = grow(b.vari, C)
	if mode == Eval {
		copy(b.mean, b.RunningMean.Data)
		copy(b.vari, b.RunningVar.Data)
	} else {
		vec.ChannelMeanVar(xs, N, C, S, b.mean, b.vari, 0)
	}
	m := b.Momentum
	for c := 0; c < C; c++ {
		mean, variance := float64(b.mean[c]), float64(b.vari[c])
		is := 1 / math.Sqrt(variance+b.Eps)
		b.invstd[c] = T(is)
		if mode == Train {
			unb := variance * float64(M) / float64(M-1)
			b.RunningMean.Data[c] = T((1-m)*float64(b.RunningMean.Data[c]) + m*mean)
			b.RunningVar.Data[c] = T((1-m)*float64(b.RunningVar.Data[c]) + m*unb)
		}
	}
	t := &b.task
	t.op, t.x, t.y, t.res, t.relu = bnApply, xs, ys, rs, relu
	t.n, t.c, t.hw = N, C, S
	t.mean, t.invstd, t.gamma, t.beta = b.mean, b.invstd, b.Weight.Data, b.Bias.Data
	return y, nil
}

// finish ends the pass readied by setup.
func (b *BatchNorm[T]) finish(mode Mode) {
	b.task.release()
	if mode == Train {
		b.NumBatchesTracked.Data[0]++
	}
}

// fillXhat stores the normalized input of the last forward pass in b.xhat
// (for the forward-mode JVP, which reads it element by element).
func (b *BatchNorm[T]) fillXhat() {
	if b.xhatOK {
		return
	}
	N, C, S := b.geom()
	xs := dataOf(b.x)
	b.xhat = grow(b.xhat, len(xs))
	for r := 0; r < N*C; r++ {
		xhatRow(b.xhat[r*S:(r+1)*S], xs[r*S:(r+1)*S], b.mean[r%C], b.invstd[r%C])
	}
	b.xhatOK = true
}

func (b *BatchNorm[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if err := checkGrad(b.kindName, b.name, dy, b.out.shape); err != nil {
		return nil, err
	}
	dx := b.dx.get(b.ishp...)
	if err := b.backwardInto(dataOf(dy), false, nil, dataOf(dx)); err != nil {
		return nil, err
	}
	return dx, nil
}

// backwardInto writes dx for the upstream gradient dy into dst. With relu
// (the last forward must have been forwardFused with relu), dy is the
// gradient of the ReLU's output: g = dy*[out > 0] is written to g (it may be
// dy or dst) and batch norm is differentiated at g.
func (b *BatchNorm[T]) backwardInto(dy []T, relu bool, g, dst []T) error {
	if b.out.shape == nil {
		return layerError(b.kindName, b.name, "Backward before Forward")
	}
	if relu && !b.relu {
		return layerError(b.kindName, b.name, "fused ReLU backward after a forward pass without ReLU")
	}
	n := len(dataOf(b.out.t))
	if len(dy) != n || len(dst) != n || (relu && len(g) != n) {
		return layerError(b.kindName, b.name, "gradient slices of %d, %d, %d values, want %d", len(dy), len(g), len(dst), n)
	}
	N, C, S := b.geom()
	M := T(N * S)
	b.sdy = grow(b.sdy, C)
	b.sdyx = grow(b.sdyx, C)
	b.ca = grow(b.ca, C)
	b.cb = grow(b.cb, C)
	b.cc = grow(b.cc, C)
	t := &b.task
	t.x, t.dy, t.n, t.c, t.hw = dataOf(b.x), dy, N, C, S
	t.mean, t.invstd, t.sdy, t.sdyx = b.mean, b.invstd, b.sdy, b.sdyx
	t.op, t.mask, t.g = bnSums, nil, nil
	if relu {
		t.mask, t.g = dataOf(b.out.t), g
	}
	t.runChannels()
	if relu {
		dy = g
	}
	for c := 0; c < C; c++ {
		b.Weight.Grad[c] += b.sdyx[c]
		b.Bias.Grad[c] += b.sdy[c]
		a := b.Weight.Data[c] * b.invstd[c]
		b.ca[c] = a
		if b.mode == Eval {
			b.cb[c], b.cc[c] = 0, 0
		} else {
			// dx = gamma*invstd * (dy - mean(dy) - xhat*mean(dy*xhat))
			b.cb[c] = -a * b.sdyx[c] / M
			b.cc[c] = -a * b.sdy[c] / M
		}
	}
	t.op, t.g, t.dx = bnDx, dy, dst
	t.ca, t.cb, t.cc = b.ca, b.cb, b.cc
	t.runImages()
	t.release()
	return nil
}
