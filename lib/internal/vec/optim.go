package vec

import "math"

// SGDStep is one step of PyTorch's torch.optim.SGD on one parameter slice,
// fused into a single loop:
//
//	g = grad + weightDecay*p
//	if momentum != 0:
//	    buf = g                                  (first step)
//	    buf = momentum*buf + (1-dampening)*g     (later steps)
//	    g = g + momentum*buf if nesterov else buf
//	p -= lr*g
//
// buf must have len(p) elements when momentum != 0 (it is ignored otherwise).
func SGDStep[T Float](p, grad, buf []T, lr, momentum, dampening, weightDecay T, nesterov, first bool) {
	checkLen("SGDStep", len(p), len(grad))
	grad = grad[:len(p)]
	if momentum == 0 {
		for i, g := range grad {
			g += weightDecay * p[i]
			p[i] -= lr * g
		}
		return
	}
	checkLen("SGDStep", len(p), len(buf))
	buf = buf[:len(p)]
	for i, g := range grad {
		g += weightDecay * p[i]
		b := g
		if !first {
			b = momentum*buf[i] + (1-dampening)*g
		}
		buf[i] = b
		if nesterov {
			g += momentum * b
		} else {
			g = b
		}
		p[i] -= lr * g
	}
}

// AdamStep is one step of PyTorch's torch.optim.Adam (decoupled=false) or
// torch.optim.AdamW (decoupled=true) on one parameter slice, fused into a
// single loop; step counts from 1:
//
//	AdamW: p *= 1 - lr*weightDecay;   Adam: g = grad + weightDecay*p
//	m = beta1*m + (1-beta1)*g
//	v = beta2*v + (1-beta2)*g*g
//	p -= lr/(1-beta1^step) * m / (sqrt(v)/sqrt(1-beta2^step) + eps)
func AdamStep[T Float](p, grad, m, v []T, step int, lr, beta1, beta2, eps, weightDecay T, decoupled bool) {
	checkLen("AdamStep", len(p), len(grad))
	checkLen("AdamStep", len(p), len(m))
	checkLen("AdamStep", len(p), len(v))
	if step < 1 {
		panic("vec.AdamStep: step must be >= 1, got " + itoa(step))
	}
	grad, m, v = grad[:len(p)], m[:len(p)], v[:len(p)]
	bc1 := 1 - math.Pow(float64(beta1), float64(step))
	bc2 := 1 - math.Pow(float64(beta2), float64(step))
	stepSize := T(float64(lr) / bc1)
	invSqrtBC2 := T(1 / math.Sqrt(bc2))
	decay := T(1)
	if decoupled {
		decay = 1 - lr*weightDecay
	}
	for i, g := range grad {
		pi := p[i]
		if decoupled {
			pi *= decay
		} else {
			g += weightDecay * pi
		}
		mi := beta1*m[i] + (1-beta1)*g
		vi := beta2*v[i] + (1-beta2)*g*g
		m[i], v[i] = mi, vi
		denom := T(math.Sqrt(float64(vi)))*invSqrtBC2 + eps
		p[i] = pi - stepSize*mi/denom
	}
}
