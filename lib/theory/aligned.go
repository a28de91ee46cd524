package theory

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"repdyn/lib/data"
	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/optim"
	"repdyn/lib/tensor"
	"repdyn/lib/train"
)

// AlignedConfig configures aligned training (THEORY.md, "The training
// framework"): phase 1 runs the base algorithm on theta; at step Tau a part
// of the network is frozen into a feature map phi (followed, when it has
// fewer features than needed, by a frozen random NONLINEAR map); phase 2
// trains (theta, V) for f~(x) = f(x, theta) + c V phi(x) with V = 0 at Tau.
type AlignedConfig struct {
	// Tau is the switch step (optimizer steps of phase 1).
	Tau int
	// InputShape is the per-example input shape (e.g. [3 32 32]) used to
	// size V before training.
	InputShape []int
	// SnapshotLayers is how many top-level layers of the base model (a
	// *models.Model or *nn.Sequential) the snapshot keeps: phi is their
	// output at theta_Tau, flattened. 0 means all layers but the head (the
	// last hidden features).
	SnapshotLayers int
	// RandomFeatures, if positive, appends the frozen random nonlinear map:
	// for image-shaped snapshots a random 3x3 convolution (stride 1, pad 1,
	// with bias) to ceil(RandomFeatures/(H*W)) channels and a ReLU; for
	// vector snapshots a random Linear to RandomFeatures units and a ReLU.
	// Needed when the snapshot has fewer features than examples (rank Phi
	// <= features): a linear sketch cannot raise the rank, a ReLU can.
	RandomFeatures int
	// Seed seeds the random map.
	Seed uint64
	// FeatureScale c multiplies the V-block: f~ = f + c V phi. 0 means
	// 1/sqrt(p) (the NTK parametrization): the curvature of the loss along V
	// grows with c^2 ||phi(x)||^2, which is of order p for unscaled
	// features, so with tens of thousands of features a step size that
	// suits theta makes V diverge. c > 0 changes neither the function at
	// the switch (V = 0) nor the certificate (rank c Phi = rank Phi).
	FeatureScale float64
	// NoInputGradient skips the input-gradient path through phi in phase 2:
	// Backward then returns a nil input gradient (parameter gradients are
	// unchanged). For training loops that discard input gradients.
	NoInputGradient bool
}

// AlignedModel is the augmented model f~ = f + c V phi. It is an nn.Module:
// Params() is the base model's parameters followed by V's weight (present
// from the start, zero, with zero gradient in phase 1, so any optimizer
// leaves it at zero — momentum, weight decay and Adam alike — and phase 1 is
// the base run step for step).
//
// Checkpoints: Buffers() are the base model's; the snapshot and random map
// are NOT saved (V is, as "aligned.V.weight"). A phase-2 run resumed from a
// checkpoint must rebuild phi (Switch on the restored snapshot weights) —
// RunAligned does not resume.
type AlignedModel[T nn.Float] struct {
	Base   nn.Module[T]
	Cfg    AlignedConfig
	V      *nn.Linear[T]
	Phase2 bool
	// Snapshot and RandomMap are set at the switch; phi(x) =
	// flatten(RandomMap(Snapshot(x))), evaluated in Eval mode (frozen
	// batch-norm statistics of theta_Tau).
	Snapshot  nn.Module[T]
	RandomMap nn.Module[T]
	p         int
	out       *tensor.Tensor[T]
	dout      *tensor.Tensor[T] // tangent of the last ForwardJVP
	dv        *tensor.Tensor[T] // c * dL/dy, the gradient V sees
}

// NewAlignedModel wraps base; it sizes V from cfg.InputShape.
func NewAlignedModel[T nn.Float](base nn.Module[T], cfg AlignedConfig) (*AlignedModel[T], error) {
	layers, err := topLayers(base)
	if err != nil {
		return nil, err
	}
	k := cfg.SnapshotLayers
	if k <= 0 {
		k = len(layers) - 1
	}
	if k > len(layers) {
		return nil, fmt.Errorf("theory: SnapshotLayers %d > %d layers", k, len(layers))
	}
	in := append([]int{1}, cfg.InputShape...)
	shp, err := nn.NewSequential("", layers[:k]...).OutShape(in)
	if err != nil {
		return nil, err
	}
	outShp, err := base.OutShape(in)
	if err != nil {
		return nil, err
	}
	m := prod(outShp[1:])
	p := prod(shp[1:])
	if cfg.RandomFeatures > 0 {
		if len(shp) == 4 {
			hw := shp[2] * shp[3]
			p = (cfg.RandomFeatures + hw - 1) / hw * hw
		} else {
			p = cfg.RandomFeatures
		}
	}
	cfg.SnapshotLayers = k
	a := &AlignedModel[T]{Base: base, Cfg: cfg, p: p}
	a.V = nn.NewLinear[T]("aligned.V", p, m, false)
	return a, nil
}

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

