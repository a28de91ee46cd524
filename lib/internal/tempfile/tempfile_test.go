package tempfile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	return cmd.Process.Pid
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, age time.Duration) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age)
		os.Chtimes(p, mt, mt)
	}
	live, err := Create(dir, "last.safetensors") // ours, writer alive (this process)
	if err != nil {
		t.Fatal(err)
	}
	live.Close()
	dead := deadPID(t)
	other := fmt.Sprintf("%08x", 0x12345678)
	if other == Host() {
		other = "87654321"
	}
	write(fmt.Sprintf(".last.safetensors.tmp-%d@%s-123", dead, Host()), 0)                     // dead writer, this host: stale
	write(fmt.Sprintf(".best.safetensors.tmp-%d@%s-9", dead, other), 0)                        // another host: not ours to judge yet
	write(fmt.Sprintf(".best.safetensors.tmp-%d@%s-8", dead, other), 2*StaleAge)               // another host, but old: stale
	write(fmt.Sprintf(".last.json.tmp-%d@%s-7", os.Getppid(), Host()), 0)                      // writer alive
	write(".last.safetensors.tmp-4242", 2*StaleAge)                                            // pattern before this package, old
	write(".semeion.data.verified.tmp", 2*StaleAge)                                            // main's stamp temporary, old
	write(".train-images.gz.part-99", 0)                                                       // same, fresh: kept
	write("last.safetensors", 2*StaleAge)                                                      // not a temporary file
	write("notes.tmp-1", 2*StaleAge)                                                           // not our pattern (no leading dot)
	os.Symlink("/etc/passwd", filepath.Join(dir, fmt.Sprintf(".x.tmp-%d@%s-1", dead, Host()))) // a link: never
	removed, err := Sweep(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{
		fmt.Sprintf(".best.safetensors.tmp-%d@%s-8", dead, other),
		fmt.Sprintf(".last.safetensors.tmp-%d@%s-123", dead, Host()),
		".last.safetensors.tmp-4242",
		".semeion.data.verified.tmp",
	}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 7 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Fatalf("left %v", names)
	}
	if !strings.HasPrefix(filepath.Base(live.Name()), ".last.safetensors.tmp-") {
		t.Fatalf("name %s", live.Name())
	}
	if _, err := os.Stat(live.Name()); err != nil {
		t.Fatal("the live writer's file was removed")
	}
	if r, err := Sweep(filepath.Join(dir, "missing")); err != nil || r != nil {
		t.Fatal(r, err)
	}
}
