package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"repdyn/lib/internal/safemath"
)

// MAT v5 data types (miXXX) and array classes (mxXXX) used here.
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
)

var miSize = map[uint32]int{miINT8: 1, miUINT8: 1, miINT16: 2, miUINT16: 2, miINT32: 4, miUINT32: 4,
	miSINGLE: 4, miDOUBLE: 8, miINT64: 8, miUINT64: 8}

// MatArray is one numeric array read from a MAT v5 file. Data holds the
// real part in column-major (Fortran) order, as stored, with element type
// Type (a MAT miXXX code, converted to the file's byte order already
// handled by the accessors).
type MatArray struct {
	Name  string
	Class int   // MATLAB class (mxDOUBLE_CLASS = 6, mxUINT8_CLASS = 9, ...)
	Dims  []int // column-major dimensions, e.g. [32 32 3 N]
	Type  uint32
	Data  []byte
	order binary.ByteOrder
}

// Len is the number of elements (-1 if the product of Dims overflows, which
// ParseMAT never returns).
func (a *MatArray) Len() int {
	n, ok := safemath.Product(a.Dims, -1)
	if !ok {
		return -1
	}
	return n
}

// Uint8s returns the data as bytes; it is an error unless stored as miUINT8.
func (a *MatArray) Uint8s() ([]byte, error) {
	if a.Type != miUINT8 {
		return nil, fmt.Errorf("array %s is stored as MAT type %d, not uint8", a.Name, a.Type)
	}
	return a.Data, nil
}

// Float64s converts the data, whatever its stored numeric type, to float64.
func (a *MatArray) Float64s() ([]float64, error) {
	sz := miSize[a.Type]
	n := len(a.Data) / sz
	out := make([]float64, n)
	o := a.order
	for i := range out {
		b := a.Data[i*sz:]
		switch a.Type {
		case miINT8:
			out[i] = float64(int8(b[0]))
		case miUINT8:
			out[i] = float64(b[0])
		case miINT16:
			out[i] = float64(int16(o.Uint16(b)))
		case miUINT16:
			out[i] = float64(o.Uint16(b))
		case miINT32:
			out[i] = float64(int32(o.Uint32(b)))
		case miUINT32:
			out[i] = float64(o.Uint32(b))
		case miSINGLE:
			out[i] = float64(math.Float32frombits(o.Uint32(b)))
		case miDOUBLE:
			out[i] = math.Float64frombits(o.Uint64(b))
		case miINT64:
			out[i] = float64(int64(o.Uint64(b)))
		case miUINT64:
			out[i] = float64(o.Uint64(b))
		default:
			return nil, fmt.Errorf("array %s: unsupported MAT type %d", a.Name, a.Type)
		}
	}
	return out, nil
}

// ReadMAT reads the numeric arrays of a MATLAB level-5 (v5/v6/v7, not the
// HDF5-based v7.3) .mat file, including zlib-compressed (miCOMPRESSED)
// elements. Non-numeric arrays (cells, structs, sparse, char) are skipped.
// If names is non-empty only those arrays are returned.
func ReadMAT(path string, names ...string) (map[string]*MatArray, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	m, err := ParseMAT(b, names...)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return m, nil
}

