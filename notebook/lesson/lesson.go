// Package lesson holds the code shared by the repdyn notebooks 01-08 that
// teach our formal versions of the claims of Kawaguchi, Zhang & Deng,
// "Understanding Dynamics of Nonlinear Representation Learning and Its
// Application" (arXiv:2106.14836), as written in shared/THEORY.md: the size
// setting (REPDYN_SIZE), claim verdicts that `repdyn claims` can read back from
// executed notebooks, small float64 data sets, and full-batch gradient descent
// on the squared and cross-entropy losses with the measurements the notebooks
// chart (loss, gradient, the Polyak-Lojasiewicz ratio of R5, kernel drift).
//
// Everything here is deterministic (seeded) and small enough to be unit-tested
// with go test.
package lesson

import (
	"fmt"
	"math"
	"os"
	"strings"

	"math/rand/v2"

	"repdyn/lib/marker"
	"repdyn/notebook/show"
)

// Size is the experiment size chosen by the environment variable REPDYN_SIZE:
// "ci" (every notebook in about a minute), "default" (a few minutes per
// notebook on a 2-core machine) or "full" (the real experiments). Anything
// else, or unset, is "default".
func Size() string {
	switch s := strings.ToLower(strings.TrimSpace(os.Getenv("REPDYN_SIZE"))); s {
	case "ci", "full":
		return s
	}
	return "default"
}

// Pick returns the value for the current Size.
func Pick[T any](ci, def, full T) T {
	switch Size() {
	case "ci":
		return ci
	case "full":
		return full
	}
	return def
}

// ClaimMarker starts the machine-readable line a claim verdict prints to
// stdout: "REPDYN-CLAIM C3 PASS | title | name = value op threshold | ...".
// `repdyn claims` reads it from executed notebooks (owner: repdyn/lib/marker).
const ClaimMarker = marker.Claim

// ClaimLine is the one-line machine-readable record of a claim verdict.
func ClaimLine(id string, v *show.Verdicts) string {
	c := marker.ClaimLine{ID: id, Pass: v.Passed(), Title: v.Title}
	for _, k := range v.Checks {
		op := k.Op
		if op == "" {
			op = "<="
		}
		mark := ""
		if !k.Pass() {
			mark = " (FAILED)"
		}
		c.Checks = append(c.Checks, fmt.Sprintf("%s = %.4g %s %.4g%s", k.Name, k.Value, op, k.Threshold, mark))
	}
	return c.String()
}

// Claim shows the verdict table of a cell that reproduces claim id (C1..C7),
// prints its ClaimLine and the verdict marker; a failed check fails the cell
// (exit status 1) under REPDYN_STRICT=1 and is a red row otherwise
// (show.Verdicts.Assert).
func Claim(id string, v *show.Verdicts) {
	fmt.Println(ClaimLine(id, v))
	v.Assert()
}

// Gaussian returns n*d standard normal numbers from seed (row-major n x d).
func Gaussian(n, d int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	x := make([]float64, n*d)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

// Targets returns n*m standard normal targets (stacked, example-major), from
// a stream independent of Gaussian's for the same seed.
func Targets(n, m int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x7a4e7))
	y := make([]float64, n*m)
	for i := range y {
		y[i] = r.NormFloat64()
	}
	return y
}

// Labels returns n integer labels in [0, k) from seed.
func Labels(n, k int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 0x1abe1))
	l := make([]int, n)
	for i := range l {
		l[i] = r.IntN(k)
	}
	return l
}

// Norm is the Euclidean norm.
func Norm(v []float64) float64 {
	s := 0.0
	for _, a := range v {
		s += a * a
	}
	return math.Sqrt(s)
}

// Sub returns a - b.
func Sub(a, b []float64) []float64 {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}

// Point is one recorded step of a descent.
type Point struct {
	Step     int
	Loss     float64
	GradNorm float64 // ||grad L||
	Extra    map[string]float64
}

// Run is a recorded descent.
type Run struct {
	Points []Point
	Final  Point // the last step (also the last of Points)
}

// Series returns the recorded values of one quantity: "loss", "grad" or a key
// of Extra, against the step.
func (r *Run) Series(name string) (x, y []float64) {
	for _, p := range r.Points {
		var v float64
		switch name {
		case "loss":
			v = p.Loss
		case "grad":
			v = p.GradNorm
		default:
			var ok bool
			if v, ok = p.Extra[name]; !ok {
				continue
			}
		}
		x = append(x, float64(p.Step))
		y = append(y, v)
	}
	return x, y
}

// DescentConfig configures GD.
type DescentConfig struct {
	LR    float64
	Steps int
	// Record says whether step is recorded (nil: every 10th step); the first
	// and last steps are always recorded.
	Record func(step int) bool
	// Measure, if set, is called at every recorded step with the Point (its
	// Extra map allocated) before the update.
	Measure func(p *Point) error
	// Progress, if set, is called after every step (for a progress bar).
	Progress func(step int, loss float64)
	// StopBelow, if positive, ends the descent at the first step whose loss
	// is at or below it (e.g. the float64 round-off floor of a fit), which
	// is then the last recorded step.
	StopBelow float64
}

// GD runs full-batch gradient descent theta <- theta - lr grad L(theta)
// for cfg.Steps steps (or until the loss reaches cfg.StopBelow). params are the parameter slices updated in place (for
// a lib/nn model: the Data of each Param, in Params() order); lossGrad returns
// the loss and its gradient flattened in the same order. It stops with an
// error when the loss is not finite (a learning rate too large).
func GD(params [][]float64, lossGrad func() (float64, []float64, error), cfg DescentConfig) (*Run, error) {
	rec := cfg.Record
	if rec == nil {
		rec = func(s int) bool { return s%10 == 0 }
	}
	run := &Run{}
	for step := 0; ; step++ {
		loss, g, err := lossGrad()
		if err != nil {
			return nil, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, fmt.Errorf("lesson.GD: loss %v at step %d (learning rate %g too large?)", loss, step, cfg.LR)
		}
		p := Point{Step: step, Loss: loss, GradNorm: Norm(g)}
		last := step >= cfg.Steps || (cfg.StopBelow > 0 && loss <= cfg.StopBelow)
		if step == 0 || last || rec(step) {
			p.Extra = map[string]float64{}
			if cfg.Measure != nil {
				if err := cfg.Measure(&p); err != nil {
					return nil, err
				}
			}
			run.Points = append(run.Points, p)
		}
		run.Final = p
		if cfg.Progress != nil {
			cfg.Progress(step, loss)
		}
		if last {
			return run, nil
		}
		off := 0
		for _, q := range params {
			for i := range q {
				q[i] -= cfg.LR * g[off+i]
			}
			off += len(q)
		}
		if off != len(g) {
			return nil, fmt.Errorf("lesson.GD: gradient has %d entries, parameters %d", len(g), off)
		}
	}
}

// Dot is the inner product.
func Dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// MinMax returns the smallest and largest value of v.
func MinMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, a := range v {
		lo, hi = math.Min(lo, a), math.Max(hi, a)
	}
	return lo, hi
}

// Scale returns a*v.
func Scale(a float64, v []float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = a * v[i]
	}
	return out
}

// LogTicks returns the steps 0, 1, 2, 4, ... up to and including last.
func LogTicks(last int) []int {
	t := []int{0}
	for s := 1; s < last; s *= 2 {
		t = append(t, s)
	}
	return append(t, last)
}
