package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sample() []Tensor {
	return []Tensor{
		FromFloat32("layer1.weight", []int{2, 3}, []float32{1, -2, 3.5, 4, 5, 6e-8}),
		FromInt64("step", []int{}, []int64{12345678901}),
		FromFloat64("bn.running_var", []int{3}, []float64{0.1, 0.2, 0.3}),
		FromInt32("labels", []int{4}, []int32{0, -1, 7, 2147483647}),
		{Name: "mask", DType: U8, Shape: []int{3}, Data: []byte{1, 0, 1}},
		FromFloat32("empty", []int{0, 4}, nil),
	}
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

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	type state struct {
		Epoch int
		LR    float64
		Seeds []uint64
	}
	meta, err := PutJSON(nil, "state", state{Epoch: 3, LR: 0.1, Seeds: []uint64{1, 1 << 63}})
	if err != nil {
		t.Fatal(err)
	}
	meta["format"] = "pt"
	if err := Write(path, sample(), meta); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, meta) {
		t.Fatalf("metadata %v", f.Metadata)
	}
	var st state
	if err := GetJSON(f.Metadata, "state", &st); err != nil || st.Epoch != 3 || st.Seeds[1] != 1<<63 {
		t.Fatalf("%+v %v", st, err)
	}
	// File order: 8-byte types first, then 4, then 1, each by name.
	if got := strings.Join(f.Names(), ","); got != "bn.running_var,step,empty,labels,layer1.weight,mask" {
		t.Fatalf("order %s", got)
	}
	for _, want := range sample() {
		got, ok := f.Get(want.Name)
		if !ok || got.DType != want.DType || !reflect.DeepEqual(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("tensor %s: got %+v", want.Name, got)
		}
	}
	w, _ := f.Get("layer1.weight")
	if v, err := w.Float32s(); err != nil || v[2] != 3.5 || v[5] != 6e-8 {
		t.Fatalf("%v %v", v, err)
	}
	s, _ := f.Get("step")
	if v, err := s.Int64s(); err != nil || v[0] != 12345678901 {
		t.Fatalf("%v %v", v, err)
	}
	if _, err := s.Float32s(); err == nil {
		t.Fatal("I64 decoded as F32")
	}
	l, _ := f.Get("labels")
	if v, _ := l.Int32s(); v[1] != -1 {
		t.Fatal("int32")
	}
	b, _ := f.Get("bn.running_var")
	if v, _ := b.Float64s(); v[2] != 0.3 {
		t.Fatal("float64")
	}
	// Header alignment and offsets.
	raw, _ := os.ReadFile(path)
	n := binary.LittleEndian.Uint64(raw)
	if n%8 != 0 {
		t.Fatalf("header length %d not a multiple of 8", n)
	}
	// Deterministic: the same content gives the same bytes.
	path2 := filepath.Join(t.TempDir(), "again.safetensors")
	ts := sample()
	ts[0], ts[3] = ts[3], ts[0]
	Write(path2, ts, meta)
	raw2, _ := os.ReadFile(path2)
	if !bytes.Equal(raw, raw2) {
		t.Fatal("output depends on tensor order")
	}
	// Sidecar.
	if err := WriteSidecar(path, st); err != nil {
		t.Fatal(err)
	}
	var st2 state
	if err := ReadSidecar(path, &st2); err != nil || !reflect.DeepEqual(st, st2) {
		t.Fatalf("sidecar %+v %v", st2, err)
	}
	if SidecarPath(path) != strings.TrimSuffix(path, ".safetensors")+".json" {
		t.Fatal(SidecarPath(path))
	}
}

func TestWriteRejects(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.safetensors")
	wantErr(t, Write(p, []Tensor{{Name: "a", DType: F32, Shape: []int{2}, Data: make([]byte, 7)}}, nil), `"a"`, "7 data bytes", "needs 8")
	wantErr(t, Write(p, []Tensor{FromInt32("a", []int{1}, []int32{1}), FromInt32("a", []int{1}, []int32{1})}, nil), "twice")
	wantErr(t, Write(p, []Tensor{{Name: "a", DType: "F128", Shape: []int{1}, Data: make([]byte, 16)}}, nil), "unknown dtype")
	wantErr(t, Write(p, []Tensor{FromInt32("__metadata__", []int{1}, []int32{1})}, nil), "invalid tensor name")
	if _, err := os.Stat(p); err == nil {
		t.Fatal("rejected write created the file")
	}
}

func TestFailedWriteKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ckpt.safetensors")
	if err := Write(p, sample(), map[string]string{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(p)
	var tmpSeen string
	testHookBeforeRename = func(tmp string) error {
		tmpSeen = tmp
		if fi, err := os.Stat(tmp); err != nil || fi.Size() == 0 {
			t.Errorf("temporary file not written: %v", err)
		}
		return errors.New("simulated crash before rename")
	}
	defer func() { testHookBeforeRename = nil }()
	err := Write(p, []Tensor{FromFloat32("w", []int{1}, []float32{9})}, map[string]string{"v": "2"})
	wantErr(t, err, "simulated crash", p)
	if now, _ := os.ReadFile(p); !bytes.Equal(now, old) {
		t.Fatal("old checkpoint changed by a failed write")
	}
	if _, err := os.Stat(tmpSeen); !os.IsNotExist(err) {
		t.Fatalf("temporary file %s left behind", tmpSeen)
	}
	if f, err := Read(p); err != nil || f.Metadata["v"] != "1" {
		t.Fatalf("old file unreadable: %v", err)
	}
	// A write into a missing directory fails cleanly.
	wantErr(t, Write(filepath.Join(dir, "nope", "x.safetensors"), sample(), nil), "nope")
}

// build assembles a file from a header string and a data buffer.
func build(header string, data []byte) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestReadCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	Write(good, []Tensor{FromFloat32("a", []int{2}, []float32{1, 2}), FromFloat32("b", []int{1}, []float32{3})}, nil)
	raw, _ := os.ReadFile(good)
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	cases := []struct {
		name  string
		data  []byte
		parts []string
	}{
		{"short", raw[:5], []string{"too short"}},
		{"truncated", raw[:len(raw)-2], []string{`tensor "b"`, "out of range", "truncated"}},
		{"hugeheader", huge, []string{"exceeds the limit"}},
		{"longheader", build(`{}`, nil)[:9], []string{"exceeds the file size"}},
		{"notjson", build(`[1,2]   `, nil), []string{"not a JSON object"}},
		{"badjson", build(`{"a":{"dtype":"F32",`, nil), []string{"bad header JSON"}},
		{"dtype", build(`{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), []string{`"a"`, `unknown dtype "Q8"`}},
		{"size", build(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), []string{`"a"`, "shape [3] of F32 needs 12"}},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), []string{`"b"`, "overlap"}},
		{"gap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), []string{`"a"`, "gap"}},
		{"tail", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8)), []string{"4 bytes of data after the last tensor"}},
		{"range", build(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8)), []string{`"a"`, "out of range"}},
		{"backwards", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, make([]byte, 8)), []string{`"a"`, "invalid data_offsets"}},
		{"dup", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), []string{`"a"`, "twice"}},
		{"meta", build(`{"__metadata__":{"k":1}}`, nil), []string{"__metadata__"}},
		{"extra", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"bogus":1}}`, make([]byte, 1)), []string{`"a"`, "bogus"}},
		{"neg", build(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, make([]byte, 1)), []string{`"a"`, "negative"}},
		{"overflow", build(`{"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,1]}}`, make([]byte, 1)), []string{`"a"`, "needs"}},
		{"trailing", build(`{} {}`, nil), []string{"trailing data"}},
		{"space", build(` {}`, nil), []string{"must start with '{'"}},
		{"utf8", build("{\"\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", make([]byte, 1)), []string{"UTF-8"}},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+".safetensors")
		os.WriteFile(p, c.data, 0o644)
		_, err := Read(p)
		wantErr(t, err, append([]string{p}, c.parts...)...)
	}
	// A header padded with spaces, metadata only, no tensors: valid.
	f, err := Decode(build(`{"__metadata__":{"k":"v"}}    `, nil), "x")
	if err != nil || f.Metadata["k"] != "v" || len(f.Tensors) != 0 {
		t.Fatalf("%v %v", f, err)
	}
}