func topLayers[T nn.Float](m nn.Module[T]) ([]nn.Module[T], error) {
	if ls, ok := sequenceOf(m); ok {
		return ls, nil
	}
	return nil, fmt.Errorf("theory: aligned training needs a sequential base (*models.Model, *nn.Sequential), got %T", m)
}

// Features is the number p of features of phi.
func (a *AlignedModel[T]) Features() int { return a.p }

// Scale is the factor c of the V-block (FeatureScale, or 1/sqrt(p)).
func (a *AlignedModel[T]) Scale() float64 {
	if a.Cfg.FeatureScale > 0 {
		return a.Cfg.FeatureScale
	}
	return 1 / math.Sqrt(float64(max(a.p, 1)))
}

// Switch freezes the snapshot at the current parameters (a deep copy of the
// first SnapshotLayers layers, batch-norm running statistics included) and
// the random map, and enters phase 2. V is reset to zero, so the function is
// unchanged.
func (a *AlignedModel[T]) Switch() error {
	layers, _ := topLayers(a.Base)
	snap, err := cloneLayers(a.Base, layers[:a.Cfg.SnapshotLayers])
	if err != nil {
		return err
	}
	a.Snapshot = snap
	in := append([]int{1}, a.Cfg.InputShape...)
	shp, err := snap.OutShape(in)
	if err != nil {
		return err
	}
	if a.Cfg.RandomFeatures > 0 {
		r := tensor.NewRNG(a.Cfg.Seed).Split("aligned.random-map")
		if len(shp) == 4 {
			c := a.p / (shp[2] * shp[3])
			conv := nn.NewConv2d[T]("aligned.random.conv", shp[1], c, 3, 1, 1, true)
			sd := math.Sqrt(2 / float64(9*shp[1]))
			for i := range conv.Weight.Data {
				conv.Weight.Data[i] = T(sd * r.Normal())
			}
			for i := range conv.Bias.Data {
				conv.Bias.Data[i] = T(0.1 * r.Normal())
			}
			a.RandomMap = nn.NewSequential[T]("aligned.random", conv, nn.NewReLU[T]("aligned.random.relu"), nn.NewFlatten[T]("aligned.random.flatten"))
		} else {
			f := prod(shp[1:])
			lin := nn.NewLinear[T]("aligned.random.linear", f, a.p, true)
			sd := math.Sqrt(2 / float64(f))
			for i := range lin.Weight.Data {
				lin.Weight.Data[i] = T(sd * r.Normal())
			}
			for i := range lin.Bias.Data {
				lin.Bias.Data[i] = T(r.Normal())
			}
			a.RandomMap = nn.NewSequential[T]("aligned.random", nn.NewFlatten[T]("aligned.random.flatten0"), lin, nn.NewReLU[T]("aligned.random.relu"))
		}
	} else {
		a.RandomMap = nn.NewSequential[T]("aligned.random", nn.NewFlatten[T]("aligned.flatten"))
	}
	clear(a.V.Weight.Data)
	a.Phase2 = true
	return nil
}

// Phi evaluates phi on a batch (frozen: Eval mode); valid in phase 2.
func (a *AlignedModel[T]) Phi(x *tensor.Tensor[T]) (*tensor.Tensor[T], error) {
	if !a.Phase2 {
		return nil, fmt.Errorf("theory: phi is defined after the switch")
	}
	h, err := a.Snapshot.Forward(x, nn.Eval)
	if err != nil {
		return nil, err
	}
	return a.RandomMap.Forward(h, nn.Eval)
}

func (a *AlignedModel[T]) Name() string { return a.Base.Name() }
func (a *AlignedModel[T]) Params() []*nn.Param[T] {
	return append(append([]*nn.Param[T](nil), a.Base.Params()...), a.V.Weight)
}
func (a *AlignedModel[T]) Buffers() []*nn.Buffer[T]         { return a.Base.Buffers() }
func (a *AlignedModel[T]) OutShape(in []int) ([]int, error) { return a.Base.OutShape(in) }

