package train

import (
	"path/filepath"
	"strings"
	"testing"

	"repdyn/lib/checkpoint"
	"repdyn/lib/models"
	"repdyn/lib/optim"
)

// TestExportAndLowPrecisionLoad: ExportModel/Checkpoint.Export write only
// the model's tensors (I64 counters, the requested float dtype), and
// LoadModel reads F16/BF16 weights (cast exactly) and integer counters.
func TestExportAndLowPrecisionLoad(t *testing.T) {
	dir := t.TempDir()
	m, err := models.New[float32]("resnet20", models.Config{Width: 0.25, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range m.Buffers() {
		if strings.HasSuffix(b.Name, "num_batches_tracked") {
			b.Data[0] = 42
		}
	}
	opt, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.1, Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, "full.safetensors")
	if err := Save(full, m, opt, &State{Version: stateVersion, DType: "float32"}, map[string]string{"model": "resnet20"}); err != nil {
		t.Fatal(err)
	}
	c, err := Open(full)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []checkpoint.DType{checkpoint.F32, checkpoint.F16, checkpoint.BF16} {
		p := filepath.Join(dir, string(d)+".safetensors")
		if err := c.Export(p, d); err != nil {
			t.Fatal(err)
		}
		f, err := checkpoint.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.Metadata[MetaState]; ok || f.Metadata[MetaModel] == "" {
			t.Errorf("%s: metadata %v, want the model spec and no training state", d, f.Metadata)
		}
		if len(f.Tensors) != len(m.Params())+len(m.Buffers()) {
			t.Errorf("%s: %d tensors, want %d (no optimizer state)", d, len(f.Tensors), len(m.Params())+len(m.Buffers()))
		}
		for _, tt := range f.Tensors {
			want := d
			if isCounter(tt.Name) {
				want = checkpoint.I64
			}
			if tt.DType != want {
				t.Errorf("%s: %s is %s, want %s", d, tt.Name, tt.DType, want)
			}
		}
		m2, _ := models.New[float64]("resnet20", models.Config{Width: 0.25, Seed: 9})
		c2, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := c2.LoadModel(m2); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		// every loaded value is the float32 value rounded to d, exactly
		for i, p := range m.Params() {
			for j, v := range p.Data {
				r := float64(v)
				switch d {
				case checkpoint.F16:
					r = float64(checkpoint.HalfToFloat32(checkpoint.Float32ToHalf(v)))
				case checkpoint.BF16:
					r = float64(checkpoint.BFloat16ToFloat32(checkpoint.Float32ToBFloat16(v)))
				}
				if got := m2.Params()[i].Data[j]; got != r {
					t.Fatalf("%s: %s[%d] = %v, want %v", d, p.Name, j, got, r)
				}
			}
		}
		for _, b := range m2.Buffers() {
			if isCounter(b.Name) && b.Data[0] != 42 {
				t.Errorf("%s: %s = %v, want 42", d, b.Name, b.Data[0])
			}
		}
	}
	// a negative counter is refused
	ts, _ := ExportTensors(c.File.Tensors, checkpoint.F32)
	for i := range ts {
		if isCounter(ts[i].Name) {
			ts[i] = checkpoint.FromInt64(ts[i].Name, nil, []int64{-1})
			break
		}
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := checkpoint.Write(bad, ts, nil); err != nil {
		t.Fatal(err)
	}
	cb, _ := Open(bad)
	if err := cb.LoadModel(m); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative counter: %v", err)
	}
}
