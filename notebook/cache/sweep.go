package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A temporary file is named ".<target>.tmp-<pid>-<random>", so that a later
// process can tell whether its writer still runs.
const tmpMark = ".tmp-"

// staleAfter is the age after which a temporary file is removed even if a
// process with its writer's pid runs (the pid may have been reused).
const staleAfter = time.Hour

func tempPrefix(path string) string {
	return "." + filepath.Base(path) + tmpMark + strconv.Itoa(os.Getpid()) + "-*"
}

var swept sync.Map // directory -> struct{}

func sweepOnce(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if _, done := swept.LoadOrStore(abs, struct{}{}); done {
		return
	}
	Sweep(dir)
}

// Sweep removes the orphaned temporary files under dir (see Open) and
// returns their paths. Errors (an unreadable directory) are ignored: the
// cache still works, it only keeps the orphans.
func Sweep(dir string) []string {
	var removed []string
	now := time.Now()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		n := d.Name()
		i := strings.LastIndex(n, tmpMark)
		if !strings.HasPrefix(n, ".") || i < 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		pidStr, _, _ := strings.Cut(n[i+len(tmpMark):], "-")
		pid, perr := strconv.Atoi(pidStr)
		dead := perr == nil && pid > 0 && !alive(pid)
		if dead || now.Sub(info.ModTime()) > staleAfter {
			if os.Remove(p) == nil {
				removed = append(removed, p)
			}
		}
		return nil
	})
	return removed
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
