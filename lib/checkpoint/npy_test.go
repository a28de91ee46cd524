package checkpoint

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestNPYRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		shape []int
		write func(path string) error
		dtype DType
		want  []float64
	}{
		{"scalar.npy", []int{}, func(p string) error { return WriteNPY(p, []int{}, []float64{2.5}) }, F64, []float64{2.5}},
		{"vec.npy", []int{3}, func(p string) error { return WriteNPY(p, []int{3}, []float32{1, -2, 0.5}) }, F32, []float64{1, -2, 0.5}},
		{"mat.npy", []int{2, 3}, func(p string) error { return WriteNPY(p, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}) }, F64, []float64{1, 2, 3, 4, 5, 6}},
		{"ints.npy", []int{2, 1, 2}, func(p string) error { return WriteNPY(p, []int{2, 1, 2}, []int64{1, -1, 1 << 40, 0}) }, I64, []float64{1, -1, 1 << 40, 0}},
		{"empty.npy", []int{0, 4}, func(p string) error { return WriteNPY(p, []int{0, 4}, []float32{}) }, F32, nil},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := c.write(p); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		hl := int(b[8]) | int(b[9])<<8
		if (10+hl)%64 != 0 || b[10+hl-1] != '\n' {
			t.Errorf("%s: header of %d bytes not padded to 64 with a final newline", c.name, hl)
		}
		tt, err := ReadNPY(p)
		if err != nil {
			t.Fatal(err)
		}
		v, err := tt.AsFloat64s()
		if err != nil || tt.DType != c.dtype || len(tt.Shape) != len(c.shape) || len(v) != len(c.want) {
			t.Fatalf("%s: read back %s %v %v (%v)", c.name, tt.DType, tt.Shape, v, err)
		}
		for i := range v {
			if v[i] != c.want[i] {
				t.Errorf("%s[%d] = %v, want %v", c.name, i, v[i], c.want[i])
			}
		}
	}
	if err := WriteNPY(filepath.Join(dir, "bad.npy"), []int{2, 2}, []float32{1}); err == nil {
		t.Error("shape/data mismatch: no error")
	}
	good, _ := os.ReadFile(filepath.Join(dir, "mat.npy"))
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"truncated", good[:len(good)-8], "needs a different size"},
		{"magic", append([]byte("XNUMPY"), good[6:]...), "magic"},
		{"fortran", bytes.Replace(good, []byte("False"), []byte("True "), 1), "Fortran"},
		{"bigendian", bytes.Replace(good, []byte("<f8"), []byte(">f8"), 1), "not supported"},
		{"huge", append(npyHeader(F64, []int{1 << 40, 1 << 40, 1 << 40}), make([]byte, 64)...), "needs a different size"},
	} {
		if _, err := DecodeNPY(c.b, c.name); err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err %v, want one line containing %q", c.name, err, c.want)
		}
	}
}

// TestNPYNumPy checks the files against NumPy itself: numpy.load reads what
// WriteNPY writes (dtype, shape and values), and ReadNPY reads numpy.save's.
func TestNPYNumPy(t *testing.T) {
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("skipping: /usr/bin/python3 cannot import numpy (apt-get install python3-numpy)")
	}
	dir := t.TempDir()
	if err := WriteNPY(filepath.Join(dir, "a.npy"), []int{2, 3}, []float32{1, 2, 3, 4, 5, 6.5}); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPY(filepath.Join(dir, "b.npy"), []int{4}, []float64{0.1, -0.2, 1e300, 0}); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPY(filepath.Join(dir, "c.npy"), []int{}, []int64{-7}); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
d = sys.argv[1]
a = np.load(d + "/a.npy"); b = np.load(d + "/b.npy"); c = np.load(d + "/c.npy")
assert a.dtype == np.float32 and a.shape == (2, 3) and a.tolist() == [[1, 2, 3], [4, 5, 6.5]], a
assert b.dtype == np.float64 and b.shape == (4,) and b.tolist() == [0.1, -0.2, 1e300, 0], b
assert c.dtype == np.int64 and c.shape == () and int(c) == -7, c
np.save(d + "/n.npy", np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 8)
np.save(d + "/h.npy", np.array([1.5, -0.25, 65504], dtype=np.float16))
print("ok")
`
	out, err := exec.Command(py, "-c", script, dir).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	n, err := ReadNPY(filepath.Join(dir, "n.npy"))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := n.AsFloat64s()
	if n.DType != F64 || len(n.Shape) != 3 || n.Shape[2] != 4 || len(v) != 24 || v[23] != 23.0/8 {
		t.Errorf("numpy.save file read as %s %v %v", n.DType, n.Shape, v)
	}
	h, err := ReadNPY(filepath.Join(dir, "h.npy"))
	if err != nil {
		t.Fatal(err)
	}
	hv, _ := h.AsFloat64s()
	if h.DType != F16 || len(hv) != 3 || hv[0] != 1.5 || hv[1] != -0.25 || hv[2] != 65504 {
		t.Errorf("numpy float16 read as %s %v", h.DType, hv)
	}
}
