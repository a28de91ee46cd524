package tensor

import (
	"math"
	"slices"
	"testing"
)

// Regression values: if these change, every seeded experiment changes.
func TestRNGFixedStream(t *testing.T) {
	var x uint64
	if got := splitmix(&x); got != 0xe220a8397b1dcdaf { // SplitMix64 reference, seed 0
		t.Fatalf("splitmix(0) = %#x", got)
	}
	r := NewRNG(42)
	want := []uint64{0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1, 0xecb8ad4703b360a1}
	for i, w := range want {
		if got := r.Uint64(); got != w {
			t.Fatalf("NewRNG(42) value %d = %#x, want %#x", i, got, w)
		}
	}
	r = NewRNG(42)
	if f, n, z, p := r.Float64(), r.Intn(1000), r.Normal(), r.Perm(8); f != 0.08386297105988216 || n != 378 ||
		z != 1.3438117634372808 || !slices.Equal(p, []int{0, 2, 1, 3, 6, 4, 5, 7}) {
		t.Fatalf("derived values changed: %v %v %v %v", f, n, z, p)
	}
	if got := NewRNG(42).Split("layer1.0.conv1.weight").Uint64(); got != 0x619baa9ab9091b8e {
		t.Fatalf("Split value %#x", got)
	}
	if got := NewRNG(7).SplitN(3).Uint64(); got != 0xe3f03a0a0fb7ae04 {
		t.Fatalf("SplitN value %#x", got)
	}
}

func TestRNGSplitIndependentOfDraws(t *testing.T) {
	a, b := NewRNG(1), NewRNG(1)
	for i := 0; i < 10; i++ {
		b.Uint64()
	}
	if a.Split("fc.weight").Uint64() != b.Split("fc.weight").Uint64() {
		t.Fatal("Split must not depend on the parent's draws")
	}
	if a.Split("fc.weight").Uint64() == a.Split("fc.bias").Uint64() || a.SplitN(1).Uint64() == a.SplitN(2).Uint64() {
		t.Fatal("different names must give different streams")
	}
	if a.Split("x").Key() == NewRNG(2).Split("x").Key() {
		t.Fatal("different seeds must give different children")
	}
}

func TestRNGMarshal(t *testing.T) {
	r := NewRNG(99).Split("data")
	for i := 0; i < 5; i++ {
		r.Uint64()
	}
	b, err := r.MarshalBinary()
	if err != nil || len(b) != 48 {
		t.Fatal(err, len(b))
	}
	var s RNG
	if err := s.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if r.Uint64() != s.Uint64() {
			t.Fatal("resumed stream differs")
		}
	}
	if r.Split("a").Uint64() != s.Split("a").Uint64() {
		t.Fatal("key not restored")
	}
	if err := s.UnmarshalBinary(b[:47]); err == nil {
		t.Fatal("short state accepted")
	}
}

func TestRNGDistributions(t *testing.T) {
	r := NewRNG(5)
	const n = 200000
	var s, s2 float64
	counts := make([]int, 7)
	for i := 0; i < n; i++ {
		u := r.Float64()
		if u < 0 || u >= 1 {
			t.Fatal("Float64 out of [0,1)")
		}
		f := r.Float32()
		if f < 0 || f >= 1 {
			t.Fatal("Float32 out of [0,1)")
		}
		z := r.Normal()
		s += z
		s2 += z * z
		counts[r.Intn(7)]++
	}
	if m := s / n; math.Abs(m) > 0.01 {
		t.Errorf("normal mean %v", m)
	}
	if v := s2 / n; math.Abs(v-1) > 0.015 {
		t.Errorf("normal variance %v", v)
	}
	for k, c := range counts {
		if math.Abs(float64(c)/n-1.0/7) > 0.005 {
			t.Errorf("Intn(7) bucket %d: %d", k, c)
		}
	}
	p := r.Perm(100)
	q := slices.Clone(p)
	slices.Sort(q)
	for i, v := range q {
		if v != i {
			t.Fatal("Perm is not a permutation")
		}
	}
}
