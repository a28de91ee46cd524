// Package tempfile creates the temporary files behind repdyn's atomic
// writes (checkpoints, sidecars, downloads, stamps) under names that say who
// wrote them, and sweeps the ones a killed process (kill -9, OOM, power
// loss) left behind.
//
// A temporary file for dir/base is dir/.base.tmp-PID@HOST-RANDOM, where PID
// is the writer's process id and HOST an 8-hex-digit digest of the machine
// and PID namespace (host name, boot id, /proc/self/ns/pid), so that a
// process sharing the folder from another machine or container never takes
// another's live file for its own. Sweep removes only files of that pattern
// (or the patterns repdyn used before: .base.tmp-DIGITS, .base.part-DIGITS,
// .NAME.verified.tmp) that are regular files and either were written from
// this HOST by a PID that no longer runs, or have not been modified for
// StaleAge.
package tempfile

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// StaleAge is the age (since the last modification) after which a
// temporary file of ours is removed whoever wrote it: writers touch their
// file continuously, and no download (30-minute client timeout) or
// checkpoint write is silent that long.
const StaleAge = time.Hour

var (
	hostOnce sync.Once
	host     string
)

// Host is the digest of this machine and PID namespace used in names.
func Host() string {
	hostOnce.Do(func() {
		h := fnv.New32a()
		name, _ := os.Hostname()
		boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
		ns, _ := os.Readlink("/proc/self/ns/pid")
		fmt.Fprintf(h, "%s\x00%s\x00%s", name, boot, ns)
		host = fmt.Sprintf("%08x", h.Sum32())
	})
	return host
}

// Create creates a new temporary file in dir for the file named base (the
// file it will be renamed to), exclusively (O_EXCL: never through an
// existing name or link), mode 0600.
func Create(dir, base string) (*os.File, error) {
	return os.CreateTemp(dir, fmt.Sprintf(".%s.tmp-%d@%s-*", base, os.Getpid(), Host()))
}

var (
	ours   = regexp.MustCompile(`^\..+\.tmp-(\d+)@([0-9a-f]{8})-\d+$`)
	legacy = regexp.MustCompile(`^\..+\.((tmp|part)-\d+|verified\.tmp)$`)
)

// Stale reports whether the entry name (with its information) in a folder
// is a temporary file of ours that no writer will finish.
func Stale(name string, info os.FileInfo, now time.Time) bool {
	if !info.Mode().IsRegular() {
		return false
	}
	old := now.Sub(info.ModTime()) > StaleAge
	if m := ours.FindStringSubmatch(name); m != nil {
		if old {
			return true
		}
		pid, err := strconv.Atoi(m[1])
		return err == nil && m[2] == Host() && pid != os.Getpid() && !alive(pid)
	}
	return legacy.MatchString(name) && old
}

// alive reports whether process pid exists (in this PID namespace).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Sweep removes the stale temporary files of ours directly in dir (see
// Stale) and returns their names. A missing dir is not an error.
func Sweep(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	now := time.Now()
	var removed []string
	var errs []error
	for _, e := range entries {
		if !ours.MatchString(e.Name()) && !legacy.MatchString(e.Name()) {
			continue
		}
		info, err := e.Info() // Lstat: a link is not a regular file
		if err != nil || !Stale(e.Name(), info, now) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, errors.Join(errs...)
}

var swept sync.Map

// SweepOnce is Sweep the first time this process calls it for dir (for
// folders opened again and again, such as a dataset's cache folder).
func SweepOnce(dir string) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if _, done := swept.LoadOrStore(abs, true); done {
		return nil, nil
	}
	return Sweep(dir)
}
