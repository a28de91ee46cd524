// Package checkpoint reads and writes the safetensors format, the tensor
// file format of Hugging Face's safetensors library, so that repdyn
// checkpoints can be opened from Python (safetensors.torch.load_file) and
// vice versa.
//
// # Format
//
// A file is: an 8-byte little-endian unsigned header length N; N bytes of
// UTF-8 JSON, an object mapping each tensor name to
// {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} plus an
// optional "__metadata__" object of string → string; then the data buffer,
// where each tensor's bytes (little-endian, row-major) lie at
// [begin, end) relative to the buffer's start. Write pads the header with
// spaces to a multiple of 8 bytes and lays the tensors out contiguously,
// ordered by decreasing element size and then by name, so every tensor
// starts at a multiple of its element size (as the reference writer
// ensures by sorting on dtype). Read enforces what the reference implementation
// enforces: a header no longer than 100 MB that is a JSON object, known
// dtypes, offsets that tile the buffer exactly (no gaps, no overlaps, no
// bytes past the end) and byte lengths equal to the shape's element count
// times the dtype size; every error names the file and the tensor.
//
// # Atomic writes
//
// Write creates a temporary file in the destination directory, writes and
// fsyncs it, renames it over the destination and fsyncs the directory, so a
// crash leaves either the old checkpoint or the new one, never a mixture.
//
// # Training state
//
// Metadata is a map of strings. PutJSON and GetJSON store any
// JSON-serialisable value (epoch, step, optimiser settings, RNG seeds)
// under a key; WriteSidecar/ReadSidecar keep a larger state next to the
// checkpoint as path + ".json", written atomically as well.
package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"repdyn/lib/internal/tempfile"
)

// DType is a safetensors element type.
type DType string

// The supported dtypes. Float32/64 and Int32/64 have typed accessors; the
// others are carried as raw bytes (F16, BF16 and the small integer types
// are accepted so files written by PyTorch can be read).
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U64  DType = "U64"
	U32  DType = "U32"
	U16  DType = "U16"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// Size is the number of bytes per element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case I8, U8, Bool:
		return 1
	}
	return 0
}

// Tensor is one named tensor: Data holds the little-endian, row-major bytes
// of prod(Shape) elements of DType. A scalar has Shape [] (one element).
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// Elements is the product of the shape (1 for a scalar).
func (t *Tensor) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// FromFloat32 makes an F32 tensor (the data is copied).
func FromFloat32(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: F32, Shape: append([]int{}, shape...), Data: b}
}

// FromFloat64 makes an F64 tensor.
func FromFloat64(name string, shape []int, v []float64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return Tensor{Name: name, DType: F64, Shape: append([]int{}, shape...), Data: b}
}

// FromInt64 makes an I64 tensor.
func FromInt64(name string, shape []int, v []int64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return Tensor{Name: name, DType: I64, Shape: append([]int{}, shape...), Data: b}
}

// FromInt32 makes an I32 tensor.
func FromInt32(name string, shape []int, v []int32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return Tensor{Name: name, DType: I32, Shape: append([]int{}, shape...), Data: b}
}

func (t *Tensor) want(d DType) error {
	if t.DType != d {
		return fmt.Errorf("checkpoint: tensor %q is %s, not %s", t.Name, t.DType, d)
	}
	if len(t.Data) != t.Elements()*d.Size() {
		return fmt.Errorf("checkpoint: tensor %q: %d bytes for shape %v of %s", t.Name, len(t.Data), t.Shape, d)
	}
	return nil
}

