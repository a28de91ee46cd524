package data

import (
	"math/big"
	"testing"
)

// FuzzParseIDX and FuzzParseMAT check that damaged input gives an error,
// never a panic.
func FuzzParseIDX(f *testing.F) {
	f.Add(WriteIDX([]int{2, 2, 2}, make([]byte, 8)))
	f.Add(WriteIDX([]int{3}, []byte{1, 2, 3}))
	f.Add(WriteIDX(wrapDims, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseIDX(b)
		if err == nil {
			// The oracle multiplies in math/big: it cannot wrap around
			// the way an int product of crafted dimensions does.
			if n := bigElements(x.Dims); !n.IsInt64() || n.Int64() != int64(len(x.Data)) {
				t.Fatalf("dims %v (%v values) but %d bytes", x.Dims, n, len(x.Data))
			}
		}
	})
}

func FuzzParseMAT(f *testing.F) {
	for _, compress := range []bool{false, true} {
		m := newMAT()
		m.add(matrix("X", 9, []int{2, 2, 3, 1}, miUINT8, make([]byte, 12)), compress)
		m.add(matrix("y", 6, []int{1, 1}, miUINT8, []byte{3}), compress)
		f.Add(m.buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMAT(b)
		if err != nil {
			return
		}
		for _, a := range m {
			n := bigElements(a.Dims)
			if bytes := new(big.Int).Mul(n, big.NewInt(int64(miSize[a.Type]))); !bytes.IsInt64() || bytes.Int64() != int64(len(a.Data)) {
				t.Fatalf("array %s: %d data bytes for dims %v (%v values) of type %d", a.Name, len(a.Data), a.Dims, n, a.Type)
			}
			if v, err := a.Float64s(); err == nil && int64(len(v)) != n.Int64() {
				t.Fatalf("array %s: %d values for dims %v", a.Name, len(v), a.Dims)
			}
		}
	})
}
