package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write(b)
	z.Close()
	return buf.Bytes()
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

// idxPair writes n 2x3 images (pixel value = image index*6 + position) and labels i%10.
func idxPair(t *testing.T, dir string, n int, compress bool) (string, string) {
	px := make([]byte, n*6)
	for i := range px {
		px[i] = byte(i)
	}
	lb := make([]byte, n)
	for i := range lb {
		lb[i] = byte(i % 10)
	}
	img, lab := WriteIDX([]int{n, 2, 3}, px), WriteIDX([]int{n}, lb)
	ext := ""
	if compress {
		img, lab, ext = gz(img), gz(lab), ".gz"
	}
	return writeFile(t, filepath.Join(dir, "img.idx"+ext), img), writeFile(t, filepath.Join(dir, "lab.idx"+ext), lab)
}

func TestIDX(t *testing.T) {
	for _, compress := range []bool{false, true} {
		ip, lp := idxPair(t, t.TempDir(), 12, compress)
		d, err := LoadIDX("t", ip, lp, digitNames)
		if err != nil {
			t.Fatal(err)
		}
		if d.N != 12 || d.C != 1 || d.H != 2 || d.W != 3 || d.Classes != 10 || d.Validate() != nil {
			t.Fatalf("got %v", d)
		}
		if d.Images[7] != 7.0/255 || d.Labels[11] != 1 {
			t.Fatalf("pixel %v label %v", d.Images[7], d.Labels[11])
		}
	}
}

func TestIDXErrors(t *testing.T) {
	dir := t.TempDir()
	good := WriteIDX([]int{4, 2, 2}, make([]byte, 16))
	cases := []struct {
		name  string
		data  []byte
		parts []string
	}{
		{"magic", append([]byte{1, 2, 3, 4}, good[4:]...), []string{"magic.idx", "bad IDX magic"}},
		{"type", append([]byte{0, 0, 0x0d, 3}, good[4:]...), []string{"type.idx", "element type 0x0d"}},
		{"short", good[:len(good)-3], []string{"short.idx", "wrong length (truncated)", "need 16"}},
		{"long", append(append([]byte(nil), good...), 9), []string{"long.idx", "trailing data"}},
		{"tiny", []byte{0, 0}, []string{"tiny.idx", "only 2 bytes"}},
		{"badgz", gz(good)[:20], []string{"badgz.idx", "bad gzip"}},
	}
	for _, c := range cases {
		p := writeFile(t, filepath.Join(dir, c.name+".idx"), c.data)
		_, err := ReadIDX(p)
		wantErr(t, err, c.parts...)
	}
	// Corrupted gzip body (CRC mismatch).
	z := gz(good)
	z[len(z)-6] ^= 0xff
	p := writeFile(t, filepath.Join(dir, "crc.idx.gz"), z)
	_, err := ReadIDX(p)
	wantErr(t, err, "crc.idx.gz", "bad gzip")
	// Images and labels disagree.
	ip := writeFile(t, filepath.Join(dir, "i"), WriteIDX([]int{3, 2, 2}, make([]byte, 12)))
	lp := writeFile(t, filepath.Join(dir, "l"), WriteIDX([]int{4}, make([]byte, 4)))
	_, err = LoadIDX("t", ip, lp, nil)
	wantErr(t, err, "3 images", "4 labels")
}

