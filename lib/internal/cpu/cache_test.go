package cpu

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int{"48K": 48 << 10, "2048K": 2 << 20, "1M": 1 << 20, "512": 512, "": 0, "x": 0, "-1K": 0} {
		if got := parseSize(s); got != want {
			t.Errorf("parseSize(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestReadCaches(t *testing.T) {
	dir := t.TempDir()
	write := func(idx, level, typ, size string) {
		d := filepath.Join(dir, idx)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"level": level, "type": typ, "size": size} {
			if err := os.WriteFile(filepath.Join(d, name), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("index0", "1", "Data", "32K")
	write("index1", "1", "Instruction", "64K")
	write("index2", "2", "Unified", "512K")
	write("index3", "3", "Unified", "32768K")
	if l1, l2 := readCaches(dir); l1 != 32<<10 || l2 != 512<<10 {
		t.Fatalf("readCaches = %d, %d; want 32K, 512K", l1, l2)
	}
	if l1, l2 := readCaches(filepath.Join(dir, "missing")); l1 != 0 || l2 != 0 {
		t.Fatalf("readCaches of a missing dir = %d, %d; want 0, 0", l1, l2)
	}
}
