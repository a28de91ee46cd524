package nn

import (
	"fmt"
	"math"
	"slices"
)

// CrossEntropy is softmax cross-entropy on logits [N, K] with integer class
// labels, mean over the batch, with optional label smoothing, as PyTorch's
// F.cross_entropy(logits, labels, label_smoothing=Smoothing): the target of
// example i is q = (1-s)*onehot(y_i) + s/K and the loss is
// (1/N) sum_i sum_k -q_k log softmax(z_i)_k. Computations run in float64.
type CrossEntropy[T Float] struct {
	Smoothing float64
	grad      buf[T]
}

// Forward returns the loss and dLoss/dlogits = (softmax(z) - q)/N (a tensor
// owned by the loss, valid until its next call).
func (l *CrossEntropy[T]) Forward(logits *Tensor[T], labels []int) (float64, *Tensor[T], error) {
	shp := shapeOf(logits)
	if len(shp) != 2 || shp[0] != len(labels) {
		return 0, nil, fmt.Errorf("nn.CrossEntropy: logits shape %v, want [N K] with N = %d labels", shp, len(labels))
	}
	g := l.grad.get(shp...)
	loss, err := SoftmaxCrossEntropy(dataOf(logits), shp[0], shp[1], labels, l.Smoothing, dataOf(g))
	return loss, g, err
}

// SoftmaxCrossEntropy is CrossEntropy on plain slices: z is n x k row-major;
// dz (if not nil) receives dLoss/dz.
func SoftmaxCrossEntropy[T Float](z []T, n, k int, labels []int, smoothing float64, dz []T) (float64, error) {
	if len(z) != n*k || len(labels) != n || (dz != nil && len(dz) != n*k) {
		return 0, fmt.Errorf("nn.SoftmaxCrossEntropy: %d logits, %d labels, want %d x %d", len(z), len(labels), n, k)
	}
	if smoothing < 0 || smoothing > 1 {
		return 0, fmt.Errorf("nn.SoftmaxCrossEntropy: label smoothing %v not in [0, 1]", smoothing)
	}
	var total float64
	off := smoothing / float64(k)
	for i := 0; i < n; i++ {
		y := labels[i]
		if y < 0 || y >= k {
			return 0, fmt.Errorf("nn.SoftmaxCrossEntropy: label %d of example %d not in [0, %d)", y, i, k)
		}
		zi := z[i*k : (i+1)*k]
		m := math.Inf(-1)
		for _, v := range zi {
			m = max(m, float64(v))
		}
		var s float64
		for _, v := range zi {
			s += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(s)
		for j, v := range zi {
			q := off
			if j == y {
				q += 1 - smoothing
			}
			lp := float64(v) - lse
			total -= q * lp
			if dz != nil {
				dz[i*k+j] = T((math.Exp(lp) - q) / float64(n))
			}
		}
	}
	return total / float64(n), nil
}

// MSE is the mean squared error over all elements, as PyTorch's
// F.mse_loss(pred, target) (reduction "mean"): loss = mean((pred-target)^2),
// dLoss/dpred = 2 (pred-target) / numel.
type MSE[T Float] struct {
	grad buf[T]
}

// Forward returns the loss and its gradient (owned by the loss).
func (l *MSE[T]) Forward(pred, target *Tensor[T]) (float64, *Tensor[T], error) {
	if !slices.Equal(shapeOf(pred), shapeOf(target)) {
		return 0, nil, fmt.Errorf("nn.MSE: prediction shape %v does not match target shape %v", shapeOf(pred), shapeOf(target))
	}
	g := l.grad.get(shapeOf(pred)...)
	p, t, gs := dataOf(pred), dataOf(target), dataOf(g)
	var s float64
	n := float64(len(p))
	for i, v := range p {
		d := float64(v) - float64(t[i])
		s += d * d
		gs[i] = T(2 * d / n)
	}
	return s / n, g, nil
}