// The Python side of the interoperability test: an independent reader and
// writer using only json, struct and torch (torch.frombuffer), and
// safetensors.torch when that package is installed.
const pyScript = `
import json, struct, sys, torch
DT = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
def load(path):
    try:
        from safetensors.torch import load_file
        return load_file(path), None
    except ImportError:
        pass
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    assert n % 8 == 0, "header not aligned"
    h = json.loads(b[8:8+n])
    meta = h.pop("__metadata__", None)
    out = {}
    for k, v in h.items():
        s, e = v["data_offsets"]
        buf = bytearray(b[8+n+s:8+n+e])
        t = torch.frombuffer(buf, dtype=DT[v["dtype"]]) if e > s else torch.empty(0, dtype=DT[v["dtype"]])
        out[k] = t.reshape(v["shape"])
    return out, meta
def save(path, tensors, meta):
    try:
        from safetensors.torch import save_file
        return save_file(tensors, path, metadata=meta)
    except ImportError:
        pass
    inv = {v: k for k, v in DT.items()}
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, off, data = {"__metadata__": meta}, 0, b""
    for k, t in items:
        raw = t.contiguous().numpy().tobytes() if t.numel() else b""
        header[k] = {"dtype": inv[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw); data += raw
    hb = json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)
    open(path, "wb").write(struct.pack("<Q", len(hb)) + hb + data)
go_file, py_file = sys.argv[1], sys.argv[2]
t, meta = load(go_file)
assert t["layer1.weight"].dtype == torch.float32 and list(t["layer1.weight"].shape) == [2, 3]
assert torch.equal(t["layer1.weight"], torch.tensor([[1, -2, 3.5], [4, 5, 6e-8]], dtype=torch.float32))
assert t["step"].dtype == torch.int64 and t["step"].shape == () and t["step"].item() == 12345678901
assert torch.equal(t["bn.running_var"], torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64))
assert torch.equal(t["labels"], torch.tensor([0, -1, 7, 2147483647], dtype=torch.int32))
assert torch.equal(t["mask"], torch.tensor([1, 0, 1], dtype=torch.uint8))
assert list(t["empty"].shape) == [0, 4]
if meta is not None:
    assert meta["format"] == "pt" and json.loads(meta["state"])["epoch"] == 7, meta
save(py_file, {
    "conv.weight": torch.arange(24, dtype=torch.float32).reshape(2, 3, 2, 2) / 8,
    "count": torch.tensor([5, -6], dtype=torch.int64),
    "idx": torch.tensor([[1, 2], [3, 4]], dtype=torch.int32),
    "var": torch.tensor([1.5, 2.25], dtype=torch.float64),
}, {"from": "python", "torch": torch.__version__})
print("python ok:", "safetensors" if "safetensors" in sys.modules else "torch-only parser")
`

func findTorchPython(t *testing.T) string {
	for _, py := range []string{os.Getenv("REPDYN_PYTHON"), "/usr/bin/python3", "python3"} {
		if py == "" {
			continue
		}
		if err := exec.Command(py, "-c", "import torch").Run(); err == nil {
			return py
		}
	}
	t.Skip("python3 with torch not found (apt-get install python3-torch, or set REPDYN_PYTHON); skipping the Python interoperability test")
	return ""
}

func TestPythonInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the Python interoperability test")
	}
	py := findTorchPython(t)
	dir := t.TempDir()
	goFile, pyFile := filepath.Join(dir, "go.safetensors"), filepath.Join(dir, "py.safetensors")
	meta, _ := PutJSON(map[string]string{"format": "pt"}, "state", map[string]int{"epoch": 7})
	if err := Write(goFile, sample(), meta); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "interop.py")
	os.WriteFile(script, []byte(pyScript), 0o644)
	out, err := exec.Command(py, script, goFile, pyFile).CombinedOutput()
	if err != nil {
		t.Fatalf("python failed: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	f, err := Read(pyFile)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["from"] != "python" {
		t.Fatalf("metadata %v", f.Metadata)
	}
	w, _ := f.Get("conv.weight")
	v, err := w.Float32s()
	if err != nil || !reflect.DeepEqual(w.Shape, []int{2, 3, 2, 2}) || v[23] != 23.0/8 {
		t.Fatalf("conv.weight %v %v %v", w.Shape, v, err)
	}
	c, _ := f.Get("count")
	if iv, err := c.Int64s(); err != nil || iv[1] != -6 {
		t.Fatalf("count %v %v", iv, err)
	}
	idx, _ := f.Get("idx")
	if iv, err := idx.Int32s(); err != nil || iv[3] != 4 {
		t.Fatalf("idx %v %v", iv, err)
	}
	vr, _ := f.Get("var")
	if fv, err := vr.Float64s(); err != nil || fv[1] != 2.25 {
		t.Fatalf("var %v %v", fv, err)
	}
}
