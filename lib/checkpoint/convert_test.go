package checkpoint

import (
	"math"
	"testing"
)

// TestHalfExhaustive checks every binary16 value: F16 -> float32 -> F16 is
// the identity, the known constants decode exactly, and a float32 exactly
// between two neighbouring halves rounds to the even one.
func TestHalfExhaustive(t *testing.T) {
	for _, c := range []struct {
		h uint16
		f float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 1.0 / (1 << 24)}, {0x0400, 1.0 / (1 << 14)},
		{0x3555, 0.333251953125}, {0x8000, float32(math.Copysign(0, -1))}} {
		if g := HalfToFloat32(c.h); g != c.f || math.Signbit(float64(g)) != math.Signbit(float64(c.f)) {
			t.Errorf("HalfToFloat32(%#04x) = %v, want %v", c.h, g, c.f)
		}
	}
	if !math.IsInf(float64(HalfToFloat32(0x7c00)), 1) || !math.IsNaN(float64(HalfToFloat32(0x7e00))) {
		t.Error("F16 Inf/NaN decode wrong")
	}
	if Float32ToHalf(70000) != 0x7c00 || Float32ToHalf(float32(math.NaN()))&0x7c00 != 0x7c00 {
		t.Error("F16 overflow/NaN encode wrong")
	}
	for h := 0; h < 1<<16; h++ {
		f := HalfToFloat32(uint16(h))
		if f != f {
			continue
		}
		if g := Float32ToHalf(f); g != uint16(h) {
			t.Fatalf("Float32ToHalf(HalfToFloat32(%#04x) = %v) = %#04x", h, f, g)
		}
		next := uint16(h + 1)
		if h&0x7fff >= 0x7bff { // the next one is Inf or beyond
			continue
		}
		mid := float32((float64(f) + float64(HalfToFloat32(next))) / 2)
		want := uint16(h)
		if h&1 == 1 {
			want = next
		}
		if g := Float32ToHalf(mid); g != want {
			t.Fatalf("Float32ToHalf(%v, midway between %#04x and %#04x) = %#04x, want %#04x", mid, h, next, g, want)
		}
	}
}

func TestBFloat16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := BFloat16ToFloat32(uint16(h))
		if f != f {
			continue
		}
		if math.Float32bits(f) != uint32(h)<<16 || Float32ToBFloat16(f) != uint16(h) {
			t.Fatalf("BF16 %#04x round trip: %v -> %#04x", h, f, Float32ToBFloat16(f))
		}
	}
	// 1 + 2^-8 is midway between 1 and 1 + 2^-7: ties to even (1).
	if g := Float32ToBFloat16(1 + 1.0/256); g != 0x3f80 {
		t.Errorf("BF16(1+2^-8) = %#04x, want 0x3f80", g)
	}
	if g := Float32ToBFloat16(1 + 3.0/256); g != 0x3f82 {
		t.Errorf("BF16(1+3*2^-8) = %#04x, want 0x3f82", g)
	}
}

func TestAsFloat64s(t *testing.T) {
	ts := []Tensor{
		FromInt64("i64", []int{3}, []int64{0, -5, 1 << 40}),
		FromInt32("i32", []int{2}, []int32{7, -1}),
		{Name: "u8", DType: U8, Shape: []int{2}, Data: []byte{0, 255}},
		{Name: "i8", DType: I8, Shape: []int{1}, Data: []byte{0xff}},
		{Name: "f16", DType: F16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}},
		{Name: "bf16", DType: BF16, Shape: []int{1}, Data: []byte{0x80, 0x3f}},
		FromFloat32("f32", []int{1}, []float32{0.1}),
	}
	want := [][]float64{{0, -5, 1 << 40}, {7, -1}, {0, 255}, {-1}, {1, -2}, {1}, {float64(float32(0.1))}}
	for i := range ts {
		v, err := ts[i].AsFloat64s()
		if err != nil {
			t.Fatal(err)
		}
		for j := range v {
			if v[j] != want[i][j] {
				t.Errorf("%s[%d] = %v, want %v", ts[i].Name, j, v[j], want[i][j])
			}
		}
	}
	big := FromInt64("big", []int{1}, []int64{1<<53 + 1})
	if _, err := big.AsFloat64s(); err == nil {
		t.Error("2^53+1 as float64: no error")
	}
	for _, d := range []DType{F64, F32, F16, BF16, I64} {
		tt, err := FromFloat64As("x", d, []int{3}, []float64{1, -2, 3})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := tt.AsFloat64s()
		if len(v) != 3 || v[0] != 1 || v[1] != -2 || v[2] != 3 {
			t.Errorf("%s round trip: %v", d, v)
		}
	}
	if _, err := FromFloat64As("x", I64, []int{1}, []float64{0.5}); err == nil {
		t.Error("0.5 as I64: no error")
	}
}
