package nn

import "repdyn/lib/conv"

// Dispatch of Conv2d's kernels to lib/conv (the private im2col + GEMM
// reference in conv_fallback.go runs when useRefConv is set; tests compare
// the two).

var useRefConv = false

func (g convGeom) params() conv.Params {
	return conv.New(g.N, g.Cin, g.H, g.W, g.Cout, g.K, g.Stride, g.Pad).WithDilation(g.Dil)
}

// forward computes y = conv(x, wt) + b + beta*y (beta 0 or 1).
func (w *convWork[T]) forward(g convGeom, x, wt, b, y []T, beta T) error {
	return w.forwardThen(g, x, wt, b, y, beta, nil)
}

// forwardThen is forward followed by the epilogue ep (nil: none).
func (w *convWork[T]) forwardThen(g convGeom, x, wt, b, y []T, beta T, ep conv.Epilogue) error {
	if useRefConv {
		if err := w.refForward(g, x, wt, b, y, beta); err != nil {
			return err
		}
		if ep != nil {
			for img := 0; img < g.N; img++ {
				ep.Apply(img, 0, g.Cout)
			}
		}
		return nil
	}
	return conv.ForwardThen(g.params(), y, x, wt, b, beta, ep)
}

// backwardWeights ADDS the weight (and bias) gradients into dw (db).
func (w *convWork[T]) backwardWeights(g convGeom, x, dy, dw, db []T) error {
	if useRefConv {
		return w.refBackwardWeights(g, x, dy, dw, db)
	}
	return conv.BackwardWeights(g.params(), dw, db, dy, x, 1)
}

func (w *convWork[T]) backwardData(g convGeom, dy, wt, dx []T) error {
	return w.backwardDataBeta(g, dy, wt, dx, 0)
}

// backwardDataBeta computes dx = conv^T(dy) + beta*dx (beta 0 or 1).
func (w *convWork[T]) backwardDataBeta(g convGeom, dy, wt, dx []T, beta T) error {
	if useRefConv {
		return w.refBackwardData(g, dy, wt, dx, beta)
	}
	return conv.BackwardData(g.params(), dx, dy, wt, beta)
}
