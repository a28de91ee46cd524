package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"repdyn/lib/internal/safemath"
)

// IDX is a decoded IDX file (the MNIST file format) of unsigned bytes.
type IDX struct {
	Dims []int  // e.g. [60000, 28, 28] for images, [60000] for labels
	Data []byte // product(Dims) values, row-major
}

// openMaybeGzip reads the whole file, transparently gunzipping it when it
// starts with the gzip magic bytes.
func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	head, _ := br.Peek(2)
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("data: %s: bad gzip: %w", path, err)
		}
		b, err := io.ReadAll(z)
		if err != nil {
			return nil, fmt.Errorf("data: %s: bad gzip: %w", path, gzipProblem(err))
		}
		return b, nil
	}
	b, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("data: reading %s: %w", path, err)
	}
	return b, nil
}

func gzipProblem(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated compressed stream: %w", err)
	}
	return err
}

// ReadIDX reads an IDX file of unsigned bytes (type 0x08), gzip-compressed
// or not. The length must match the dimensions exactly.
func ReadIDX(path string) (*IDX, error) {
	b, err := readMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	x, err := ParseIDX(b)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return x, nil
}

// maxIDXElements bounds the values an IDX header may declare (1 TiB).
const maxIDXElements = 1 << 40

// ParseIDX decodes IDX bytes (already decompressed). The product of the
// dimensions is formed with overflow checks (every non-zero dimension
// counts, see safemath.Product) and must equal the body's length.
func ParseIDX(b []byte) (*IDX, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("bad IDX magic: file has only %d bytes", len(b))
	}
	if b[0] != 0 || b[1] != 0 {
		return nil, fmt.Errorf("bad IDX magic % x (want 00 00 08 nn; is it an IDX file?)", b[:4])
	}
	if b[2] != 0x08 {
		return nil, fmt.Errorf("bad IDX magic % x: element type 0x%02x, only unsigned bytes (0x08) are supported", b[:4], b[2])
	}
	nd := int(b[3])
	if nd == 0 || nd > 8 {
		return nil, fmt.Errorf("bad IDX magic % x: %d dimensions", b[:4], nd)
	}
	if len(b) < 4+4*nd {
		return nil, fmt.Errorf("wrong length: %d bytes, too short for the %d-dimension header", len(b), nd)
	}
	dims := make([]int, nd)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(b[4+4*i:]))
	}
	total, ok := safemath.Product(dims, maxIDXElements)
	if !ok {
		return nil, fmt.Errorf("bad IDX header: dimensions %v hold more than %d values", dims, maxIDXElements)
	}
	body := b[4+4*nd:]
	if len(body) != total {
		what := "truncated"
		if len(body) > total {
			what = "trailing data"
		}
		return nil, fmt.Errorf("wrong length (%s): %d data bytes, dimensions %v need %d", what, len(body), dims, total)
	}
	return &IDX{Dims: dims, Data: body}, nil
}

// WriteIDX encodes bytes as an IDX file (type 0x08) — for tests and tools.
func WriteIDX(dims []int, values []byte) []byte {
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&buf, binary.BigEndian, uint32(d))
	}
	buf.Write(values)
	return buf.Bytes()
}

// LoadIDX builds a dataset from an IDX image file ([N,H,W] or [N,C,H,W])
// and an IDX label file ([N]). classNames may be nil; the class count is
// then max label + 1.
func LoadIDX(name, imagesPath, labelsPath string, classNames []string) (*Dataset, error) {
	img, err := ReadIDX(imagesPath)
	if err != nil {
		return nil, err
	}
	lab, err := ReadIDX(labelsPath)
	if err != nil {
		return nil, err
	}
	var c, h, w int
	switch len(img.Dims) {
	case 3:
		c, h, w = 1, img.Dims[1], img.Dims[2]
	case 4:
		c, h, w = img.Dims[1], img.Dims[2], img.Dims[3]
	default:
		return nil, fmt.Errorf("data: %s: image file has dimensions %v, want [N,H,W] or [N,C,H,W]", imagesPath, img.Dims)
	}
	if len(lab.Dims) != 1 {
		return nil, fmt.Errorf("data: %s: label file has dimensions %v, want [N]", labelsPath, lab.Dims)
	}
	n := img.Dims[0]
	if lab.Dims[0] != n {
		return nil, fmt.Errorf("data: %s has %d images but %s has %d labels", imagesPath, n, labelsPath, lab.Dims[0])
	}
	d := &Dataset{Name: name, N: n, C: c, H: h, W: w, Images: bytesToUnit(img.Data), Labels: make([]int32, n)}
	maxL := -1
	for i, l := range lab.Data {
		d.Labels[i] = int32(l)
		maxL = max(maxL, int(l))
	}
	d.Classes = maxL + 1
	if classNames != nil {
		if maxL >= len(classNames) {
			return nil, fmt.Errorf("data: %s: label %d but only %d classes", labelsPath, maxL, len(classNames))
		}
		d.Classes, d.ClassNames = len(classNames), classNames
	}
	return d, nil
}

// bytesToUnit converts pixels to float32 in [0,1].
func bytesToUnit(b []byte) []float32 {
	var lut [256]float32
	for i := range lut {
		lut[i] = float32(i) / 255
	}
	out := make([]float32, len(b))
	for i, v := range b {
		out[i] = lut[v]
	}
	return out
}

func loadIDXDataset(s *spec, split Split, paths map[string]string) (*Dataset, error) {
	prefix := "train"
	if split == Test {
		prefix = "t10k"
	}
	d, err := LoadIDX(s.name+"/"+string(split), paths[prefix+"-images-idx3-ubyte.gz"], paths[prefix+"-labels-idx1-ubyte.gz"], s.classes)
	if err != nil {
		return nil, err
	}
	if d.C != s.c || d.H != s.h || d.W != s.w {
		return nil, fmt.Errorf("data: %s: images are %dx%dx%d, want %dx%dx%d", s.name, d.C, d.H, d.W, s.c, s.h, s.w)
	}
	return d, nil
}
