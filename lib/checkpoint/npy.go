package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unsafe"
)

// This file writes and reads NumPy's .npy format (version 1.0, or 2.0 for
// headers over 64 KiB), so Jacobians, NTKs, inputs and logits can be
// analysed with numpy.load:
//
//	"\x93NUMPY", major, minor, header length (uint16 LE in 1.0, uint32 in
//	2.0), an ASCII Python dict {'descr': '<f8', 'fortran_order': False,
//	'shape': (3, 4), } padded with spaces and a final '\n' so the data
//	starts at a multiple of 64 bytes, then the little-endian, row-major
//	(C order) elements.

// NPYElem are the element types WriteNPY writes.
type NPYElem interface {
	~float32 | ~float64 | ~int64 | ~int32
}

var npyMagic = []byte("\x93NUMPY")

// npyDescr maps dtypes to NumPy type strings (little-endian).
var npyDescr = map[DType]string{F64: "<f8", F32: "<f4", F16: "<f2", I64: "<i8", I32: "<i4", I16: "<i2", I8: "|i1",
	U64: "<u8", U32: "<u4", U16: "<u2", U8: "|u1", Bool: "|b1"}

// EncodeNPY writes data (row-major, prod(shape) elements) as an .npy array.
func EncodeNPY[T NPYElem](w io.Writer, shape []int, data []T) error {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("checkpoint: npy: negative dimension in shape %v", shape)
		}
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("checkpoint: npy: %d values for shape %v (%d elements)", len(data), shape, n)
	}
	var t Tensor
	var one T = 1
	isFloat := one/2 != 0
	switch size := unsafe.Sizeof(one); {
	case isFloat && size == 4:
		t.DType = F32
	case isFloat:
		t.DType = F64
	case size == 8:
		t.DType = I64
	default:
		t.DType = I32
	}
	b := make([]byte, len(data)*t.DType.Size())
	le := binary.LittleEndian
	for i, x := range data {
		switch t.DType {
		case F32:
			le.PutUint32(b[4*i:], math.Float32bits(float32(x)))
		case F64:
			le.PutUint64(b[8*i:], math.Float64bits(float64(x)))
		case I64:
			le.PutUint64(b[8*i:], uint64(int64(x)))
		case I32:
			le.PutUint32(b[4*i:], uint32(int32(x)))
		}
	}
	if _, err := w.Write(npyHeader(t.DType, shape)); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

func npyHeader(d DType, shape []int) []byte {
	var s strings.Builder
	s.WriteString("(")
	for i, v := range shape {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(strconv.Itoa(v))
	}
	if len(shape) == 1 {
		s.WriteString(",")
	}
	s.WriteString(")")
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", npyDescr[d], s.String())
	pre := 10 // magic(6) + version(2) + uint16 length
	if len(dict)+1+pre+63 > 65535 {
		pre = 12 // version 2.0: uint32 length
	}
	hlen := len(dict) + 1
	hlen += (64 - (pre+hlen)%64) % 64
	var b bytes.Buffer
	b.Write(npyMagic)
	if pre == 10 {
		b.Write([]byte{1, 0})
		binary.Write(&b, binary.LittleEndian, uint16(hlen))
	} else {
		b.Write([]byte{2, 0})
		binary.Write(&b, binary.LittleEndian, uint32(hlen))
	}
	b.WriteString(dict)
	for b.Len() < pre+hlen-1 {
		b.WriteByte(' ')
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// WriteNPY writes data with the given shape to path as an .npy file,
// atomically (as Write). numpy.load(path) reads it.
func WriteNPY[T NPYElem](path string, shape []int, data []T) error {
	var buf bytes.Buffer
	if err := EncodeNPY(&buf, shape, data); err != nil {
		return fmt.Errorf("%w (writing %s)", err, path)
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

var (
	npyDescrRE   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyFortranRE = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShapeRE   = regexp.MustCompile(`'shape'\s*:\s*\(([0-9,\s]*)\)`)
)

// DecodeNPY parses an .npy array held in b (name is used in errors) into a
// Tensor (Name = name) whose Data aliases b. Only little-endian (or
// single-byte) C-order arrays of the dtypes this package knows are
// accepted; the shape is checked against the data length before anything
// is allocated.
func DecodeNPY(b []byte, name string) (*Tensor, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint: %s: %s", name, fmt.Sprintf(format, args...))
	}
	if len(b) < 10 || !bytes.Equal(b[:6], npyMagic) {
		return nil, fail("not an .npy file (no \\x93NUMPY magic)")
	}
	var hlen, pre int
	switch b[6] {
	case 1:
		hlen, pre = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, fail("truncated .npy header")
		}
		hlen, pre = int(binary.LittleEndian.Uint32(b[8:])), 12
	default:
		return nil, fail(".npy version %d.%d not supported", b[6], b[7])
	}
	if hlen > len(b)-pre {
		return nil, fail(".npy header length %d exceeds the file size %d (truncated?)", hlen, len(b))
	}
	hdr := string(b[pre : pre+hlen])
	data := b[pre+hlen:]
	m := npyDescrRE.FindStringSubmatch(hdr)
	if m == nil {
		return nil, fail(".npy header has no 'descr': %q", strings.TrimSpace(hdr))
	}
	var dt DType
	for d, s := range npyDescr {
		if s == m[1] || (d.Size() == 1 && "<"+s[1:] == m[1]) || (d.Size() == 1 && "="+s[1:] == m[1]) {
			dt = d
		}
	}
	if dt == "" {
		return nil, fail(".npy dtype %q not supported (want little-endian float or integer)", m[1])
	}
	if f := npyFortranRE.FindStringSubmatch(hdr); f == nil || f[1] != "False" {
		return nil, fail(".npy array is in Fortran order (or the header lacks 'fortran_order'); save it in C order")
	}
	s := npyShapeRE.FindStringSubmatch(hdr)
	if s == nil {
		return nil, fail(".npy header has no 'shape': %q", strings.TrimSpace(hdr))
	}
	shape := []int{}
	n := int64(1)
	for _, p := range strings.Split(s[1], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return nil, fail(".npy shape (%s) is not a tuple of sizes", s[1])
		}
		if v != 0 && n > int64(len(data))/int64(v) {
			n = -1 // more elements than bytes
			break
		}
		n *= int64(v)
		shape = append(shape, v)
	}
	if n < 0 || n*int64(dt.Size()) != int64(len(data)) {
		return nil, fail(".npy shape (%s) of %s needs a different size than the %d data bytes", s[1], m[1], len(data))
	}
	return &Tensor{Name: name, DType: dt, Shape: shape, Data: data}, nil
}

// ReadNPY reads an .npy file (see DecodeNPY).
func ReadNPY(path string) (*Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return DecodeNPY(b, path)
}