// cifarArchive builds a binary CIFAR archive with n records per batch file.
func cifarArchive(t *testing.T, path string, hundred bool, n int, drop string, badLen bool) {
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	tw := tar.NewWriter(z)
	add := func(name string, b []byte) {
		if filepath.Base(name) == drop {
			return
		}
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	rec := func(seq int) []byte {
		var r []byte
		if hundred {
			r = append(r, byte(seq%20), byte(seq%100))
		} else {
			r = append(r, byte(seq%10))
		}
		px := make([]byte, cifarPixels)
		for i := range px {
			px[i] = byte(seq + i)
		}
		return append(r, px...)
	}
	batch := func(start int) []byte {
		var b []byte
		for i := 0; i < n; i++ {
			b = append(b, rec(start+i)...)
		}
		if badLen {
			b = b[:len(b)-1]
		}
		return b
	}
	if hundred {
		add("cifar-100-binary/train.bin", batch(0))
		add("cifar-100-binary/test.bin", batch(1000))
		var fine, coarse []string
		for i := 0; i < 100; i++ {
			fine = append(fine, fmt.Sprintf("f%d", i))
		}
		for i := 0; i < 20; i++ {
			coarse = append(coarse, fmt.Sprintf("c%d", i))
		}
		add("cifar-100-binary/fine_label_names.txt", []byte(strings.Join(fine, "\n")+"\n"))
		add("cifar-100-binary/coarse_label_names.txt", []byte(strings.Join(coarse, "\n")+"\n"))
	} else {
		tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/", Mode: 0o755, Typeflag: tar.TypeDir})
		for k := 1; k <= 5; k++ {
			add(fmt.Sprintf("cifar-10-batches-bin/data_batch_%d.bin", k), batch((k-1)*n))
		}
		add("cifar-10-batches-bin/test_batch.bin", batch(1000))
		add("cifar-10-batches-bin/batches.meta.txt", []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"))
	}
	tw.Close()
	z.Close()
	writeFile(t, path, buf.Bytes())
}

func TestCIFAR(t *testing.T) {
	dir := t.TempDir()
	p10 := filepath.Join(dir, "c10.tar.gz")
	cifarArchive(t, p10, false, 3, "", false)
	d, err := ReadCIFARArchive(p10, false, Train, false)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 15 || d.Classes != 10 || d.ClassNames[9] != "truck" || d.Validate() != nil {
		t.Fatalf("got %v %v", d, d.ClassNames)
	}
	// Image 4 (second of batch 2... seq 4): pixel i = (4+i)%256, label 4.
	if d.Labels[4] != 4 || d.Image(4)[0] != 4.0/255 || d.Image(4)[1025] != float32((4+1025)%256)/255 {
		t.Fatalf("record 4 decoded wrong: label %d", d.Labels[4])
	}
	te, err := ReadCIFARArchive(p10, false, Test, false)
	if err != nil || te.N != 3 || te.Labels[0] != 0 {
		t.Fatalf("test split: %v %v", te, err)
	}

	p100 := filepath.Join(dir, "c100.tar.gz")
	cifarArchive(t, p100, true, 130, "", false)
	d, err = ReadCIFARArchive(p100, true, Train, false)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 130 || d.Classes != 100 || d.Labels[123] != 23 || d.ClassNames[5] != "f5" {
		t.Fatalf("cifar100: %v", d)
	}
	d, err = ReadCIFARArchive(p100, true, Train, true)
	if err != nil || d.Classes != 20 || d.Labels[123] != 3 || d.ClassNames[3] != "c3" {
		t.Fatalf("cifar100 coarse: %v %v", d, err)
	}
}

func TestCIFARErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "missing.tar.gz")
	cifarArchive(t, p, false, 2, "data_batch_3.bin", false)
	_, err := ReadCIFARArchive(p, false, Train, false)
	wantErr(t, err, "missing.tar.gz", "no member data_batch_3.bin")

	p = filepath.Join(dir, "len.tar.gz")
	cifarArchive(t, p, false, 2, "", true)
	_, err = ReadCIFARArchive(p, false, Train, false)
	wantErr(t, err, "len.tar.gz", "data_batch_1.bin", "wrong length")

	good := filepath.Join(dir, "good.tar.gz")
	cifarArchive(t, good, false, 2, "", false)
	b, _ := os.ReadFile(good)
	p = writeFile(t, filepath.Join(dir, "trunc.tar.gz"), b[:len(b)/2])
	_, err = ReadCIFARArchive(p, false, Train, false)
	wantErr(t, err, "trunc.tar.gz", "truncated")

	p = writeFile(t, filepath.Join(dir, "notgz.tar.gz"), []byte("hello world, not gzip"))
	_, err = ReadCIFARArchive(p, false, Train, false)
	wantErr(t, err, "notgz.tar.gz", "bad gzip")
}

// matWriter builds MAT v5 files for tests, in byte order matOrder.
type matWriter struct{ buf bytes.Buffer }

var matOrder binary.ByteOrder = binary.LittleEndian

func newMAT() *matWriter {
	m := &matWriter{}
	h := make([]byte, 128)
	copy(h, "MATLAB 5.0 MAT-file, written by the repdyn tests")
	for i := len("MATLAB 5.0 MAT-file, written by the repdyn tests"); i < 116; i++ {
		h[i] = ' '
	}
	matOrder.PutUint16(h[124:], 0x0100)
	copy(h[126:], "IM")
	if matOrder == binary.BigEndian {
		copy(h[126:], "MI")
	}
	m.buf.Write(h)
	return m
}

