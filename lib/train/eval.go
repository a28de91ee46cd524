package train

import (
	"context"
	"fmt"
	"unsafe"

	"repdyn/lib/data"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// Loss is a loss on a batch of logits with integer labels, returning the
// mean loss and its gradient with respect to the logits (owned by the loss).
// *nn.CrossEntropy implements it.
type Loss[T nn.Float] interface {
	Forward(logits *tensor.Tensor[T], labels []int) (float64, *tensor.Tensor[T], error)
}

// batchInput converts a data batch into a model input tensor and labels,
// reusing buf and lab.
func batchInput[T nn.Float](b *data.Batch, buf *[]T, lab *[]int) (*tensor.Tensor[T], []int, error) {
	var x *tensor.Tensor[T]
	var err error
	var z T
	if unsafe.Sizeof(z) == 4 {
		// T is float32 (or a type defined on it): use the batch's memory.
		imgs := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b.Images))), len(b.Images))
		x, err = tensor.FromSlice(imgs, b.B, b.C, b.H, b.W)
	} else {
		if cap(*buf) < len(b.Images) {
			*buf = make([]T, len(b.Images))
		}
		d := (*buf)[:len(b.Images)]
		for i, v := range b.Images {
			d[i] = T(v)
		}
		x, err = tensor.FromSlice(d, b.B, b.C, b.H, b.W)
	}
	if err != nil {
		return nil, nil, err
	}
	l := (*lab)[:0]
	for _, y := range b.Labels {
		l = append(l, int(y))
	}
	*lab = l
	return x, l, nil
}

// correct counts the rows of logits [n, k] whose arg-max is the label.
func correct[T nn.Float](logits *tensor.Tensor[T], labels []int) int {
	sh := logits.Shape()
	if len(sh) != 2 {
		return 0
	}
	n, k := sh[0], sh[1]
	d := logits.Contiguous().Data()
	c := 0
	for i := 0; i < n; i++ {
		row := d[i*k : (i+1)*k]
		best := 0
		for j := 1; j < k; j++ {
			if row[j] > row[best] {
				best = j
			}
		}
		if best == labels[i] {
			c++
		}
	}
	return c
}

// Evaluate computes the mean cross-entropy loss and the accuracy of m (in
// Eval mode) on ds, in batches of batchSize, normalising the images with
// norm if it is not nil. When ctx is canceled it stops at once, waits for
// the batch in flight and returns ctx's cause.
func Evaluate[T nn.Float](ctx context.Context, m nn.Module[T], ds *data.Dataset, batchSize int, norm *data.Stats) (loss, acc float64, err error) {
	loss, acc, drain, err := evaluate(ctx, m, ds, batchSize, norm)
	if drain != nil {
		drain()
	}
	return loss, acc, err
}

type evalOut[T nn.Float] struct {
	loss    float64
	correct int
	err     error
}

// evaluate is Evaluate without the final wait: when ctx is canceled it
// returns at once with a drain function that waits for the forward pass
// still running on the model (it only reads parameters and buffers, so a
// checkpoint may be written meanwhile).
func evaluate[T nn.Float](ctx context.Context, m nn.Module[T], ds *data.Dataset, batchSize int, norm *data.Stats) (loss, acc float64, drain func(), err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if ds == nil || ds.N == 0 {
		return 0, 0, nil, fmt.Errorf("train.Evaluate: empty dataset")
	}
	if batchSize <= 0 {
		batchSize = 256
	}
	ld, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: batchSize, Augment: normOnly(norm)})
	if err != nil {
		return 0, 0, nil, err
	}
	var ce nn.CrossEntropy[T]
	var buf []T
	var lab []int
	var total float64
	n, c := 0, 0
	done := make(chan evalOut[T], 1)
	for {
		if ctx.Err() != nil {
			ld.Close()
			return 0, 0, nil, context.Cause(ctx)
		}
		b, ok := ld.Next()
		if !ok {
			break
		}
		x, labels, err := batchInput(b, &buf, &lab)
		if err != nil {
			ld.Close()
			return 0, 0, nil, err
		}
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- evalOut[T]{err: fmt.Errorf("train.Evaluate: forward panicked: %v", r)}
				}
			}()
			y, err := m.Forward(x, nn.Eval)
			if err != nil {
				done <- evalOut[T]{err: err}
				return
			}
			l, _, err := ce.Forward(y, labels)
			done <- evalOut[T]{loss: l, correct: correct(y, labels), err: err}
		}()
		var o evalOut[T]
		select {
		case o = <-done:
		case <-ctx.Done():
			return 0, 0, func() { <-done; ld.Close() }, context.Cause(ctx)
		}
		if o.err != nil {
			ld.Close()
			return 0, 0, nil, o.err
		}
		total += o.loss * float64(b.B)
		c += o.correct
		n += b.B
		ld.Recycle(b)
	}
	ld.Close()
	return total / float64(n), float64(c) / float64(n), nil, nil
}

func normOnly(norm *data.Stats) *data.Augment {
	if norm == nil {
		return nil
	}
	return &data.Augment{Norm: norm}
}
