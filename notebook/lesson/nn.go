package lesson

import (
	"fmt"
	"os"

	"repdyn/lib/linalg"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
	"repdyn/lib/theory"
	"repdyn/notebook/cache"
	"repdyn/notebook/show"
)

// Params returns the Data slices of m's parameters, in Params() order: GD
// updates them in place.
func Params(m nn.Module[float64]) [][]float64 {
	var ps [][]float64
	for _, p := range m.Params() {
		ps = append(ps, p.Data)
	}
	return ps
}

// Inputs wraps n x d row-major numbers as a float64 tensor [n, d].
func Inputs(x []float64, n, d int) *tensor.Tensor[float64] {
	return tensor.Must(tensor.FromSlice(x, n, d))
}

// SquaredLoss returns the closure GD calls: L = ||f_X - y||^2 / n and its
// gradient (2/n) J^T r, computed matrix-free by one backward pass
// (theory.JTu), batch norm (if any) in eval mode.
func SquaredLoss(m nn.Module[float64], x *tensor.Tensor[float64], y []float64) func() (float64, []float64, error) {
	return func() (float64, []float64, error) {
		out, _, err := theory.Outputs(m, x, nn.Eval)
		if err != nil {
			return 0, nil, err
		}
		n := float64(x.Shape()[0])
		r := Sub(out, y)
		g, err := theory.JTu(m, x, Scale(2/n, r), theory.JacobianOptions{Mode: nn.Eval, Workers: 1})
		return Dot(r, r) / n, g, err
	}
}

// Jacobian is the explicit float64 Jacobian of m on x (batch norm, if any,
// in eval mode).
func Jacobian(m nn.Module[float64], x *tensor.Tensor[float64]) (*theory.Jacobian, error) {
	return theory.ComputeJacobian(m, x, theory.JacobianOptions{Mode: nn.Eval, Workers: 1})
}

// exit is os.Exit, replaceable in tests.
var exit = os.Exit

// Must returns v, or ends the cell with err as one line on stderr (no stack
// trace) when err is not nil.
func Must[T any](v T, err error) T {
	if err != nil {
		show.Flush()
		fmt.Fprintln(os.Stderr, "error:", err)
		exit(1)
	}
	return v
}

// Check ends the cell with err as one line on stderr when it is not nil
// (Must for calls that return only an error).
func Check(err error) { Must(0, err) }

// Key is the cache key of a result computed in a notebook: its name, its
// configuration and the size (REPDYN_SIZE). cache.Memo adds the cell's code,
// the library and module versions and the kernel level.
func Key(name string, cfg any) cache.Key {
	return Must(cache.KeyOf(name, cfg, Size()))
}

// Must2 is Must for functions with two results.
func Must2[A, B any](a A, b B, err error) (A, B) {
	Check(err)
	return a, b
}

// StepSize returns c * n / sigma_max(J)^2 for the Jacobian J of m on the n
// rows of x: c = 0.5 is a safe full-batch step for the mean squared loss
// near the current point (its curvature is at most 2 sigma_max^2 / n).
func StepSize(m nn.Module[float64], x *tensor.Tensor[float64], c float64) (float64, error) {
	J, err := Jacobian(m, x)
	if err != nil {
		return 0, err
	}
	sv, err := linalg.SVDOf(J.Data, J.N, J.D)
	if err != nil {
		return 0, err
	}
	return c * float64(x.Shape()[0]) / (sv.Singular[0] * sv.Singular[0]), nil
}

// LogRecord records on the logarithmic schedule LogTicks(steps) and every
// every-th step (every <= 0: only the logarithmic schedule): a
// DescentConfig.Record.
func LogRecord(steps, every int) func(step int) bool {
	ticks := map[int]bool{}
	for _, t := range LogTicks(steps) {
		ticks[t] = true
	}
	return func(s int) bool { return ticks[s] || (every > 0 && s%every == 0) }
}

// Rho is the alignment residual rho_tau = ||(I - U_r U_r^T) y|| / ||y|| of
// y against J at tau = 1e-8 and the rank r kept there (theory.DAA).
func Rho(J *theory.Jacobian, y []float64) (rho float64, rank int, err error) {
	rep, err := theory.DAA(J, y, theory.DAAOptions{Taus: []float64{1e-8}})
	if err != nil {
		return 0, 0, err
	}
	t := rep.PerTau[0]
	return t.Rho, t.Rank, nil
}
