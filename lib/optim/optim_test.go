package optim

import (
	"math"
	"strings"
	"testing"

	"repdyn/lib/nn"
)

// toyParams are three scalar parameters; the second is NoDecay.
func toyParams[T nn.Float]() []*nn.Param[T] {
	mk := func(name string, v T, noDecay bool) *nn.Param[T] {
		return &nn.Param[T]{Name: name, Shape: []int{1}, Data: []T{v}, Grad: make([]T, 1), NoDecay: noDecay}
	}
	return []*nn.Param[T]{mk("a.weight", 1, false), mk("a.bias", -2, true), mk("b.weight", 0.5, false)}
}

// toyGrad sets the gradient of the toy objective at step k (it depends on
// the parameters, so the trajectories test the dynamics, not one update).
func toyGrad[T nn.Float](ps []*nn.Param[T], k int) {
	p0, p1, p2 := ps[0].Data[0], ps[1].Data[0], ps[2].Data[0]
	ps[0].Grad[0] = 0.5*p0 + 0.1
	ps[1].Grad[0] = -1.5*p1 + 0.2*T(k+1)
	ps[2].Grad[0] = 3.0*p2*p2 - 0.3
}

// want holds the parameters after 4 steps, computed in Python floats from the
// algorithms documented for torch.optim.SGD, Adam and AdamW (testdata/ref.py).
var want = map[string][3]float64{
	"sgd":              {0.7774075, -3.7303300000000004, 0.3814230480373202},
	"sgd_wd":           {0.7740394477110001, -3.7303300000000004, 0.38023914006616044},
	"sgd_mom_damp_wd":  {0.7503550097153325, -3.596275113750001, 0.3427430458687325},
	"sgd_nesterov_wd":  {0.6555860484383951, -4.5474810555000005, 0.3144407242264688},
	"sgd_mom_decayall": {0.7346294096444375, -3.7080691943113746, 0.3350192986749505},
	"adam":             {0.9600197545572485, -2.04009811677249, 0.46021257006387567},
	"adam_wd":          {0.9600203475303125, -2.04009811677249, 0.460193041168527},
	"adamw":            {0.9560877650370907, -2.04009811677249, 0.45828943732173927},
	"adam_amsgrad":     {0.9601060231302377, -2.040229150090278, 0.4604658007775876},
	"adamw_varlr":      {0.9604541327962983, -2.036044488343643, 0.4623690974427588},
}

func newCase[T nn.Float](t *testing.T, name string, ps []*nn.Param[T]) (Optimizer[T], []float64) {
	t.Helper()
	var o Optimizer[T]
	var err error
	var lrs []float64
	adam := AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	switch name {
	case "sgd":
		o, err = NewSGD(ps, SGDConfig{LR: 0.1})
	case "sgd_wd":
		o, err = NewSGD(ps, SGDConfig{LR: 0.1, WeightDecay: 0.01})
	case "sgd_mom_damp_wd":
		o, err = NewSGD(ps, SGDConfig{LR: 0.05, Momentum: 0.9, Dampening: 0.1, WeightDecay: 0.01})
	case "sgd_nesterov_wd":
		o, err = NewSGD(ps, SGDConfig{LR: 0.05, Momentum: 0.9, WeightDecay: 0.01, Nesterov: true})
	case "sgd_mom_decayall":
		o, err = NewSGD(ps, SGDConfig{LR: 0.05, Momentum: 0.9, WeightDecay: 0.01, DecayAll: true})
	case "adam":
		o, err = NewAdam(ps, adam)
	case "adam_wd":
		adam.WeightDecay = 0.1
		o, err = NewAdam(ps, adam)
	case "adamw":
		adam.WeightDecay = 0.1
		o, err = NewAdamW(ps, adam)
	case "adam_amsgrad":
		o, err = NewAdam(ps, AdamConfig{LR: 0.01, Beta1: 0.8, Beta2: 0.99, Eps: 1e-3, AMSGrad: true})
	case "adamw_varlr":
		adam.WeightDecay = 0.1
		o, err = NewAdamW(ps, adam)
		lrs = []float64{0.01, 0.02, 0.005, 0.001}
	default:
		t.Fatalf("unknown case %s", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return o, lrs
}

func run[T nn.Float](o Optimizer[T], ps []*nn.Param[T], lrs []float64, from, to int) {
	for k := from; k < to; k++ {
		if lrs != nil {
			o.SetLR(lrs[k])
		}
		o.ZeroGrad()
		toyGrad(ps, k)
		o.Step()
	}
}

func TestFormulas(t *testing.T) {
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			ps := toyParams[float64]()
			o, lrs := newCase(t, name, ps)
			run(o, ps, lrs, 0, 4)
			for i, p := range ps {
				if d := math.Abs(p.Data[0] - w[i]); d > 1e-12*math.Max(1, math.Abs(w[i])) {
					t.Errorf("float64 param %d = %.17g, want %.17g", i, p.Data[0], w[i])
				}
			}
			if o.Steps() != 4 {
				t.Errorf("Steps = %d", o.Steps())
			}
			ps32 := toyParams[float32]()
			o32, _ := newCase(t, name, ps32)
			run(o32, ps32, lrs, 0, 4)
			for i, p := range ps32 {
				if d := math.Abs(float64(p.Data[0]) - w[i]); d > 2e-6*math.Max(1, math.Abs(w[i])) {
					t.Errorf("float32 param %d = %.9g, want %.9g", i, p.Data[0], w[i])
				}
			}
		})
	}
}

