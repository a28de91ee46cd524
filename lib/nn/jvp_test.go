package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestJVPParams: a direction on a subset of the parameters equals the full
// direction with zeros elsewhere; tangents set before the call (as an
// enclosing JVP sets them for a wrapper's children) are restored, and a
// nil direction uses them as they are.
func TestJVPParams(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	m := NewSequential[float64]("", NewConv2d[float64]("conv", 2, 3, 3, 1, 1, true), NewBatchNorm2d[float64]("bn", 3),
		NewReLU[float64]("relu"), NewFlatten[float64]("flat"), NewLinear[float64]("fc", 3*4*4, 2, true))
	randInit(r, m, 0.7)
	x := wrap(randSlice(r, 3*2*4*4, 1), 3, 2, 4, 4)
	ps := m.Params()
	sub := []*Param[float64]{ps[len(ps)-2], ps[0], ps[2]} // fc.weight, conv.weight, bn.weight
	var vs []float64
	for _, p := range sub {
		vs = append(vs, randSlice(r, len(p.Data), 1)...)
	}
	at := map[*Param[float64]]int{} // offset of each parameter in full
	off := 0
	for _, p := range ps {
		at[p] = off
		off += len(p.Data)
	}
	full := make([]float64, off)
	off = 0
	for _, p := range sub {
		copy(full[at[p]:at[p]+len(p.Data)], vs[off:])
		off += len(p.Data)
	}
	for _, mode := range []Mode{BatchStats, Eval} {
		_, dy, err := JVP[float64](m, x, nil, full, mode)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]float64(nil), dy.Data()...)
		_, dy, err = JVPParams[float64](m, x, nil, sub, vs, mode)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			if math.Abs(dy.Data()[i]-w) > 1e-12*(1+math.Abs(w)) {
				t.Fatalf("%v: JVPParams[%d] = %v, JVP %v", mode, i, dy.Data()[i], w)
			}
		}
		for _, p := range ps {
			if p.Tangent != nil {
				t.Fatal("JVPParams left a Tangent set")
			}
		}
		// tangents set by hand: JVP with v nil uses them; JVPParams restores them
		tw := full[:len(ps[0].Data)]
		ps[0].Tangent = tw
		_, dy, err = JVP[float64](m, x, nil, nil, mode)
		if err != nil {
			t.Fatal(err)
		}
		got := append([]float64(nil), dy.Data()...)
		_, dy, err = JVPParams[float64](m, x, nil, ps[:1], tw, mode)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range dy.Data() {
			if got[i] != w {
				t.Fatalf("%v: preset tangent: %v vs %v", mode, got[i], w)
			}
		}
		if &ps[0].Tangent[0] != &tw[0] {
			t.Fatal("JVPParams did not restore a preset Tangent")
		}
		ps[0].Tangent = nil
	}
	if _, _, err := JVPParams[float64](m, x, nil, sub, vs[1:], Eval); err == nil {
		t.Error("short direction accepted")
	}
}
