package checkpoint

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts
// re-encodes to a file that decodes to the same tensors.
func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, sample(), map[string]string{"k": "v"})
	f.Add(buf.Bytes())
	f.Add(build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(build(`{}`, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Decode(b, "fuzz")
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, file.Tensors, file.Metadata); err != nil {
			t.Fatalf("accepted file does not re-encode: %v", err)
		}
		again, err := Decode(out.Bytes(), "again")
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) {
			t.Fatal("tensor count changed")
		}
		for _, x := range file.Tensors {
			y, ok := again.Get(x.Name)
			if !ok || y.DType != x.DType || !bytes.Equal(y.Data, x.Data) {
				t.Fatalf("tensor %q changed", x.Name)
			}
		}
	})
}

// FuzzRead checks that Read, which reads a file in bounded steps (header
// length, header, then exactly the data the header declares), accepts and
// rejects exactly what Decode does on the same bytes, with the same result.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, sample(), map[string]string{"k": "v"})
	f.Add(buf.Bytes())
	f.Add(build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(build(`{"a":{"dtype":"F32","shape":[250000000000],"data_offsets":[0,1000000000000]}}`, make([]byte, 16)))
	f.Add([]byte{1, 2, 3})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, rerr := Read(p)
		want, derr := Decode(b, p)
		if (rerr == nil) != (derr == nil) {
			t.Fatalf("Read error %v, Decode error %v", rerr, derr)
		}
		if rerr != nil {
			return
		}
		if !reflect.DeepEqual(got.Metadata, want.Metadata) || len(got.Tensors) != len(want.Tensors) {
			t.Fatal("Read and Decode disagree")
		}
		for i := range got.Tensors {
			g, w := got.Tensors[i], want.Tensors[i]
			if g.Name != w.Name || g.DType != w.DType || !reflect.DeepEqual(g.Shape, w.Shape) || !bytes.Equal(g.Data, w.Data) {
				t.Fatalf("tensor %d: Read %s %v, Decode %s %v", i, g.Name, g.Shape, w.Name, w.Shape)
			}
		}
	})
}