func (a *AlignedModel[T]) Forward(x *tensor.Tensor[T], mode nn.Mode) (*tensor.Tensor[T], error) {
	y, err := a.Base.Forward(x, mode)
	if err != nil || !a.Phase2 {
		return y, err
	}
	phi, err := a.Phi(x)
	if err != nil {
		return nil, err
	}
	v, err := a.V.Forward(phi.Contiguous(), mode)
	if err != nil {
		return nil, err
	}
	y = y.Contiguous()
	if a.out == nil || !tensor.SameShape(a.out, y) {
		a.out = tensor.Must(tensor.New[T](y.Shape()...))
	}
	od, yd, vd := a.out.Data(), y.Data(), v.Contiguous().Data()
	c := T(a.Scale())
	for i := range od {
		od[i] = yd[i] + c*vd[i]
	}
	return a.out, nil
}

// Backward implements nn.Module: parameter gradients of theta and V, and the
// input gradient of f~ including the path through phi in phase 2:
// dx = J_x(f)^T dy + J_x(phi)^T (c V^T dy), by a backward pass through the
// frozen random map and snapshot (their own, frozen, parameters receive
// gradients that nothing reads; they are zeroed first). With
// AlignedConfig.NoInputGradient that second pass is skipped and Backward
// returns a nil input gradient in phase 2 (never the partial one): lib/train
// discards input gradients, and RunAligned sets it.
func (a *AlignedModel[T]) Backward(dy *tensor.Tensor[T]) (*tensor.Tensor[T], error) {
	if !a.Phase2 {
		return a.Base.Backward(dy)
	}
	dy = dy.Contiguous()
	if a.dv == nil || !tensor.SameShape(a.dv, dy) {
		a.dv = tensor.Must(tensor.New[T](dy.Shape()...))
	}
	c := T(a.Scale())
	for i, g := range dy.Data() {
		a.dv.Data()[i] = c * g
	}
	dphi, err := a.V.Backward(a.dv)
	if err != nil {
		return nil, err
	}
	dx, err := a.Base.Backward(dy)
	if err != nil || a.Cfg.NoInputGradient {
		return nil, err
	}
	nn.ZeroGrad(a.RandomMap)
	nn.ZeroGrad(a.Snapshot)
	dh, err := a.RandomMap.Backward(dphi)
	if err != nil {
		return nil, err
	}
	dxp, err := a.Snapshot.Backward(dh)
	if err != nil {
		return nil, err
	}
	dx, dxp = dx.Contiguous(), dxp.Contiguous()
	if dx.Numel() != dxp.Numel() {
		return nil, fmt.Errorf("theory: aligned Backward: input gradients of f (%v) and phi (%v) differ in shape", dx.Shape(), dxp.Shape())
	}
	out := tensor.Must(tensor.New[T](dx.Shape()...))
	od, ad, bd := out.Data(), dx.Data(), dxp.Data()
	for i := range od {
		od[i] = ad[i] + bd[i]
	}
	return out, nil
}

