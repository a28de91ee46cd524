package train

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"repdyn/lib/internal/tempfile"
)

// TestHelperOrphanWriter is not a test: run by TestRunSweepsOrphans as a
// child process, it starts writing a checkpoint's temporary file the way
// checkpoint.Write does, says so, and hangs until it is killed.
func TestHelperOrphanWriter(t *testing.T) {
	dir := os.Getenv("REPDYN_TEST_ORPHAN_DIR")
	if dir == "" {
		t.Skip("helper process")
	}
	f, err := tempfile.Create(dir, "last.safetensors")
	if err != nil {
		os.Exit(3)
	}
	f.Write(make([]byte, 1<<16))
	os.Stdout.WriteString("writing " + f.Name() + "\n")
	time.Sleep(time.Hour)
}

// TestRunSweepsOrphans: temporary checkpoint files orphaned by kill -9
// piled up (probe 7 of issue 17); opening a run in the folder removes them,
// and nothing else.
func TestRunSweepsOrphans(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOrphanWriter$")
	cmd.Env = append(os.Environ(), "REPDYN_TEST_ORPHAN_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "writing ") {
		cmd.Process.Kill()
		t.Fatalf("helper: %q %v", line, err)
	}
	orphan := strings.TrimSpace(strings.TrimPrefix(line, "writing "))
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	keep := filepath.Join(dir, "notes.txt")
	os.WriteFile(keep, []byte("mine"), 0o644)
	if _, err := os.Stat(orphan); err != nil {
		t.Fatalf("the killed writer's file %s is not there: %v", orphan, err)
	}

	a := newSetup(t, dir, 2, false)
	if _, _, err := run(t, a, context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); err == nil {
		t.Fatalf("orphaned temporary file %s survived opening the run", orphan)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if _, err := os.Stat(keep); err != nil || len(entries) != 3 { // notes.txt, last and best checkpoints
		t.Fatalf("folder holds %v", names)
	}
}