// TestStateRoundTrip: 2 steps, save, continue 2 steps on a fresh optimizer
// loaded from the state: bit-identical to 4 uninterrupted steps.
func TestStateRoundTrip(t *testing.T) {
	for name := range want {
		t.Run(name, func(t *testing.T) {
			ps := toyParams[float32]()
			o, lrs := newCase(t, name, ps)
			run(o, ps, lrs, 0, 4)

			ps2 := toyParams[float32]()
			o2, _ := newCase(t, name, ps2)
			if st := o2.State(); len(st.Tensors) != 0 || st.Steps != 0 {
				t.Fatalf("fresh state %+v", st)
			}
			run(o2, ps2, lrs, 0, 2)
			st := o2.State()
			saved := make([]float32, len(ps2))
			for i, p := range ps2 {
				saved[i] = p.Data[0]
			}
			run(o2, ps2, lrs, 2, 3) // state must be a copy
			ps3 := toyParams[float32]()
			for i, p := range ps3 {
				p.Data[0] = saved[i]
			}
			o3, _ := newCase(t, name, ps3)
			if err := o3.LoadState(st); err != nil {
				t.Fatal(err)
			}
			run(o3, ps3, lrs, 2, 4)
			for i := range ps {
				if ps[i].Data[0] != ps3[i].Data[0] {
					t.Errorf("param %d: resumed %v, uninterrupted %v", i, ps3[i].Data[0], ps[i].Data[0])
				}
			}
		})
	}
}

func TestStateErrors(t *testing.T) {
	ps := toyParams[float32]()
	sgd, _ := NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9})
	adam, _ := NewAdam(ps, DefaultAdam())
	toyGrad(ps, 0)
	sgd.Step()
	adam.Step()
	if err := adam.LoadState(sgd.State()); err == nil || !strings.Contains(err.Error(), `"sgd"`) {
		t.Errorf("loading sgd state into adam: %v", err)
	}
	st := sgd.State()
	st.Tensors[1].Name = "zzz.momentum_buffer"
	if err := sgd.LoadState(st); err == nil || !strings.Contains(err.Error(), "a.bias.momentum_buffer") {
		t.Errorf("missing tensor: %v", err)
	}
	st = sgd.State()
	st.Tensors[0].Data = make([]float32, 3)
	st.Tensors[0].Shape = []int{3}
	if err := sgd.LoadState(st); err == nil || !strings.Contains(err.Error(), "a.weight.momentum_buffer") {
		t.Errorf("bad shape: %v", err)
	}
	if _, err := NewSGD(ps, SGDConfig{LR: 0.1, Nesterov: true}); err == nil {
		t.Error("Nesterov without momentum accepted")
	}
	if _, err := NewSGD(ps, SGDConfig{LR: -1}); err == nil {
		t.Error("negative lr accepted")
	}
	if _, err := NewAdam(ps, AdamConfig{LR: 1, Beta1: 1, Beta2: 0.9}); err == nil {
		t.Error("beta1 = 1 accepted")
	}
}

func TestSchedules(t *testing.T) {
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.17g, want %.17g", name, got, want)
		}
	}
	c := Constant(0.3)
	near("const(7)", c.LR(7), 0.3)
	s := StepDecay(0.1, 3, 0.5)
	for k, w := range []float64{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025} {
		near("step", s.LR(k), w)
	}
	m := MultiStep(1, []int{5, 2}, 0.1)
	for k, w := range []float64{1, 1, 0.1, 0.1, 0.1, 0.01, 0.01} {
		near("multistep", m.LR(k), w)
	}
	// CosineAnnealingLR(T_max=4, eta_min=0.01), base 0.1: 0.01 + 0.09*(1+cos(pi*k/4))/2.
	cs := Cosine(0.1, 0.01, 4)
	for k, w := range []float64{0.1, 0.08681980515339464, 0.055, 0.02318019484660537, 0.01, 0.01} {
		near("cosine", cs.LR(k), w)
	}
	wu := Warmup(Cosine(0.1, 0, 4), 2)
	for k, w := range []float64{0.05, 0.1, 0.1, 0.08535533905932738, 0.05, 0.014644660940672627, 0} {
		near("warmup+cosine", wu.LR(k), w)
	}
	if Warmup(c, 0) != c {
		t.Error("Warmup(s, 0) != s")
	}
	for _, s := range []Schedule{c, s, m, cs, wu} {
		if s.String() == "" {
			t.Error("empty String")
		}
	}
}

func benchParams(n int) []*nn.Param[float32] {
	p := &nn.Param[float32]{Name: "w", Shape: []int{n}, Data: make([]float32, n), Grad: make([]float32, n)}
	for i := range p.Data {
		p.Data[i] = float32(i%7) * 0.1
		p.Grad[i] = float32(i%5) * 0.01
	}
	return []*nn.Param[float32]{p}
}

// BenchmarkSGD and BenchmarkAdam update 1M float32 parameters per op.
func BenchmarkSGD(b *testing.B) {
	ps := benchParams(1 << 20)
	o, _ := NewSGD(ps, SGDConfig{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, Nesterov: true})
	b.SetBytes(4 << 20)
	for b.Loop() {
		o.Step()
	}
}

func BenchmarkAdam(b *testing.B) {
	ps := benchParams(1 << 20)
	o, _ := NewAdamW(ps, DefaultAdamW())
	b.SetBytes(4 << 20)
	for b.Loop() {
		o.Step()
	}
}