// ParseMAT decodes the bytes of a MAT v5 file; see ReadMAT.
func ParseMAT(b []byte, names ...string) (map[string]*MatArray, error) {
	if len(b) < 128 {
		return nil, fmt.Errorf("not a MAT v5 file: only %d bytes (the header alone is 128)", len(b))
	}
	if bytes.HasPrefix(b, []byte{0x89, 'H', 'D', 'F'}) || bytes.Contains(b[:128], []byte("MATLAB 7.3")) {
		return nil, fmt.Errorf("MAT v7.3 (HDF5) files are not supported; save with -v7 or -v6")
	}
	var order binary.ByteOrder
	switch string(b[126:128]) {
	case "IM":
		order = binary.LittleEndian
	case "MI":
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("not a MAT v5 file: bad endian indicator % x at byte 126 (want \"IM\" or \"MI\")", b[126:128])
	}
	if v := order.Uint16(b[124:]); v != 0x0100 {
		return nil, fmt.Errorf("not a MAT v5 file: version 0x%04x, want 0x0100", v)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	p := &matParser{order: order, want: want, out: map[string]*MatArray{}}
	if err := p.elements(b[128:], 128, true); err != nil {
		return nil, err
	}
	for n := range want {
		if _, ok := p.out[n]; !ok {
			return nil, fmt.Errorf("no numeric array named %q in the file", n)
		}
	}
	return p.out, nil
}

type matParser struct {
	order binary.ByteOrder
	want  map[string]bool
	out   map[string]*MatArray
}

// tag reads an element tag at b, returning type, size, header length and
// whether it is the small (4-byte data packed in the tag) form.
func (p *matParser) tag(b []byte, off int) (typ uint32, size, hdr int, err error) {
	if len(b) < 8 {
		return 0, 0, 0, fmt.Errorf("truncated: element tag at byte %d needs 8 bytes, %d left", off, len(b))
	}
	w := p.order.Uint32(b)
	if w>>16 != 0 { // small data element: size in upper half, data in next 4 bytes
		typ, size = w&0xffff, int(w>>16)
		if size > 4 {
			return 0, 0, 0, fmt.Errorf("bad small element at byte %d: size %d > 4", off, size)
		}
		return typ, size, 4, nil
	}
	typ, size = w, int(p.order.Uint32(b[4:]))
	if size < 0 || size > len(b)-8 {
		return 0, 0, 0, fmt.Errorf("truncated: element at byte %d (type %d) declares %d bytes but only %d remain", off, typ, size, len(b)-8)
	}
	return typ, size, 8, nil
}

func pad8(n int) int { return (n + 7) &^ 7 }

// elements parses a sequence of top-level elements.
func (p *matParser) elements(b []byte, base int, top bool) error {
	off := 0
	for off < len(b) {
		typ, size, hdr, err := p.tag(b[off:], base+off)
		if err != nil {
			return err
		}
		body := b[off+hdr : off+hdr+size]
		switch typ {
		case miCOMPRESSED:
			z, err := zlib.NewReader(bytes.NewReader(body))
			if err != nil {
				return fmt.Errorf("bad compressed element at byte %d: %w", base+off, err)
			}
			inner, err := io.ReadAll(z)
			if err != nil {
				return fmt.Errorf("bad compressed element at byte %d: %w", base+off, gzipProblem(err))
			}
			if err := p.elements(inner, 0, false); err != nil {
				return fmt.Errorf("in compressed element at byte %d: %w", base+off, err)
			}
		case miMATRIX:
			if err := p.matrix(body, base+off+hdr); err != nil {
				return err
			}
		}
		next := off + hdr + size
		if hdr == 4 {
			next = off + 8
		} else if typ != miCOMPRESSED {
			next = off + hdr + pad8(size)
		}
		if next > len(b) {
			next = len(b) // a final element's padding may be missing
		}
		off = next
	}
	return nil
}

// sub reads one sub-element of a matrix and returns type, data and the
// offset after it (padded).
func (p *matParser) sub(b []byte, off, base int, what string) (uint32, []byte, int, error) {
	typ, size, hdr, err := p.tag(b[off:], base+off)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("array %s: %w", what, err)
	}
	data := b[off+hdr : off+hdr+size]
	next := off + hdr + pad8(size)
	if hdr == 4 {
		next = off + 8
	}
	if next > len(b) {
		next = len(b)
	}
	return typ, data, next, nil
}

