package optim

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Schedule maps the index of the optimizer step about to be taken (0 for the
// first update) to its learning rate. It is a pure function of the step, so
// resuming at step k needs nothing but k.
type Schedule interface {
	LR(step int) float64
	String() string
}

// Constant returns lr at every step.
func Constant(lr float64) Schedule { return constant(lr) }

type constant float64

func (c constant) LR(int) float64 { return float64(c) }
func (c constant) String() string { return fmt.Sprintf("const(lr=%g)", float64(c)) }

// StepDecay multiplies lr by gamma every stepSize steps (torch StepLR):
// lr * gamma^floor(step/stepSize).
func StepDecay(lr float64, stepSize int, gamma float64) Schedule {
	if stepSize < 1 {
		stepSize = 1
	}
	return stepDecay{lr, stepSize, gamma}
}

type stepDecay struct {
	lr    float64
	size  int
	gamma float64
}

func (s stepDecay) LR(step int) float64 {
	return s.lr * math.Pow(s.gamma, float64(max(step, 0)/s.size))
}
func (s stepDecay) String() string {
	return fmt.Sprintf("step(lr=%g, every=%d, gamma=%g)", s.lr, s.size, s.gamma)
}

// MultiStep multiplies lr by gamma at each milestone (torch MultiStepLR):
// lr * gamma^(number of milestones <= step).
func MultiStep(lr float64, milestones []int, gamma float64) Schedule {
	m := slices.Clone(milestones)
	slices.Sort(m)
	return multiStep{lr, m, gamma}
}

type multiStep struct {
	lr    float64
	ms    []int
	gamma float64
}

func (s multiStep) LR(step int) float64 {
	n := 0
	for _, m := range s.ms {
		if step >= m {
			n++
		}
	}
	return s.lr * math.Pow(s.gamma, float64(n))
}
func (s multiStep) String() string {
	parts := make([]string, len(s.ms))
	for i, m := range s.ms {
		parts[i] = fmt.Sprint(m)
	}
	return fmt.Sprintf("multistep(lr=%g, milestones=[%s], gamma=%g)", s.lr, strings.Join(parts, ","), s.gamma)
}

// Cosine is cosine annealing from lr to etaMin over tMax steps (the closed
// form of torch CosineAnnealingLR):
//
//	etaMin + (lr - etaMin) * (1 + cos(pi * step / tMax)) / 2
//
// After tMax steps it stays at etaMin (PyTorch's would rise again; training
// past tMax is not the intended use).
func Cosine(lr, etaMin float64, tMax int) Schedule {
	if tMax < 1 {
		tMax = 1
	}
	return cosine{lr, etaMin, tMax}
}

type cosine struct {
	lr, min float64
	tmax    int
}

func (c cosine) LR(step int) float64 {
	step = min(max(step, 0), c.tmax)
	return c.min + (c.lr-c.min)*(1+math.Cos(math.Pi*float64(step)/float64(c.tmax)))/2
}
func (c cosine) String() string {
	return fmt.Sprintf("cosine(lr=%g, eta_min=%g, t_max=%d)", c.lr, c.min, c.tmax)
}

// Warmup prepends a linear warm-up of n steps to s: step k < n gets
// s.LR(0) * (k+1)/n, and step k >= n gets s.LR(k-n) — s starts afresh after
// the warm-up, as torch SequentialLR([LinearLR(start_factor=1/n,
// total_iters=n), s], milestones=[n]) (up to the exact shape of the ramp). So
// a cosine schedule over T total steps with n warm-up steps is
// Warmup(Cosine(lr, 0, T-n), n). n <= 0 returns s.
func Warmup(s Schedule, n int) Schedule {
	if n <= 0 {
		return s
	}
	return warmup{s, n}
}

type warmup struct {
	s Schedule
	n int
}

func (w warmup) LR(step int) float64 {
	if step < w.n {
		return w.s.LR(0) * float64(max(step, 0)+1) / float64(w.n)
	}
	return w.s.LR(step - w.n)
}
func (w warmup) String() string { return fmt.Sprintf("warmup(%d steps, then %v)", w.n, w.s) }

// Func adapts a function to a Schedule.
func Func(name string, f func(step int) float64) Schedule { return funcSchedule{name, f} }

type funcSchedule struct {
	name string
	f    func(int) float64
}

func (f funcSchedule) LR(step int) float64 { return f.f(step) }
func (f funcSchedule) String() string      { return f.name }
