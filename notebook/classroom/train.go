package classroom

import (
	"fmt"
	"math"

	"repdyn/lib/linalg"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
	"repdyn/lib/theory"
	"repdyn/notebook/lesson"
)

// Descent is the record of a full-batch gradient descent on the squared loss.
type Descent struct {
	Loss     []float64 // L(theta_t) = ||g_X - y||^2 / n at every step t = 0..Steps
	GradNorm []float64 // ||grad L(theta_t)||
	LR       float64
}

// Descend runs steps of full-batch gradient descent on the squared loss
// L = ||g_X - y||^2 / n of the output-scaled, centred model
// g = alpha (f - f_0) (f_0 the outputs at the start; alpha = 1 and
// centred = false give plain f), updating m's parameters in place. The step is
// lr0 n / (2 alpha^2 sigma_max(J_0)^2) (lr0 = 1 is the largest stable step
// of the linearized model), so that every alpha follows the same
// function-space dynamics to first order (the lazy limit).
func Descend(m nn.Module[float64], x *tensor.Tensor[float64], y []float64, alpha float64, centred bool, lr0 float64, steps int) (*Descent, error) {
	J0, err := lesson.Jacobian(m, x)
	if err != nil {
		return nil, err
	}
	sv, err := linalg.SVDOf(J0.Data, J0.N, J0.D)
	if err != nil {
		return nil, err
	}
	n := float64(x.Shape()[0])
	f0 := make([]float64, len(J0.Yhat))
	if centred {
		copy(f0, J0.Yhat)
	}
	lr := lr0 * n / (2 * alpha * alpha * sv.Singular[0] * sv.Singular[0])
	var ps [][]float64
	for _, p := range m.Params() {
		ps = append(ps, p.Data)
	}
	d := &Descent{LR: lr}
	_, err = lesson.GD(ps, func() (float64, []float64, error) {
		out, _, err := theory.Outputs(m, x, nn.Eval)
		if err != nil {
			return 0, nil, err
		}
		if len(out) != len(y) {
			return 0, nil, fmt.Errorf("classroom.Descend: %d outputs, %d targets", len(out), len(y))
		}
		r := make([]float64, len(out))
		for i := range out {
			r[i] = alpha*(out[i]-f0[i]) - y[i]
		}
		g, err := theory.JTu(m, x, lesson.Scale(2*alpha/n, r), theory.JacobianOptions{Mode: nn.Eval, Workers: 1})
		loss := lesson.Dot(r, r) / n
		d.Loss = append(d.Loss, loss)
		d.GradNorm = append(d.GradNorm, lesson.Norm(g))
		return loss, g, err
	}, lesson.DescentConfig{LR: lr, Steps: steps, Record: func(int) bool { return false }})
	if err != nil {
		return nil, err
	}
	if last := d.Loss[len(d.Loss)-1]; math.IsNaN(last) {
		return nil, fmt.Errorf("classroom.Descend: loss NaN")
	}
	return d, nil
}
