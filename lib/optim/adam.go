package optim

import (
	"fmt"
	"math"

	"repdyn/lib/nn"
)

// AdamConfig configures Adam and AdamW; the fields mean what the arguments of
// torch.optim.Adam / AdamW of the same names mean. Start from DefaultAdam or
// DefaultAdamW: zero values are taken literally.
type AdamConfig struct {
	LR          float64
	Beta1       float64
	Beta2       float64
	Eps         float64
	WeightDecay float64
	AMSGrad     bool
	// DecayAll applies WeightDecay to NoDecay parameters too (PyTorch's
	// behaviour for a single parameter group).
	DecayAll bool
}

// DefaultAdam is torch.optim.Adam's defaults: lr 1e-3, betas (0.9, 0.999),
// eps 1e-8, no weight decay.
func DefaultAdam() AdamConfig {
	return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// DefaultAdamW is torch.optim.AdamW's defaults: as Adam with weight decay 1e-2.
func DefaultAdamW() AdamConfig {
	c := DefaultAdam()
	c.WeightDecay = 1e-2
	return c
}

// Adam is torch.optim.Adam (decoupled=false) or torch.optim.AdamW
// (decoupled=true). At step t (1-based):
//
//	p = p*(1 - lr*wd)                          AdamW only
//	g = grad + wd*p                            Adam only
//	m = beta1*m + (1-beta1)*g
//	v = beta2*v + (1-beta2)*g*g
//	vmax = max(vmax, v), used for v below      AMSGrad only
//	p = p - lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
//
// (eps is added after the bias correction of sqrt(v), as PyTorch does).
type Adam[T nn.Float] struct {
	cfg       AdamConfig
	decoupled bool
	params    []*nn.Param[T]
	steps     int
	buf       slots[T]
}

// NewAdam returns torch.optim.Adam over params (weight decay as an L2 term
// added to the gradient).
func NewAdam[T nn.Float](params []*nn.Param[T], cfg AdamConfig) (*Adam[T], error) {
	return newAdam(params, cfg, false)
}

// NewAdamW returns torch.optim.AdamW over params (decoupled weight decay).
func NewAdamW[T nn.Float](params []*nn.Param[T], cfg AdamConfig) (*Adam[T], error) {
	return newAdam(params, cfg, true)
}

func newAdam[T nn.Float](params []*nn.Param[T], cfg AdamConfig, decoupled bool) (*Adam[T], error) {
	kind := "Adam"
	if decoupled {
		kind = "AdamW"
	}
	if err := checkParams(kind, params); err != nil {
		return nil, err
	}
	for _, h := range []struct {
		n string
		v float64
	}{{"learning rate", cfg.LR}, {"eps", cfg.Eps}, {"weight decay", cfg.WeightDecay}} {
		if err := checkHyper(kind, h.n, h.v); err != nil {
			return nil, err
		}
	}
	for _, b := range []struct {
		n string
		v float64
	}{{"beta1", cfg.Beta1}, {"beta2", cfg.Beta2}} {
		if !(b.v >= 0 && b.v < 1) {
			return nil, fmt.Errorf("optim.%s: invalid %s %v (want 0 <= beta < 1)", kind, b.n, b.v)
		}
	}
	o := &Adam[T]{cfg: cfg, decoupled: decoupled, params: params}
	if cfg.AMSGrad {
		o.buf = newSlots(params, "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
	} else {
		o.buf = newSlots(params, "exp_avg", "exp_avg_sq")
	}
	return o, nil
}

// Config returns the configuration (LR is the current learning rate).
func (o *Adam[T]) Config() AdamConfig { return o.cfg }

func (o *Adam[T]) Kind() string {
	if o.decoupled {
		return "adamw"
	}
	return "adam"
}
func (o *Adam[T]) LR() float64            { return o.cfg.LR }
func (o *Adam[T]) SetLR(lr float64)       { o.cfg.LR = lr }
func (o *Adam[T]) Steps() int             { return o.steps }
func (o *Adam[T]) Params() []*nn.Param[T] { return o.params }
func (o *Adam[T]) ZeroGrad()              { ZeroGrad(o.params) }
func (o *Adam[T]) State() *State[T]       { return o.buf.state(o.Kind(), o.steps, o.params) }
func (o *Adam[T]) LoadState(s *State[T]) error {
	if err := o.buf.load(o.Kind(), o.params, s); err != nil {
		return err
	}
	o.steps = s.Steps
	return nil
}

// Step applies one update.
func (o *Adam[T]) Step() {
	o.steps++
	t := float64(o.steps)
	c := o.cfg
	bc1 := 1 - math.Pow(c.Beta1, t)
	bc2 := 1 - math.Pow(c.Beta2, t)
	negStep := T(-(c.LR / bc1))
	bc2sqrt := T(math.Sqrt(bc2))
	b1, b2 := T(c.Beta1), T(c.Beta2)
	ob1, ob2 := T(1-c.Beta1), T(1-c.Beta2)
	eps := T(c.Eps)
	for i, p := range o.params {
		decay := c.WeightDecay != 0 && (!p.NoDecay || c.DecayAll)
		d := p.Data
		g := p.Grad[:len(d)]
		m := o.buf.bufs[0][i][:len(d)]
		v := o.buf.bufs[1][i][:len(d)]
		var vmax []T
		if c.AMSGrad {
			vmax = o.buf.bufs[2][i][:len(d)]
		}
		shrink := T(1 - c.LR*c.WeightDecay)
		wd := T(c.WeightDecay)
		for j, gj := range g {
			pj := d[j]
			if decay {
				if o.decoupled {
					pj = pj * shrink
				} else {
					gj = gj + wd*pj
				}
			}
			mj := m[j] * b1
			mj = mj + ob1*gj
			m[j] = mj
			vj := v[j] * b2
			vj = vj + ob2*gj*gj
			v[j] = vj
			if vmax != nil {
				vj = max(vmax[j], vj)
				vmax[j] = vj
			}
			denom := T(math.Sqrt(float64(vj)))/bc2sqrt + eps
			d[j] = pj + negStep*mj/denom // addcdiv: p + (value*m)/denom
		}
	}
}
