package theory

import (
	"slices"
	"strings"
	"testing"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// featureScale is a layer defined only here, in a test file: y = a * x + b
// per feature on [n, f] inputs (learnable a, b). It implements nn.Module,
// nn.JVPModule, nn.Cloner and nn.Describer and nothing else knows it: the
// Jacobian (with parallel replicas), CMS, the summary and aligned training's
// snapshot must all accept it.
type featureScale struct {
	name string
	A, B *nn.Param[float64]
	x    *tensor.Tensor[float64]
}

func newFeatureScale(name string, f int, seed uint64) *featureScale {
	r := tensor.NewRNG(seed)
	l := &featureScale{name: name,
		A: &nn.Param[float64]{Name: name + ".a", Shape: []int{f}, Data: make([]float64, f), Grad: make([]float64, f)},
		B: &nn.Param[float64]{Name: name + ".bias", Shape: []int{f}, Data: make([]float64, f), Grad: make([]float64, f), NoDecay: true}}
	for i := range l.A.Data {
		l.A.Data[i], l.B.Data[i] = 1+0.5*r.Normal(), 0.3*r.Normal()
	}
	return l
}

func (l *featureScale) Name() string                     { return l.name }
func (l *featureScale) Params() []*nn.Param[float64]     { return []*nn.Param[float64]{l.A, l.B} }
func (l *featureScale) Buffers() []*nn.Buffer[float64]   { return nil }
func (l *featureScale) OutShape(in []int) ([]int, error) { return slices.Clone(in), nil }

func (l *featureScale) Forward(x *tensor.Tensor[float64], mode nn.Mode) (*tensor.Tensor[float64], error) {
	l.x = x.Contiguous()
	f := len(l.A.Data)
	y := tensor.Must(tensor.New[float64](l.x.Shape()...))
	for i, v := range l.x.Data() {
		y.Data()[i] = l.A.Data[i%f]*v + l.B.Data[i%f]
	}
	return y, nil
}

func (l *featureScale) Backward(dy *tensor.Tensor[float64]) (*tensor.Tensor[float64], error) {
	f := len(l.A.Data)
	dx := tensor.Must(tensor.New[float64](l.x.Shape()...))
	for i, g := range dy.Contiguous().Data() {
		l.A.Grad[i%f] += g * l.x.Data()[i]
		l.B.Grad[i%f] += g
		dx.Data()[i] = g * l.A.Data[i%f]
	}
	return dx, nil
}

func (l *featureScale) ForwardJVP(x, dx *tensor.Tensor[float64], mode nn.Mode) (*tensor.Tensor[float64], *tensor.Tensor[float64], error) {
	y, err := l.Forward(x, mode)
	if err != nil {
		return nil, nil, err
	}
	f := len(l.A.Data)
	t := tensor.Must(tensor.New[float64](y.Shape()...))
	for i, v := range l.x.Data() {
		if l.A.Tangent != nil {
			t.Data()[i] += l.A.Tangent[i%f] * v
		}
		if l.B.Tangent != nil {
			t.Data()[i] += l.B.Tangent[i%f]
		}
		if dx != nil {
			t.Data()[i] += l.A.Data[i%f] * dx.Contiguous().Data()[i]
		}
	}
	return y, t, nil
}

func (l *featureScale) Clone() (nn.Module[float64], error) {
	c := newFeatureScale(l.name, len(l.A.Data), 0)
	copy(c.A.Data, l.A.Data)
	copy(c.B.Data, l.B.Data)
	return c, nil
}

func (l *featureScale) Describe(in, out []int) (string, string, int64) {
	return "FeatureScale", "per-feature a*x+b", 2 * int64(prod(out))
}

func TestNewLayerNeedsOnlyItsOwnFile(t *testing.T) {
	m := nn.NewSequential[float64]("", nn.NewLinear[float64]("l0", 3, 5, true), newFeatureScale("fs", 5, 1), nn.NewTanh[float64]("t0"), nn.NewLinear[float64]("head", 5, 2, true))
	randomize(m, 4, 0.7)
	x := randInput(6, 4, 3)
	// Jacobian: against finite differences, and identical with replicas
	// (nn.Clone of the new layer).
	checkJacobian(t, "featureScale", m, x, nn.Eval, 20)
	a, err := ComputeJacobian(m, x, JacobianOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ComputeJacobian(m, x, JacobianOptions{Workers: 3})
	if err != nil || !slices.Equal(a.Data, b.Data) {
		t.Fatalf("replicas differ: %v", err)
	}
	if _, err := replicate(m); err != nil {
		t.Errorf("replicate: %v", err)
	}
	// CMS: the head is affine, so the "last affine layer" candidate holds.
	rep, err := CMSAuto("with featureScale", m, x, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Results[0].Holds {
		t.Errorf("CMS: %+v", rep.Results[0])
	}
	// Summary: the layer describes itself.
	s, err := nn.Summarize[float64](m, []int{4, 3})
	if err != nil || !strings.Contains(s.String(), "FeatureScale") {
		t.Errorf("summary (%v):\n%v", err, s)
	}
	// Aligned training: the snapshot clones it.
	al, err := NewAlignedModel[float64](m, AlignedConfig{InputShape: []int{3}, SnapshotLayers: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := al.Switch(); err != nil {
		t.Fatalf("switch: %v", err)
	}
	m.Layers[1].(*featureScale).A.Data[0] += 1 // the snapshot is a copy
	phi, err := al.Phi(x)
	if err != nil {
		t.Fatal(err)
	}
	m.Layers[1].(*featureScale).A.Data[0] -= 1
	h, _ := nn.NewSequential[float64]("", m.Layers[:3]...).Forward(x, nn.Eval)
	if e := relErr(phi.Contiguous().Data(), h.Contiguous().Data()); e > 1e-15 {
		t.Errorf("snapshot differs from the frozen layers: %.3g", e)
	}
}
