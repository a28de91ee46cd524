package checkpoint

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// readWithin runs Read(path) and fails the test if it takes longer than d
// (the unbounded ReadFile on /dev/zero never returned).
func readWithin(t *testing.T, path string, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := Read(path); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Read(%s) did not return within %v", path, d)
	}
	return nil
}

// TestReadNonRegular: Read refuses devices, FIFOs and directories at once
// (probe 5 of issue 17: `repdyn eval --checkpoint /dev/zero` read until out
// of memory).
func TestReadNonRegular(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err == nil {
		wantErr(t, readWithin(t, "/dev/zero", 5*time.Second), "/dev/zero", "not a regular file")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.safetensors")
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		wantErr(t, readWithin(t, fifo, 5*time.Second), "fifo.safetensors", "not a regular file")
	}
	wantErr(t, readWithin(t, dir, 5*time.Second), "not a regular file")
	// A symlink to a regular file is fine (it is the file that counts).
	good := filepath.Join(dir, "good.safetensors")
	if err := Write(good, sample(), nil); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.safetensors")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if err := readWithin(t, link, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestReadBounded: the header's sizes are checked against the file's real
// size before the data is read, so a small file declaring huge tensors
// allocates nothing like what it declares.
func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := build(`{"a":{"dtype":"F32","shape":[250000000000],"data_offsets":[0,1000000000000]}}`, make([]byte, 16))
	var lenOnly [8]byte
	binary.LittleEndian.PutUint64(lenOnly[:], MaxHeader) // a header length as large as allowed, and nothing else
	for _, c := range []struct {
		name  string
		data  []byte
		parts []string
	}{
		{"huge", huge, []string{"huge", `tensor "a"`, "out of range", "16 bytes"}},
		{"hlen", lenOnly[:], []string{"hlen", "exceeds the file size"}},
		{"short", []byte{1, 2, 3}, []string{"short", "too short"}},
	} {
		p := write(c.name, c.data)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := readWithin(t, p, 5*time.Second)
		runtime.ReadMemStats(&after)
		wantErr(t, err, c.parts...)
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("%s: Read allocated %d bytes", c.name, d)
		}
	}
}
