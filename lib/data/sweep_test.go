package data

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"repdyn/lib/internal/tempfile"
)

// TestHelperOrphanDownload is not a test: run by TestLoadSweepsOrphans as a
// child process, it starts a download's temporary file, says so and hangs.
func TestHelperOrphanDownload(t *testing.T) {
	dir := os.Getenv("REPDYN_TEST_ORPHAN_DIR")
	if dir == "" {
		t.Skip("helper process")
	}
	f, err := tempfile.Create(dir, "semeion.data")
	if err != nil {
		os.Exit(3)
	}
	f.Write(make([]byte, 1<<16))
	os.Stdout.WriteString("writing " + f.Name() + "\n")
	time.Sleep(time.Hour)
}

// TestLoadSweepsOrphans: a download killed with kill -9 leaves its
// temporary file; the next use of the dataset's folder removes it.
func TestLoadSweepsOrphans(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{Dir: dir, Offline: true, NoSystem: true}
	_, p := registerFile(t, opts, "semeion", "semeion.data", []byte(semeionLine(1, 2)))
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOrphanDownload$")
	cmd.Env = append(os.Environ(), "REPDYN_TEST_ORPHAN_DIR="+filepath.Dir(p))
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
	if _, err := os.Stat(orphan); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("semeion", All, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); err == nil {
		t.Fatalf("orphaned download %s survived loading the dataset", orphan)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal("the dataset file was removed")
	}
}
