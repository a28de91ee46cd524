package optim

import (
	"fmt"

	"repdyn/lib/nn"
)

// SGDConfig configures SGD; the fields mean what torch.optim.SGD's arguments
// of the same names mean.
type SGDConfig struct {
	LR          float64
	Momentum    float64
	Dampening   float64
	WeightDecay float64
	Nesterov    bool
	// DecayAll applies WeightDecay to NoDecay parameters too (PyTorch's
	// behaviour for a single parameter group).
	DecayAll bool
}

// SGD is stochastic gradient descent with momentum (torch.optim.SGD):
//
//	g = grad + wd*p                       (wd only for decayed parameters)
//	b = g                  on the first step, else  b = momentum*b + (1-dampening)*g
//	g = g + momentum*b     if Nesterov,     else    g = b     (when momentum != 0)
//	p = p - lr*g
type SGD[T nn.Float] struct {
	cfg    SGDConfig
	params []*nn.Param[T]
	steps  int
	buf    slots[T]
}

// NewSGD returns an SGD optimizer over params. Like PyTorch it rejects
// negative hyper-parameters and Nesterov without momentum or with dampening.
func NewSGD[T nn.Float](params []*nn.Param[T], cfg SGDConfig) (*SGD[T], error) {
	if err := checkParams("SGD", params); err != nil {
		return nil, err
	}
	for _, h := range []struct {
		n string
		v float64
	}{{"learning rate", cfg.LR}, {"momentum", cfg.Momentum}, {"dampening", cfg.Dampening}, {"weight decay", cfg.WeightDecay}} {
		if err := checkHyper("SGD", h.n, h.v); err != nil {
			return nil, err
		}
	}
	if cfg.Nesterov && (cfg.Momentum <= 0 || cfg.Dampening != 0) {
		return nil, fmt.Errorf("optim.SGD: Nesterov momentum requires a momentum and zero dampening")
	}
	o := &SGD[T]{cfg: cfg, params: params}
	if cfg.Momentum != 0 {
		o.buf = newSlots(params, "momentum_buffer")
	}
	return o, nil
}

// Config returns the configuration (LR is the current learning rate).
func (o *SGD[T]) Config() SGDConfig { return o.cfg }

func (o *SGD[T]) Kind() string           { return "sgd" }
func (o *SGD[T]) LR() float64            { return o.cfg.LR }
func (o *SGD[T]) SetLR(lr float64)       { o.cfg.LR = lr }
func (o *SGD[T]) Steps() int             { return o.steps }
func (o *SGD[T]) Params() []*nn.Param[T] { return o.params }
func (o *SGD[T]) ZeroGrad()              { ZeroGrad(o.params) }
func (o *SGD[T]) State() *State[T]       { return o.buf.state("sgd", o.steps, o.params) }
func (o *SGD[T]) LoadState(s *State[T]) error {
	if err := o.buf.load("sgd", o.params, s); err != nil {
		return err
	}
	o.steps = s.Steps
	return nil
}

// Step applies one update.
func (o *SGD[T]) Step() {
	mom := T(o.cfg.Momentum)
	damp := T(1 - o.cfg.Dampening)
	negLR := T(-o.cfg.LR)
	first := o.steps == 0
	for i, p := range o.params {
		wd := T(o.cfg.WeightDecay)
		if p.NoDecay && !o.cfg.DecayAll {
			wd = 0
		}
		d, g := p.Data, p.Grad[:len(p.Data)]
		switch {
		case o.cfg.Momentum == 0:
			for j, gj := range g {
				if wd != 0 {
					gj = gj + wd*d[j]
				}
				d[j] = d[j] + negLR*gj
			}
		default:
			b := o.buf.bufs[0][i][:len(d)]
			for j, gj := range g {
				if wd != 0 {
					gj = gj + wd*d[j]
				}
				var bj T
				if first {
					bj = gj
				} else {
					bj = b[j] * mom
					bj = bj + damp*gj
				}
				b[j] = bj
				if o.cfg.Nesterov {
					gj = gj + mom*bj
				} else {
					gj = bj
				}
				d[j] = d[j] + negLR*gj
			}
		}
	}
	o.steps++
}
