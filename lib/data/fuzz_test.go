package data

import "testing"

// FuzzParseIDX and FuzzParseMAT check that damaged input gives an error,
// never a panic.
func FuzzParseIDX(f *testing.F) {
	f.Add(WriteIDX([]int{2, 2, 2}, make([]byte, 8)))
	f.Add(WriteIDX([]int{3}, []byte{1, 2, 3}))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseIDX(b)
		if err == nil {
			n := 1
			for _, d := range x.Dims {
				n *= d
			}
			if n != len(x.Data) {
				t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
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
			if v, err := a.Float64s(); err == nil && len(v) != a.Len() {
				t.Fatalf("array %s: %d values for dims %v", a.Name, len(v), a.Dims)
			}
		}
	})
}
