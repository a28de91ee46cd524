package fmnist

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func idx(dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		b.Write([]byte{byte(d >> 24), byte(d >> 16), byte(d >> 8), byte(d)})
	}
	b.Write(data)
	return b.Bytes()
}

func writeGz(t *testing.T, path string, data []byte) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSynthetic(t *testing.T) {
	d := t.TempDir()
	px := make([]byte, 3*28*28)
	for i := range px {
		px[i] = byte(i)
	}
	writeGz(t, filepath.Join(d, "train-images-idx3-ubyte.gz"), idx([]uint32{3, 28, 28}, px))
	// Labels uncompressed, to cover both forms.
	os.WriteFile(filepath.Join(d, "train-labels-idx1-ubyte"), idx([]uint32{3}, []byte{4, 5, 6}), 0o644)
	s, err := Load(d, true, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 2 || s.Rows != 28 || len(s.Images) != 2*784 || len(s.Labels) != 2 || s.Labels[1] != 5 {
		t.Fatalf("set %d %d %d %v", s.N, s.Rows, len(s.Images), s.Labels)
	}
	if s.Images[255] != 1 || s.Images[0] != 0 {
		t.Fatalf("scaling: %v %v", s.Images[0], s.Images[255])
	}
	if _, err := Load(d, false, 0); err == nil {
		t.Fatal("missing test split not reported")
	}
	if _, _, err := DecodeIDX(bytes.NewReader([]byte{0, 0, 9, 1, 0, 0, 0, 1, 0}), 0); err == nil {
		t.Fatal("bad magic accepted")
	}
	if _, _, err := DecodeIDX(bytes.NewReader(idx([]uint32{5}, []byte{1, 2})), 0); err == nil {
		t.Fatal("short data accepted")
	}
}

func TestLoadDebianPackage(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultDir(), "t10k-labels-idx1-ubyte.gz")); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
	}
	s, err := Load(DefaultDir(), false, 500)
	if err != nil {
		t.Fatal(err)
	}
	var count [10]int
	for _, l := range s.Labels {
		count[l]++
	}
	for c, n := range count {
		if n == 0 {
			t.Errorf("class %s absent from the first 500 test images", Classes[c])
		}
	}
}