func element(typ uint32, data []byte) []byte {
	var b bytes.Buffer
	if len(data) <= 4 && typ != miMATRIX && typ != miCOMPRESSED {
		binary.Write(&b, matOrder, uint32(len(data))<<16|typ)
		d := make([]byte, 4)
		copy(d, data)
		b.Write(d)
		return b.Bytes()
	}
	binary.Write(&b, matOrder, typ)
	binary.Write(&b, matOrder, uint32(len(data)))
	b.Write(data)
	if typ != miCOMPRESSED {
		b.Write(make([]byte, pad8(len(data))-len(data)))
	}
	return b.Bytes()
}

func matrix(name string, class uint32, dims []int, typ uint32, data []byte) []byte {
	var body bytes.Buffer
	flags := make([]byte, 8)
	matOrder.PutUint32(flags, class)
	body.Write(element(miUINT32, flags))
	dimb := make([]byte, 4*len(dims))
	for i, d := range dims {
		matOrder.PutUint32(dimb[4*i:], uint32(d))
	}
	body.Write(element(miINT32, dimb))
	body.Write(element(miINT8, []byte(name)))
	body.Write(element(typ, data))
	return element(miMATRIX, body.Bytes())
}

func (m *matWriter) add(el []byte, compress bool) {
	if compress {
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		w.Write(el)
		w.Close()
		el = element(miCOMPRESSED, z.Bytes())
	}
	m.buf.Write(el)
}

// svhnMAT writes an SVHN-like file with n images of h×w; pixel value of
// (row y, col x, channel c, image i) is (y + 2x + 5c + 7i) % 256, labels i%10+1.
func svhnMAT(t *testing.T, path string, n, h, w int, compress, doubleLabels bool) {
	x := make([]byte, h*w*3*n)
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			for xx := 0; xx < w; xx++ {
				for y := 0; y < h; y++ {
					x[y+h*xx+h*w*c+h*w*3*i] = byte((y + 2*xx + 5*c + 7*i) % 256)
				}
			}
		}
	}
	m := newMAT()
	// A char array first, which the reader must skip.
	m.add(matrix("__note", 4, []int{1, 2}, miUINT16, []byte{'h', 0, 'i', 0}), compress)
	m.add(matrix("X", 9, []int{h, w, 3, n}, miUINT8, x), compress)
	if doubleLabels {
		y := make([]byte, 8*n)
		for i := 0; i < n; i++ {
			matOrder.PutUint64(y[8*i:], math.Float64bits(float64(i%10+1)))
		}
		m.add(matrix("y", 6, []int{n, 1}, miDOUBLE, y), compress)
	} else {
		y := make([]byte, n)
		for i := range y {
			y[i] = byte(i%10 + 1)
		}
		m.add(matrix("y", 6, []int{n, 1}, miUINT8, y), compress)
	}
	writeFile(t, path, m.buf.Bytes())
}

func TestSVHNMAT(t *testing.T) {
	defer func() { matOrder = binary.LittleEndian }()
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		matOrder = order
		testSVHNMAT(t)
	}
}

func testSVHNMAT(t *testing.T) {
	for _, compress := range []bool{false, true} {
		for _, dbl := range []bool{false, true} {
			p := filepath.Join(t.TempDir(), "s.mat")
			const n, h, w = 13, 4, 5
			svhnMAT(t, p, n, h, w, compress, dbl)
			d, err := LoadSVHN("svhn", p)
			if err != nil {
				t.Fatalf("%v compress=%v double=%v: %v", matOrder, compress, dbl, err)
			}
			if d.N != n || d.C != 3 || d.H != h || d.W != w || d.Validate() != nil {
				t.Fatalf("got %v", d)
			}
			if d.Labels[9] != 0 || d.Labels[3] != 4 {
				t.Fatalf("labels %v (10 must map to 0)", d.Labels)
			}
			for _, q := range [][4]int{{0, 0, 0, 0}, {12, 2, 3, 4}, {5, 1, 2, 1}} {
				i, c, y, x := q[0], q[1], q[2], q[3]
				got := d.Image(i)[c*h*w+y*w+x]
				want := float32((y+2*x+5*c+7*i)%256) / 255
				if got != want {
					t.Fatalf("image %d c%d y%d x%d: %v want %v", i, c, y, x, got, want)
				}
			}
		}
	}
}

func TestMATErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "good.mat")
	svhnMAT(t, p, 3, 2, 2, false, false)
	good, _ := os.ReadFile(p)

	bad := append([]byte(nil), good...)
	copy(bad[126:], "XX")
	_, err := LoadSVHN("s", writeFile(t, filepath.Join(dir, "endian.mat"), bad))
	wantErr(t, err, "endian.mat", "bad endian indicator")

	_, err = LoadSVHN("s", writeFile(t, filepath.Join(dir, "trunc.mat"), good[:len(good)-30]))
	wantErr(t, err, "trunc.mat", "truncated")

	_, err = LoadSVHN("s", writeFile(t, filepath.Join(dir, "short.mat"), good[:50]))
	wantErr(t, err, "short.mat", "not a MAT v5 file")

	p = filepath.Join(dir, "comp.mat")
	svhnMAT(t, p, 3, 2, 2, true, false)
	c, _ := os.ReadFile(p)
	// Damage the zlib stream of the first compressed element (past its 8-byte tag and 2-byte zlib header).
	c[128+8+4] ^= 0x55
	c[128+8+5] ^= 0x55
	_, err = LoadSVHN("s", writeFile(t, filepath.Join(dir, "zbad.mat"), c))
	wantErr(t, err, "zbad.mat", "compressed element")

	m := newMAT()
	m.add(matrix("X", 9, []int{2, 2, 3, 1}, miUINT8, make([]byte, 12)), false)
	_, err = LoadSVHN("s", writeFile(t, filepath.Join(dir, "noy.mat"), m.buf.Bytes()))
	wantErr(t, err, "noy.mat", `no numeric array named "y"`)

	m = newMAT()
	m.add(matrix("X", 9, []int{2, 2, 3, 2}, miUINT8, make([]byte, 12)), false)
	_, err = ReadMAT(writeFile(t, filepath.Join(dir, "len.mat"), m.buf.Bytes()))
	wantErr(t, err, "len.mat", "array X: wrong length")
}

func semeionLine(label int, on int) string {
	var f []string
	for i := 0; i < 256; i++ {
		v := "0.0000"
		if i == on {
			v = "1.0000"
		}
		f = append(f, v)
	}
	for k := 0; k < 10; k++ {
		if k == label {
			f = append(f, "1")
		} else {
			f = append(f, "0")
		}
	}
	return strings.Join(f, " ") + " \r\n"
}

func TestSemeion(t *testing.T) {
	dir := t.TempDir()
	text := semeionLine(3, 17) + semeionLine(0, 255) + "\n"
	d, err := LoadSemeion("semeion", writeFile(t, filepath.Join(dir, "semeion.data"), []byte(text)))
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 2 || d.Labels[0] != 3 || d.Labels[1] != 0 || d.Image(0)[17] != 1 || d.Image(1)[255] != 1 || d.Image(1)[0] != 0 || d.H != 16 {
		t.Fatalf("got %v %v", d, d.Labels)
	}
	_, err = LoadSemeion("s", writeFile(t, filepath.Join(dir, "short.data"), []byte(text[:len(text)-40])))
	wantErr(t, err, "short.data:2", "want 266")
	_, err = LoadSemeion("s", writeFile(t, filepath.Join(dir, "two.data"), []byte(strings.Replace(semeionLine(3, 1), " 0 0 1", " 1 0 1", 1))))
	wantErr(t, err, "two.data:1", "more than one label")
	_, err = LoadSemeion("s", writeFile(t, filepath.Join(dir, "px.data"), []byte(strings.Replace(semeionLine(3, 1), "1.0000", "2.0", 1))))
	wantErr(t, err, "px.data:1", "pixel 1")
}

// TestSVHNScipyFixtures reads MAT files written by scipy.io.savemat
// (testdata/gen_mat.py), compressed (miCOMPRESSED, y double) and plain
// (y uint8), to check the reader against an independent writer.
func TestSVHNScipyFixtures(t *testing.T) {
	for _, name := range []string{"svhn_scipy_compressed.mat", "svhn_scipy_plain.mat"} {
		d, err := LoadSVHN("svhn", filepath.Join("testdata", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.N != 11 || d.C != 3 || d.H != 32 || d.W != 32 {
			t.Fatalf("%s: %v", name, d)
		}
		for i := 0; i < d.N; i++ {
			if want := int32((i%10 + 1) % 10); d.Labels[i] != want {
				t.Fatalf("%s: label %d = %d, want %d", name, i, d.Labels[i], want)
			}
			img := d.Image(i)
			for c := 0; c < 3; c++ {
				for y := 0; y < 32; y++ {
					for x := 0; x < 32; x++ {
						want := float32((y+2*x+5*c+7*i)%256) / 255
						if got := img[c*1024+y*32+x]; got != want {
							t.Fatalf("%s: image %d c%d y%d x%d = %v, want %v", name, i, c, y, x, got, want)
						}
					}
				}
			}
		}
	}
}
