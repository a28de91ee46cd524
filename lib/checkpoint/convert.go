package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"
)

// This file converts between the dtypes: files written by PyTorch carry
// F16/BF16 weights and I64 counters (batch norm's num_batches_tracked),
// while the library computes in float32/float64.

// IsFloat reports whether d is a floating-point dtype (F64, F32, F16, BF16).
func (d DType) IsFloat() bool { return d == F64 || d == F32 || d == F16 || d == BF16 }

// IsInteger reports whether d is an integer or boolean dtype.
func (d DType) IsInteger() bool { return d.Size() > 0 && !d.IsFloat() }

// HalfToFloat32 converts an IEEE 754 binary16 value (F16) to float32,
// exactly (subnormals, infinities and NaNs included).
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp != 0: // normal: rebias 15 -> 127
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// subnormal: frac * 2^-24
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// Float32ToHalf converts f to binary16, rounding to nearest even; values
// beyond the range become infinities.
func Float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	frac := b & 0x7fffff
	if exp == 0xff { // Inf or NaN (keep NaN quiet)
		if frac != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // subnormal or zero in binary16
		if e < -10 {
			return sign
		}
		m := frac | 0x800000 // implicit bit
		shift := uint32(14 - e)
		half := m >> shift
		rem := m & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | frac>>13
	rem := frac & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent: still correct (up to Inf)
	}
	return sign | uint16(half)
}

// BFloat16ToFloat32 converts a bfloat16 value (BF16: the high half of a
// float32) to float32, exactly.
func BFloat16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// Float32ToBFloat16 converts f to bfloat16, rounding to nearest even.
func Float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep it a (quiet) NaN
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// maxExactInt is the largest integer magnitude float64 holds exactly.
const maxExactInt = 1 << 53

// AsFloat64s decodes a tensor of any numeric dtype into float64: floats
// exactly (F16 and BF16 included), integers and booleans by value. An
// integer too large for float64 to hold exactly is an error naming the
// tensor.
func (t *Tensor) AsFloat64s() ([]float64, error) {
	d := t.DType
	if d.Size() == 0 {
		return nil, fmt.Errorf("checkpoint: tensor %q: unknown dtype %q", t.Name, d)
	}
	if err := t.want(d); err != nil {
		return nil, err
	}
	n := t.Elements()
	v := make([]float64, n)
	b := t.Data
	le := binary.LittleEndian
	for i := range v {
		switch d {
		case F64:
			v[i] = math.Float64frombits(le.Uint64(b[8*i:]))
		case F32:
			v[i] = float64(math.Float32frombits(le.Uint32(b[4*i:])))
		case F16:
			v[i] = float64(HalfToFloat32(le.Uint16(b[2*i:])))
		case BF16:
			v[i] = float64(BFloat16ToFloat32(le.Uint16(b[2*i:])))
		case I64:
			x := int64(le.Uint64(b[8*i:]))
			if x > maxExactInt || x < -maxExactInt {
				return nil, fmt.Errorf("checkpoint: tensor %q: I64 value %d at index %d is not exact in float64", t.Name, x, i)
			}
			v[i] = float64(x)
		case U64:
			x := le.Uint64(b[8*i:])
			if x > maxExactInt {
				return nil, fmt.Errorf("checkpoint: tensor %q: U64 value %d at index %d is not exact in float64", t.Name, x, i)
			}
			v[i] = float64(x)
		case I32:
			v[i] = float64(int32(le.Uint32(b[4*i:])))
		case U32:
			v[i] = float64(le.Uint32(b[4*i:]))
		case I16:
			v[i] = float64(int16(le.Uint16(b[2*i:])))
		case U16:
			v[i] = float64(le.Uint16(b[2*i:]))
		case I8:
			v[i] = float64(int8(b[i]))
		case U8, Bool:
			v[i] = float64(b[i])
		}
	}
	return v, nil
}

// FromFloat64As makes a tensor of dtype d (F64, F32, F16 or BF16, rounding
// to nearest even; or I64, which requires integral values) from v.
func FromFloat64As(name string, d DType, shape []int, v []float64) (Tensor, error) {
	t := Tensor{Name: name, DType: d, Shape: append([]int{}, shape...)}
	le := binary.LittleEndian
	switch d {
	case F64:
		return FromFloat64(name, shape, v), nil
	case F32:
		b := make([]byte, 4*len(v))
		for i, x := range v {
			le.PutUint32(b[4*i:], math.Float32bits(float32(x)))
		}
		t.Data = b
	case F16, BF16:
		b := make([]byte, 2*len(v))
		for i, x := range v {
			if d == F16 {
				le.PutUint16(b[2*i:], Float32ToHalf(float32(x)))
			} else {
				le.PutUint16(b[2*i:], Float32ToBFloat16(float32(x)))
			}
		}
		t.Data = b
	case I64:
		iv := make([]int64, len(v))
		for i, x := range v {
			if x != math.Trunc(x) || math.Abs(x) > maxExactInt {
				return Tensor{}, fmt.Errorf("checkpoint: tensor %q: value %v at index %d is not an integer", name, x, i)
			}
			iv[i] = int64(x)
		}
		return FromInt64(name, shape, iv), nil
	default:
		return Tensor{}, fmt.Errorf("checkpoint: tensor %q: cannot convert to %s (want F64, F32, F16, BF16 or I64)", name, d)
	}
	return t, nil
}
