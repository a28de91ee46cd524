package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInfBufferNotCheckpointed: an Inf running variance leaves the
// training loss finite (train mode uses the batch's statistics) and the
// evaluation too (1/sqrt(Inf) is 0); the state must still never reach a
// checkpoint (probe 10 of issue 17).
func TestInfBufferNotCheckpointed(t *testing.T) {
	dir := t.TempDir()
	a := newSetup(t, dir, 0, false)
	a.cfg.Epochs = 2
	const bad = "layer2.0.bn1.running_var"
	a.cfg.Callbacks = []Callback{{OnStep: func(s *StepInfo) error {
		if s.Step == 7 { // epoch 2, after epoch 1's checkpoint
			for _, b := range a.model.Buffers() {
				if b.Name == bad {
					b.Data[1] = float32(math.Inf(1))
				}
			}
		}
		return nil
	}}}
	_, _, err := run(t, a, context.Background())
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Where != "buffer" || nf.Name != bad || !math.IsInf(nf.Value, 1) {
		t.Fatalf("err = %v (%+v)", err, nf)
	}
	if msg := err.Error(); !strings.Contains(msg, bad) || !strings.Contains(msg, "not writing checkpoint") || strings.Contains(msg, "\n") {
		t.Fatalf("error %q", msg)
	}
	for _, name := range []string{"last.safetensors", "best.safetensors"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		c, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		m := tinyModel(t, 1)
		if err := c.LoadModel(m); err != nil {
			t.Fatal(err)
		}
		if where, name, v, ok := checkState(m); !ok {
			t.Fatalf("%s stores %s %s = %v", p, where, name, v)
		}
	}
}
