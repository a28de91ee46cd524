package cache

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTruncatedEntryIsAnError(t *testing.T) {
	c := Open(t.TempDir())
	k, _ := KeyOf("t", "trunc")
	payload := bytes.Repeat([]byte("0123456789"), 100)
	if err := c.Put(k, payload); err != nil {
		t.Fatal(err)
	}
	p, _ := c.Path(k)
	b, _ := os.ReadFile(p)
	for name, damaged := range map[string][]byte{
		"truncated":   b[:len(b)-7],
		"bit flipped": append(append([]byte(nil), b[:len(b)-1]...), b[len(b)-1]^1),
		"no header":   payload,
		"empty":       {},
	} {
		if err := os.WriteFile(p, damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		data, ok, err := c.Get(k)
		var ce *CorruptError
		if ok || data != nil || !errors.As(err, &ce) || ce.Path != p || !strings.Contains(err.Error(), p) {
			t.Errorf("%s entry: Get = %d bytes, ok %v, err %v; want a CorruptError naming %s", name, len(data), ok, err, p)
		}
	}
}

func TestMemoRecomputesCorruptEntry(t *testing.T) {
	c := Open(t.TempDir())
	k, _ := KeyOf("t", "corrupt")
	calls := 0
	f := func() ([]float64, error) { calls++; return []float64{1, 2, 3}, nil }
	if _, err := Memo(c, k, f); err != nil {
		t.Fatal(err)
	}
	env, err := CurrentEnv(0)
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := EnvKey(k, env)
	p, _ := c.Path(ek)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("Memo stored no entry at %s: %v", p, err)
	}
	// A truncated JSON payload with a consistent header: the decode fails.
	os.WriteFile(p, frame([]byte(`[1,2`), time.Now()), 0o644)
	stderr := captureStderr(t, func() {
		v, err := Memo(c, k, f)
		if err != nil || len(v) != 3 || calls != 2 {
			t.Fatalf("after corrupt JSON: %v %v, %d calls", v, err, calls)
		}
	})
	if !strings.Contains(stderr, p) || !strings.Contains(stderr, "recomputing") {
		t.Errorf("corrupt entry not reported by path: %q", stderr)
	}
	os.WriteFile(p, b[:len(b)/2], 0o644) // truncated on disk
	stderr = captureStderr(t, func() {
		if _, err := Memo(c, k, f); err != nil || calls != 3 {
			t.Fatalf("after truncation: %v, %d calls", err, calls)
		}
	})
	if !strings.Contains(stderr, p) {
		t.Errorf("truncated entry not reported by path: %q", stderr)
	}
	if _, err := Memo(c, k, f); err != nil || calls != 3 {
		t.Fatalf("recomputed entry not stored: %v, %d calls", err, calls)
	}
}

func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = old }()
	f()
	w.Close()
	var buf bytes.Buffer
	buf.ReadFrom(r)
	return buf.String()
}

func TestNoCacheRecomputes(t *testing.T) {
	c := Open(t.TempDir())
	k, _ := KeyOf("t", "nocache")
	calls := 0
	f := func() (int, error) { calls++; return calls, nil }
	Memo(c, k, f)
	t.Setenv("REPDYN_NOCACHE", "1")
	v, _ := Memo(c, k, f)
	t.Setenv("REPDYN_NOCACHE", "")
	w, _ := Memo(c, k, f)
	if calls != 2 || v != 2 || w != 2 {
		t.Fatalf("REPDYN_NOCACHE=1: calls %d, values %d %d; want the recomputed 2 stored", calls, v, w)
	}
}

func TestSweepOrphanedTempFiles(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "ns", "ab")
	os.MkdirAll(sub, 0o755)
	// A writer killed with -9: its pid no longer exists.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	deadPid := cmd.Process.Pid
	orphan := filepath.Join(sub, ".abcdef.tmp-"+strconv.Itoa(deadPid)+"-123")
	live := filepath.Join(sub, ".abcdef.tmp-"+strconv.Itoa(os.Getpid())+"-456")
	old := filepath.Join(sub, ".abcdef.tmp-999")
	entry := filepath.Join(sub, "abcdef")
	for _, p := range []string{orphan, live, old, entry} {
		os.WriteFile(p, []byte("x"), 0o644)
	}
	os.Chtimes(old, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour))
	Open(dir)
	for p, want := range map[string]bool{orphan: false, live: true, old: false, entry: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}
