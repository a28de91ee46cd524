package checkpoint

import (
	"bytes"
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
