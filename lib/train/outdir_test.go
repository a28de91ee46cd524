package train

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenAppend(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "metrics.jsonl")
	for i := 0; i < 2; i++ {
		f, err := OpenAppend(p)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("x\n")
		f.Close()
	}
	if b, _ := os.ReadFile(p); string(b) != "x\nx\n" {
		t.Fatalf("appended %q", b)
	}
	outside := filepath.Join(dir, "outside")
	os.WriteFile(outside, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link.jsonl")
	os.Symlink(outside, link)
	if _, err := OpenAppend(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("symlink: %v", err)
	}
	dangling := filepath.Join(dir, "dangling.jsonl")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	if _, err := OpenAppend(dangling); err == nil {
		t.Fatal("dangling symlink followed")
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Fatal("a dangling symlink's target was created")
	}
	fifo := filepath.Join(dir, "fifo.jsonl")
	if syscall.Mkfifo(fifo, 0o600) == nil {
		if _, err := OpenAppend(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("fifo: %v", err)
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Fatalf("outside file changed: %q", b)
	}
}
