package data

import (
	"math/big"
	"path/filepath"
	"testing"
)

// bigElements is the exact product of dims (the oracle: math/big cannot
// overflow).
func bigElements(dims []int) *big.Int {
	n := big.NewInt(1)
	for _, d := range dims {
		n.Mul(n, big.NewInt(int64(d)))
	}
	return n
}

// Dimensions whose int64 product wraps to 0: 3*2^30 * 3*2^30 * 16 = 9*2^64.
var wrapDims = []int{1, 3 << 30, 3 << 30, 16}

// TestIDXHeaderOverflow: a header whose dimension product wraps around to 0
// was accepted with no data at all (probe 2 of issue 17).
func TestIDXHeaderOverflow(t *testing.T) {
	crafted := WriteIDX(wrapDims, nil)
	if x, err := ParseIDX(crafted); err == nil {
		t.Fatalf("ParseIDX accepted dims %v with %d data bytes", x.Dims, len(x.Data))
	} else {
		wantErr(t, err, "bad IDX header", "more than")
	}
	dir := t.TempDir()
	ip := writeFile(t, filepath.Join(dir, "img.idx"), crafted)
	lp := writeFile(t, filepath.Join(dir, "lab.idx"), WriteIDX([]int{1}, []byte{0}))
	if d, err := LoadIDX("t", ip, lp, nil); err == nil {
		t.Fatalf("LoadIDX accepted %v (ImageSize %d)", d, d.ImageSize())
	} else {
		wantErr(t, err, "img.idx", "bad IDX header")
	}
	// Zero dimensions are fine, but not beside absurd ones.
	if _, err := ParseIDX(WriteIDX([]int{0, 28, 28}, nil)); err != nil {
		t.Errorf("empty IDX refused: %v", err)
	}
	if _, err := ParseIDX(WriteIDX([]int{0, 1 << 31, 1 << 31}, nil)); err == nil {
		t.Error("ParseIDX accepted [0, 2^31, 2^31]")
	}
}

// TestValidateOverflow: Dataset.Validate multiplied N*C*H*W without overflow
// checks, so this shape passed with no image values.
func TestValidateOverflow(t *testing.T) {
	d := &Dataset{Name: "crafted", N: wrapDims[0], C: wrapDims[1], H: wrapDims[2], W: wrapDims[3], Classes: 1, Labels: []int32{0}}
	if err := d.Validate(); err == nil {
		t.Fatalf("Validate accepted %v with %d image values", d, len(d.Images))
	} else {
		wantErr(t, err, "crafted", "overflows")
	}
	d = &Dataset{Name: "wrap", N: 16, C: 1 << 31, H: 1 << 31, W: 1 << 31, Classes: 1, Labels: make([]int32, 16)}
	wantErr(t, d.Validate(), "wrap", "overflows")
}

// TestMATDimsOverflow: a MAT array whose dimension product wraps to 0.
func TestMATDimsOverflow(t *testing.T) {
	m := newMAT()
	m.add(matrix("X", 9, []int{1 << 30, 1 << 30, 1 << 30, 1 << 30}, miUINT8, nil), false)
	_, err := ParseMAT(m.buf.Bytes())
	wantErr(t, err, "array X", "overflows")
	if got := (&MatArray{Dims: []int{1 << 40, 1 << 40}}).Len(); got != -1 {
		t.Errorf("Len of an overflowing array = %d, want -1", got)
	}
}