// ForwardJVP implements nn.JVPModule (float32 and float64): the base
// model's forward-mode rule plus, in phase 2, that of c V phi(x): the
// tangent of V.Weight times phi(x), plus V times the tangent of phi along
// the input tangent dx (the snapshot and random map are frozen: their
// parameters have no tangent).
func (a *AlignedModel[T]) ForwardJVP(x, dx *tensor.Tensor[T], mode nn.Mode) (*tensor.Tensor[T], *tensor.Tensor[T], error) {
	y, dy, err := nn.JVP(a.Base, x, dx, nil, mode)
	if err != nil || !a.Phase2 {
		return y, dy, err
	}
	var phi, dphi *tensor.Tensor[T]
	if dx == nil {
		phi, err = a.Phi(x)
	} else {
		var h, dh *tensor.Tensor[T]
		if h, dh, err = nn.JVP(a.Snapshot, x, dx, nil, nn.Eval); err == nil {
			phi, dphi, err = nn.JVP(a.RandomMap, h, dh, nil, nn.Eval)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if dphi != nil {
		dphi = dphi.Contiguous()
	}
	v, dv, err := a.V.ForwardJVP(phi.Contiguous(), dphi, mode)
	if err != nil {
		return nil, nil, err
	}
	y, dy = y.Contiguous(), dy.Contiguous()
	if a.out == nil || !tensor.SameShape(a.out, y) {
		a.out = tensor.Must(tensor.New[T](y.Shape()...))
	}
	if a.dout == nil || !tensor.SameShape(a.dout, y) {
		a.dout = tensor.Must(tensor.New[T](y.Shape()...))
	}
	od, yd, vd := a.out.Data(), y.Data(), v.Contiguous().Data()
	td, dyd, dvd := a.dout.Data(), dy.Data(), dv.Contiguous().Data()
	c := T(a.Scale())
	for i := range od {
		od[i] = yd[i] + c*vd[i]
		td[i] = dyd[i] + c*dvd[i]
	}
	return a.out, a.dout, nil
}

// cloneLayers deep-copies layers of base (same parameters and buffers) by
// nn.Clone: every layer type that implements nn.Cloner.
func cloneLayers[T nn.Float](base nn.Module[T], layers []nn.Module[T]) (nn.Module[T], error) {
	var out []nn.Module[T]
	for _, l := range layers {
		c, err := nn.Clone(l)
		if err != nil {
			return nil, fmt.Errorf("theory: cannot snapshot layer %q of %q: %w", l.Name(), base.Name(), err)
		}
		out = append(out, c)
	}
	return nn.NewSequential[T]("snapshot", out...), nil
}

// convertLayer deep-copies a layer into element type S (same structure,
// parameters and buffers converted). Within one element type it is
// nn.Clone (any nn.Cloner); across types it knows lib/nn's layers.
func convertLayer[S, T nn.Float](l nn.Module[T]) (nn.Module[S], error) {
	if _, same := any(l).(nn.Module[S]); same {
		c, err := nn.Clone(l)
		if err != nil {
			return nil, err
		}
		return any(c).(nn.Module[S]), nil
	}
	var c nn.Module[S]
	switch s := l.(type) {
	case *nn.Linear[T]:
		c = nn.NewLinear[S](s.Name(), s.In, s.Out, s.Bias != nil)
	case *nn.Conv2d[T]:
		cv := nn.NewConv2d[S](s.Name(), s.In, s.Out, s.K, s.Stride, s.Pad, s.Bias != nil)
		cv.Dil = s.Dil
		c = cv
	case *nn.BatchNorm[T]:
		b := nn.NewBatchNorm2d[S](s.Name(), s.C)
		if _, err := s.OutShape([]int{2, s.C}); err == nil {
			b = nn.NewBatchNorm1d[S](s.Name(), s.C)
		}
		b.Eps = s.Eps
		c = b
	case *nn.Activation[T]:
		return nn.NewActivation[S](s.Name(), s.Kind, s.Slope), nil
	case *nn.Flatten[T]:
		return nn.NewFlatten[S](s.Name()), nil
	case *nn.GlobalAvgPool[T]:
		return nn.NewGlobalAvgPool[S](s.Name()), nil
	case *nn.Pool2d[T]:
		if s.Max {
			return nn.NewMaxPool2d[S](s.Name(), s.K, s.Stride, s.Pad), nil
		}
		return nn.NewAvgPool2d[S](s.Name(), s.K, s.Stride, s.Pad), nil
	case *nn.BasicBlock[T]:
		c = nn.NewBasicBlock[S](s.Name(), s.Conv1.In, s.Conv1.Out, s.Conv1.Stride)
	case *nn.PreActBlock[T]:
		c = nn.NewPreActBlock[S](s.Name(), s.Conv1.In, s.Conv1.Out, s.Conv1.Stride, s.Shortcut != nil && len(s.Shortcut.Layers) > 1)
	case *nn.Dropout[T]:
		return nn.NewDropout[S](s.Name(), s.P, s.Seed), nil
	case *nn.Sequential[T]:
		var ls []nn.Module[S]
		for _, ch := range s.Layers {
			cc, err := convertLayer[S, T](ch)
			if err != nil {
				return nil, err
			}
			ls = append(ls, cc)
		}
		return nn.NewSequential[S](s.Name(), ls...), nil
	default:
		return nil, fmt.Errorf("theory: cannot copy layer %q of type %T (use a *models.Model base)", l.Name(), l)
	}
	return c, copyState[S, T](c, l)
}

// copyState copies parameters and buffers in order, checking sizes.
func copyState[S, T nn.Float](dst nn.Module[S], src nn.Module[T]) error {
	dp, sp := dst.Params(), src.Params()
	db, sb := dst.Buffers(), src.Buffers()
	if len(dp) != len(sp) || len(db) != len(sb) {
		return fmt.Errorf("theory: clone of %q has a different structure", src.Name())
	}
	for i, p := range dp {
		if len(p.Data) != len(sp[i].Data) {
			return fmt.Errorf("theory: clone of %q: parameter %q differs", src.Name(), p.Name)
		}
		for j, v := range sp[i].Data {
			p.Data[j] = S(v)
		}
	}
	for i, b := range db {
		if len(b.Data) != len(sb[i].Data) {
			return fmt.Errorf("theory: clone of %q: buffer %q differs", src.Name(), b.Name)
		}
		for j, v := range sb[i].Data {
			b.Data[j] = S(v)
		}
	}
	return nil
}

// ConvertAligned returns a copy of a with element type S: the base model
// (a *models.Model, or a Sequential of plain layers), V, and in phase 2 the
// frozen snapshot and random map, converted (e.g. a float32 aligned run
// followed in float64 by the NTK tracker).
func ConvertAligned[S, T nn.Float](a *AlignedModel[T]) (*AlignedModel[S], error) {
	base, err := convertModel[S, T](a.Base)
	if err != nil {
		return nil, err
	}
	c := &AlignedModel[S]{Base: base, Cfg: a.Cfg, Phase2: a.Phase2, p: a.p}
	c.V = nn.NewLinear[S](a.V.Name(), a.V.In, a.V.Out, false)
	if err := copyState[S, T](c.V, a.V); err != nil {
		return nil, err
	}
	if a.Phase2 {
		if c.Snapshot, err = convertLayer[S, T](a.Snapshot); err != nil {
			return nil, err
		}
		if c.RandomMap, err = convertLayer[S, T](a.RandomMap); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// convertModel converts a *models.Model (by models.Convert), an
// *AlignedModel, or a tree of plain layers.
func convertModel[S, T nn.Float](m nn.Module[T]) (nn.Module[S], error) {
	switch s := m.(type) {
	case *models.Model[T]:
		if c, err := models.Convert[S, T](s); err == nil {
			return c, nil
		}
		seq, err := convertLayer[S, T](s.Sequential)
		if err != nil {
			return nil, err
		}
		return &models.Model[S]{Sequential: seq.(*nn.Sequential[S]), Arch: s.Arch, Config: s.Config}, nil
	case *AlignedModel[T]:
		return ConvertAligned[S, T](s)
	}
	return convertLayer[S, T](m)
}

// PhiCertificate checks rank Phi = n on the given inputs (all of them: the
// certificate for exactly these examples). By THEORY.md, the V-block of the
// Jacobian of f~ is I_m (x) c Phi, so rank Phi = n gives CMS and DAA at every
// point of phase 2. The check also reports the certificate's conditioning:
// sigma_min / sigma_max of Phi (that of c Phi), the V-block's smallest
// kernel eigenvalue lambda_min = c^2 sigma_min(Phi)^2 and the number of
// steps R5 implies to reduce the loss by 1e-6 along V alone: a rank
// certificate with sigma_min / sigma_max = 1e-5 holds but needs about 1e11
// steps.
func (a *AlignedModel[T]) PhiCertificate(x *tensor.Tensor[T], label string) (Check, error) {
	phi, err := a.Phi(x)
	if err != nil {
		return Check{}, err
	}
	phi = phi.Contiguous()
	n := x.Shape()[0]
	p := phi.Numel() / n
	f := make([]float64, n*p)
	for i, v := range phi.Data() {
		f[i] = float64(v)
	}
	tau := 1e-8
	if any(*new(T)) == any(float32(0)) {
		tau = 1e-5 // float32 features
	}
	c := Check{Name: "aligned rank Phi (" + label + ")", Size: n, Rho: math.NaN(),
		Certifies: fmt.Sprintf("rank Phi = n on %s: V-block I_m (x) c Phi spans R^N, so CMS and DAA hold at every point of phase 2 (for these examples)", label)}
	return rankCertificate(c, f, n, p, tau, a.Scale()), nil
}

// AlignedRun describes a base run and its aligned twin with identical
// budget, hyper-parameters and seeds.
type AlignedRun[T nn.Float] struct {
	// NewModel builds the model with the same initialization on every call.
	NewModel func() (nn.Module[T], error)
	// NewOptimizer builds the optimizer (same hyper-parameters) over params.
	NewOptimizer func(params []*nn.Param[T]) (optim.Optimizer[T], error)
	// Train is the base configuration; Model and Optimizer are filled in,
	// OutDir (if set) gets "base" and "aligned" subdirectories.
	Train train.Config[T]
	// Aligned configures the switch.
	Aligned AlignedConfig
	// CertificateExamples is the number of training examples on which rank
	// Phi = n is checked (0: min(n, 1024)); when fewer than n, they are the
	// first ones of a fixed random permutation and the report says so.
	CertificateExamples int
}

// AlignedResult records both runs.
type AlignedResult struct {
	Base, Aligned *train.Result
	Tau           int
	Features      int   // p
	Certificate   Check // rank Phi = n at the switch
}

// RunAligned runs the base algorithm and the aligned one (same NewModel,
// NewOptimizer, Train config; the aligned model switches at Aligned.Tau).
// Phase 1 of the aligned run is step for step the base run. The certificate
// is computed at the switch on the training images (normalized with
// Train.Augment.Norm when set; no crop or flip).
func RunAligned[T nn.Float](ctx context.Context, r AlignedRun[T]) (*AlignedResult, error) {
	res := &AlignedResult{Tau: r.Aligned.Tau}
	// base run
	bm, err := r.NewModel()
	if err != nil {
		return nil, err
	}
	bo, err := r.NewOptimizer(bm.Params())
	if err != nil {
		return nil, err
	}
	cfg := r.Train
	cfg.Model, cfg.Optimizer = bm, bo
	if r.Train.OutDir != "" {
		cfg.OutDir = filepath.Join(r.Train.OutDir, "base")
	}
	tr, err := train.New(cfg)
	if err != nil {
		return nil, err
	}
	if res.Base, err = tr.Run(ctx); err != nil {
		return nil, err
	}
	// aligned run
	am, err := r.NewModel()
	if err != nil {
		return nil, err
	}
	ac := r.Aligned
	ac.NoInputGradient = true // lib/train discards the input gradient
	if len(ac.InputShape) == 0 {
		ac.InputShape = []int{cfg.Train.C, cfg.Train.H, cfg.Train.W}
	}
	a, err := NewAlignedModel(am, ac)
	if err != nil {
		return nil, err
	}
	res.Features = a.Features()
	ao, err := r.NewOptimizer(a.Params())
	if err != nil {
		return nil, err
	}
	cfg = r.Train
	cfg.Model, cfg.Optimizer = a, ao
	if r.Train.OutDir != "" {
		cfg.OutDir = filepath.Join(r.Train.OutDir, "aligned")
	}
	var certErr error
	switchNow := func() {
		if certErr = a.Switch(); certErr != nil {
			return
		}
		x, label := certInputs[T](cfg.Train, cfg.Augment, r.CertificateExamples)
		res.Certificate, certErr = a.PhiCertificate(x, label)
	}
	if ac.Tau <= 0 {
		switchNow()
		if certErr != nil {
			return nil, certErr
		}
	}
	cfg.Callbacks = append(append([]train.Callback(nil), cfg.Callbacks...), train.Callback{OnStep: func(s *train.StepInfo) error {
		if s.Step == ac.Tau && !a.Phase2 {
			switchNow()
			return certErr
		}
		return nil
	}})
	tr, err = train.New(cfg)
	if err != nil {
		return nil, err
	}
	if res.Aligned, err = tr.Run(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// certInputs returns up to k training images as a T tensor.
func certInputs[T nn.Float](d *data.Dataset, aug *data.Augment, k int) (*tensor.Tensor[T], string) {
	if k <= 0 {
		k = 1024
	}
	idx := make([]int, d.N)
	for i := range idx {
		idx[i] = i
	}
	label := fmt.Sprintf("all %d training examples", d.N)
	if k < d.N {
		idx = tensor.NewRNG(12345).Perm(d.N)[:k]
		label = fmt.Sprintf("a random subset of %d of the %d training examples (certifies that subset only)", k, d.N)
	}
	sz := d.C * d.H * d.W
	x := tensor.Must(tensor.New[T](len(idx), d.C, d.H, d.W))
	xd := x.Data()
	for j, i := range idx {
		img := d.Images[i*sz : (i+1)*sz]
		for c := 0; c < d.C; c++ {
			for q := 0; q < d.H*d.W; q++ {
				v := img[c*d.H*d.W+q]
				if aug != nil && aug.Norm != nil {
					v = (v - aug.Norm.Mean[c]) / aug.Norm.Std[c]
				}
				xd[j*sz+c*d.H*d.W+q] = T(v)
			}
		}
	}
	return x, label
}
