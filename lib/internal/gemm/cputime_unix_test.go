//go:build unix

package gemm

import (
	"syscall"
	"time"
)

// processCPU is the process's user+system CPU time (0 if unavailable).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