// Float32s decodes an F32 tensor.
func (t *Tensor) Float32s() ([]float32, error) {
	if err := t.want(F32); err != nil {
		return nil, err
	}
	v := make([]float32, len(t.Data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return v, nil
}

// Float64s decodes an F64 tensor.
func (t *Tensor) Float64s() ([]float64, error) {
	if err := t.want(F64); err != nil {
		return nil, err
	}
	v := make([]float64, len(t.Data)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return v, nil
}

// Int64s decodes an I64 tensor.
func (t *Tensor) Int64s() ([]int64, error) {
	if err := t.want(I64); err != nil {
		return nil, err
	}
	v := make([]int64, len(t.Data)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return v, nil
}

// Int32s decodes an I32 tensor.
func (t *Tensor) Int32s() ([]int32, error) {
	if err := t.want(I32); err != nil {
		return nil, err
	}
	v := make([]int32, len(t.Data)/4)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return v, nil
}

// File is the content of a safetensors file: tensors in file order (by
// data offset) and the metadata (nil when the file has none).
type File struct {
	Tensors  []Tensor
	Metadata map[string]string
}

// Get returns the tensor with the given name.
func (f *File) Get(name string) (*Tensor, bool) {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

// Names returns the tensor names in file order.
func (f *File) Names() []string {
	out := make([]string, len(f.Tensors))
	for i, t := range f.Tensors {
		out[i] = t.Name
	}
	return out
}

// MaxHeader is the largest header Read accepts (as the reference
// implementation: 100 MB).
const MaxHeader = 100_000_000

const metadataKey = "__metadata__"

type headerEntry struct {
	DType       DType    `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Encode writes tensors and metadata in safetensors format to w.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	order, err := layout(tensors)
	if err != nil {
		return err
	}
	// The header is built by hand so that keys come in layout order
	// (encoding/json would sort them), like the reference writer.
	var hb bytes.Buffer
	hb.WriteByte('{')
	first := true
	if len(metadata) > 0 {
		mb, err := json.Marshal(metadata)
		if err != nil {
			return fmt.Errorf("checkpoint: metadata: %w", err)
		}
		hb.WriteString(`"__metadata__":`)
		hb.Write(mb)
		first = false
	}
	var off int64
	for _, i := range order {
		t := &tensors[i]
		if !first {
			hb.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(t.Name)
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		eb, _ := json.Marshal(headerEntry{DType: t.DType, Shape: shape, DataOffsets: [2]int64{off, off + int64(len(t.Data))}})
		hb.Write(kb)
		hb.WriteByte(':')
		hb.Write(eb)
		off += int64(len(t.Data))
	}
	hb.WriteByte('}')
	for hb.Len()%8 != 0 {
		hb.WriteByte(' ')
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(hb.Len()))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb.Bytes()); err != nil {
		return err
	}
	for _, i := range order {
		if _, err := w.Write(tensors[i].Data); err != nil {
			return err
		}
	}
	return nil
}

// layout validates the tensors and returns their order in the file:
// decreasing dtype size, then name.
func layout(tensors []Tensor) ([]int, error) {
	seen := map[string]bool{}
	for i := range tensors {
		t := &tensors[i]
		if t.Name == "" || t.Name == metadataKey {
			return nil, fmt.Errorf("checkpoint: invalid tensor name %q", t.Name)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("checkpoint: tensor %q given twice", t.Name)
		}
		seen[t.Name] = true
		if t.DType.Size() == 0 {
			return nil, fmt.Errorf("checkpoint: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("checkpoint: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
		}
		if want := t.Elements() * t.DType.Size(); len(t.Data) != want {
			return nil, fmt.Errorf("checkpoint: tensor %q: %d data bytes, shape %v of %s needs %d", t.Name, len(t.Data), t.Shape, t.DType, want)
		}
	}
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ta, tb := &tensors[order[a]], &tensors[order[b]]
		if sa, sb := ta.DType.Size(), tb.DType.Size(); sa != sb {
			return sa > sb
		}
		return ta.Name < tb.Name
	})
	return order, nil
}

// Decode parses a safetensors file held in b; name is used in errors. The
// returned tensors' Data alias b.
func Decode(b []byte, name string) (*File, error) {
	fail := failer(name)
	if len(b) < 8 {
		return nil, fail("too short (%d bytes) for the 8-byte header length", len(b))
	}
	hlen, err := headerLength(b[:8], int64(len(b)), fail)
	if err != nil {
		return nil, err
	}
	buf := b[8+hlen:]
	f, items, err := parseHeader(b[8:8+hlen], int64(len(buf)), fail)
	if err != nil {
		return nil, err
	}
	f.attach(items, buf)
	return f, nil
}

func failer(name string) func(format string, args ...any) error {
	return func(format string, args ...any) error {
		return fmt.Errorf("checkpoint: %s: %s", name, fmt.Sprintf(format, args...))
	}
}

// headerLength decodes and bounds the 8-byte header length of a file of
// size bytes.
func headerLength(b []byte, size int64, fail func(string, ...any) error) (int64, error) {
	hlen := binary.LittleEndian.Uint64(b)
	if hlen > MaxHeader {
		return 0, fail("header length %d exceeds the limit of %d bytes (not a safetensors file?)", hlen, MaxHeader)
	}
	if hlen > uint64(size-8) {
		return 0, fail("header length %d exceeds the file size %d (truncated?)", hlen, size)
	}
	return int64(hlen), nil
}

// item is one tensor's header entry.
type item struct {
	name string
	e    headerEntry
}

// attach makes the tensors of items, their data slices of buf.
func (f *File) attach(items []item, buf []byte) {
	for _, it := range items {
		begin, stop := it.e.DataOffsets[0], it.e.DataOffsets[1]
		shape := it.e.Shape
		if shape == nil {
			shape = []int{}
		}
		f.Tensors = append(f.Tensors, Tensor{Name: it.name, DType: it.e.DType, Shape: shape, Data: buf[begin:stop:stop]})
	}
}

// parseHeader validates the JSON header hdr of a file whose data buffer has
// bufLen bytes: every tensor's offsets must lie in it, tile it exactly and
// match its shape. It returns the metadata (in a File without tensors) and
// the entries sorted by offset. Nothing is allocated in proportion to the
// sizes the header declares.
func parseHeader(hdr []byte, bufLen int64, fail func(string, ...any) error) (*File, []item, error) {
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, fail("header is not a JSON object (it must start with '{')")
	}
	if !utf8.Valid(hdr) {
		return nil, nil, fail("header is not valid UTF-8")
	}
	// First pass: raw messages, to check for duplicate keys and keep order.
	dec := json.NewDecoder(bytes.NewReader(hdr))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, fail("header is not a JSON object: %v", err)
	}
	f := &File{}
	var items []item
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fail("bad header JSON: %v", err)
		}
		key := tok.(string)
		if seen[key] {
			return nil, nil, fail("tensor %q appears twice in the header", key)
		}
		seen[key] = true
		if key == metadataKey {
			var m map[string]string
			if err := dec.Decode(&m); err != nil {
				return nil, nil, fail("bad __metadata__ (must map strings to strings): %v", err)
			}
			f.Metadata = m
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fail("bad header JSON at tensor %q: %v", key, err)
		}
		var e headerEntry
		rd := json.NewDecoder(bytes.NewReader(raw))
		rd.DisallowUnknownFields()
		if err := rd.Decode(&e); err != nil {
			return nil, nil, fail("tensor %q: bad header entry %s: %v", key, raw, err)
		}
		if e.DType.Size() == 0 {
			return nil, nil, fail("tensor %q: unknown dtype %q", key, e.DType)
		}
		if e.Shape == nil && !bytes.Contains(raw, []byte(`"shape"`)) {
			return nil, nil, fail("tensor %q: no shape", key)
		}
		if !bytes.Contains(raw, []byte(`"data_offsets"`)) {
			return nil, nil, fail("tensor %q: no data_offsets", key)
		}
		items = append(items, item{key, e})
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fail("bad header JSON: %v", err)
	}
	if rest := bytes.TrimSpace(hdr[dec.InputOffset():]); len(rest) != 0 {
		return nil, nil, fail("bad header JSON: trailing data after the object")
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].e.DataOffsets, items[j].e.DataOffsets
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		return a[1] < b[1]
	})
	var end int64
	for _, it := range items {
		e := it.e
		begin, stop := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || stop < begin {
			return nil, nil, fail("tensor %q: invalid data_offsets [%d, %d]", it.name, begin, stop)
		}
		if begin != end {
			if begin < end {
				return nil, nil, fail("tensor %q: data_offsets [%d, %d] overlap the previous tensor (which ends at %d)", it.name, begin, stop, end)
			}
			return nil, nil, fail("tensor %q: data_offsets [%d, %d] leave a gap after byte %d", it.name, begin, stop, end)
		}
		if stop > bufLen {
			return nil, nil, fail("tensor %q: data_offsets [%d, %d] out of range: the data buffer has %d bytes (truncated?)", it.name, begin, stop, bufLen)
		}
		n, ok := int64(1), true
		for _, d := range e.Shape {
			if d < 0 {
				return nil, nil, fail("tensor %q: negative dimension in shape %v", it.name, e.Shape)
			}
			if d != 0 && n > math.MaxInt64/8/int64(d) {
				ok = false
				break
			}
			n *= int64(d)
		}
		if want := n * int64(e.DType.Size()); !ok || stop-begin != want {
			return nil, nil, fail("tensor %q: %d bytes in data_offsets, but shape %v of %s needs %d", it.name, stop-begin, e.Shape, e.DType, want)
		}
		end = stop
	}
	if end != bufLen {
		return nil, nil, fail("%d bytes of data after the last tensor (the buffer has %d, tensors cover %d)", bufLen-end, bufLen, end)
	}
	return f, items, nil
}

// Read reads and validates a safetensors file. It refuses anything but a
// regular file (a device such as /dev/zero, a FIFO, a directory), and reads
// in bounded steps: the 8-byte header length, checked against MaxHeader and
// the file's size; the header, whose offsets must tile exactly the rest of
// the file; only then the data, exactly as many bytes as the header
// declares. So memory never exceeds the file's real size (plus the header).
func Read(path string) (*File, error) {
	fail := failer(path)
	r, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if size < 8 {
		return nil, fail("too short (%d bytes) for the 8-byte header length", size)
	}
	var lb [8]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, fail("reading the header length: %v", err)
	}
	hlen, err := headerLength(lb[:], size, fail)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fail("reading the %d-byte header: %v (truncated?)", hlen, err)
	}
	bufLen := size - 8 - hlen
	f, items, err := parseHeader(hdr, bufLen, fail)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, bufLen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fail("reading %d data bytes: %v (the file changed while it was read?)", bufLen, err)
	}
	if n, _ := r.Read(lb[:1]); n != 0 {
		return nil, fail("longer than its size %d (the file changed while it was read?)", size)
	}
	f.attach(items, buf)
	return f, nil
}

// openRegular opens path for reading if it is a regular file and returns
// its size. The open does not block on a FIFO (see openFlags).
func openRegular(path string) (*os.File, int64, error) {
	r, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("checkpoint: %w", err)
	}
	st, err := r.Stat()
	if err != nil {
		r.Close()
		return nil, 0, fmt.Errorf("checkpoint: %w", err)
	}
	if !st.Mode().IsRegular() {
		r.Close()
		return nil, 0, fmt.Errorf("checkpoint: %s is not a regular file (it is %s)", path, FileKind(st.Mode()))
	}
	return r, st.Size(), nil
}

// FileKind names the type of a file mode in words ("a device", "a FIFO").
func FileKind(m os.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	}
	return "not a plain file"
}

// readRegular reads a whole regular file of at most limit bytes.
func readRegular(path string, limit int64) ([]byte, error) {
	r, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if size > limit {
		return nil, fmt.Errorf("checkpoint: %s: %d bytes, more than the limit of %d", path, size, limit)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("checkpoint: reading %s: %w", path, err)
	}
	return b, nil
}

// testHookBeforeRename, when set (by tests), runs after the temporary file
// is written and before it is renamed into place.
var testHookBeforeRename func(tmp string) error

// Write writes tensors and metadata to path atomically (see the package
// documentation). Tensor names must be unique; the order of tensors does
// not matter (the file order is canonical).
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	if _, err := layout(tensors); err != nil {
		return fmt.Errorf("%w (writing %s)", err, path)
	}
	return writeAtomic(path, func(w io.Writer) error { return Encode(w, tensors, metadata) })
}

// writeAtomic writes a file via a synced temporary file and a rename.
func writeAtomic(path string, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := tempfile.Create(dir, filepath.Base(path)) // swept if we are killed (lib/internal/tempfile)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := fill(tmp); err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("checkpoint: writing %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	if testHookBeforeRename != nil {
		if err := testHookBeforeRename(tmpName); err != nil {
			return fmt.Errorf("checkpoint: writing %s: %w", path, err)
		}
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		serr := d.Sync()
		d.Close()
		if serr != nil && !errors.Is(serr, os.ErrInvalid) {
			return fmt.Errorf("checkpoint: sync directory %s: %w", dir, serr)
		}
	}
	return nil
}

// PutJSON stores v, JSON-encoded, in metadata under key (allocating the
// map if it is nil) and returns the map.
func PutJSON(metadata map[string]string, key string, v any) (map[string]string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return metadata, fmt.Errorf("checkpoint: metadata %q: %w", key, err)
	}
	if metadata == nil {
		metadata = map[string]string{}
	}
	metadata[key] = string(b)
	return metadata, nil
}

// GetJSON decodes the JSON value stored under key into v.
func GetJSON(metadata map[string]string, key string, v any) error {
	s, ok := metadata[key]
	if !ok {
		return fmt.Errorf("checkpoint: no metadata %q", key)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("checkpoint: metadata %q: %w", key, err)
	}
	return nil
}

// SidecarPath is where WriteSidecar puts the state of checkpoint path.
func SidecarPath(path string) string { return strings.TrimSuffix(path, ".safetensors") + ".json" }

// WriteSidecar writes v as indented JSON to SidecarPath(path), atomically.
func WriteSidecar(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint: sidecar for %s: %w", path, err)
	}
	return writeAtomic(SidecarPath(path), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// MaxSidecar is the largest sidecar ReadSidecar reads.
const MaxSidecar = 1 << 30

// ReadSidecar decodes SidecarPath(path) into v (a regular file of at most
// MaxSidecar bytes).
func ReadSidecar(path string, v any) error {
	p := SidecarPath(path)
	b, err := readRegular(p, MaxSidecar)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", p, err)
	}
	return nil
}