func (p *matParser) matrix(b []byte, base int) error {
	if len(b) == 0 { // empty matrix placeholder
		return nil
	}
	// Array flags.
	typ, flags, off, err := p.sub(b, 0, base, "flags")
	if err != nil {
		return err
	}
	if typ != miUINT32 || len(flags) < 8 {
		return fmt.Errorf("bad array at byte %d: flags element has type %d, %d bytes", base, typ, len(flags))
	}
	class := int(p.order.Uint32(flags) & 0xff)
	complexFlag := p.order.Uint32(flags)&0x800 != 0
	// Dimensions.
	typ, dimb, off, err := p.sub(b, off, base, "dimensions")
	if err != nil {
		return err
	}
	if typ != miINT32 || len(dimb)%4 != 0 {
		return fmt.Errorf("bad array at byte %d: dimensions element has type %d", base, typ)
	}
	dims := make([]int, len(dimb)/4)
	for i := range dims {
		dims[i] = int(int32(p.order.Uint32(dimb[4*i:])))
		if dims[i] < 0 {
			return fmt.Errorf("bad array at byte %d: negative dimension %d", base, dims[i])
		}
	}
	// Name.
	_, nameb, off, err := p.sub(b, off, base, "name")
	if err != nil {
		return err
	}
	name := string(nameb)
	if class < 6 || class > 15 { // cell, struct, object, char, sparse: not numeric
		return nil
	}
	if len(p.want) > 0 && !p.want[name] {
		return nil
	}
	typ, data, _, err := p.sub(b, off, base, name)
	if err != nil {
		return err
	}
	sz, ok := miSize[typ]
	if !ok {
		return fmt.Errorf("array %s: unsupported data type %d", name, typ)
	}
	a := &MatArray{Name: name, Class: class, Dims: dims, Type: typ, Data: data, order: p.order}
	need, ok := safemath.Product(append(slices.Clone(dims), sz), -1)
	if !ok {
		return fmt.Errorf("array %s: dimensions %v of %d-byte elements: size overflows", name, dims, sz)
	}
	if len(data) != need {
		return fmt.Errorf("array %s: wrong length: %d data bytes, dimensions %v of %d-byte elements need %d", name, len(data), dims, sz, need)
	}
	_ = complexFlag // the imaginary part, if any, is ignored
	p.out[name] = a
	return nil
}

// LoadSVHN reads an SVHN cropped-digits file (train_32x32.mat, ...): X is
// uint8 [32,32,3,N] (column-major: row, column, channel, image) and y is
// [N,1] with labels 1..10, where 10 means the digit 0.
func LoadSVHN(name, path string) (*Dataset, error) {
	m, err := ReadMAT(path, "X", "y")
	if err != nil {
		return nil, err
	}
	x, y := m["X"], m["y"]
	if len(x.Dims) != 4 || x.Dims[2] != 3 {
		return nil, fmt.Errorf("data: %s: X has dimensions %v, want [H,W,3,N]", path, x.Dims)
	}
	h, w, n := x.Dims[0], x.Dims[1], x.Dims[3]
	px, err := x.Uint8s()
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	labels, err := y.Float64s()
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	if len(labels) != n {
		return nil, fmt.Errorf("data: %s: %d labels (y %v) for %d images", path, len(labels), y.Dims, n)
	}
	d := &Dataset{Name: name, N: n, C: 3, H: h, W: w, Classes: 10, ClassNames: digitNames,
		Images: make([]float32, n*3*h*w), Labels: make([]int32, n)}
	var lut [256]float32
	for i := range lut {
		lut[i] = float32(i) / 255
	}
	hw := h * w
	for i := 0; i < n; i++ {
		l := labels[i]
		if l != math.Trunc(l) || l < 0 || l > 10 {
			return nil, fmt.Errorf("data: %s: label %v of image %d is not in 1..10", path, l, i)
		}
		d.Labels[i] = int32(l) % 10
		src := px[i*3*hw : (i+1)*3*hw]
		dst := d.Images[i*3*hw : (i+1)*3*hw]
		for c := 0; c < 3; c++ {
			for xx := 0; xx < w; xx++ {
				col := src[c*hw+xx*h : c*hw+xx*h+h]
				for yy, v := range col {
					dst[c*hw+yy*w+xx] = lut[v]
				}
			}
		}
	}
	return d, nil
}

func loadSVHNDataset(s *spec, split Split, paths map[string]string) (*Dataset, error) {
	for _, p := range paths {
		return LoadSVHN(s.name+"/"+string(split), p)
	}
	return nil, fmt.Errorf("data: svhn: no file for split %s", split)
}
