// Package cpuinfo reports, for notebooks and tools, which compute kernels
// repdyn selected on this machine and why, with the CPU's features, model and
// an estimate of its floating-point peak.
package cpuinfo

import (
	"bufio"
	"os"
	"runtime"
	"strings"

	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/parallel"
)

// Report describes the machine and the kernel choice.
type Report struct {
	Model       string   // CPU model name from /proc/cpuinfo ("" if unknown)
	Arch        string   // runtime.GOARCH
	Features    []string // relevant instruction-set features present
	Best        string   // best kernel level this machine and build support
	Selected    string   // kernel level in use
	NoAsmReason string   // why the portable path is used, if it is
	Threads     int      // goroutines a kernel uses (parallel.Threads)
	GOMAXPROCS  int
}

// Get returns the report for this process.
func Get() Report {
	var feats []string
	h := cpu.Hardware
	for _, f := range []struct {
		name string
		ok   bool
	}{{"avx2", h.AVX2}, {"fma", h.FMA}, {"avx512f", h.AVX512F}, {"avx512dq", h.AVX512DQ}, {"avx512bw", h.AVX512BW}, {"avx512vl", h.AVX512VL}} {
		if f.ok {
			feats = append(feats, f.name)
		}
	}
	return Report{
		Model:       modelName(),
		Arch:        runtime.GOARCH,
		Features:    feats,
		Best:        cpu.Best.String(),
		Selected:    cpu.Selected.String(),
		NoAsmReason: cpu.NoAsmReason,
		Threads:     parallel.Threads(),
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
	}
}

// SetThreads sets how many goroutines the compute kernels use (n <= 0: GOMAXPROCS)
// and returns the previous value.
func SetThreads(n int) int { return parallel.SetThreads(n) }

// FlopsPerCycle is the single-precision FMA throughput per core and cycle
// (2 flops per FMA lane) of the selected level, assuming two FMA pipes of
// 256 bits (AVX2) or their 512-bit equivalent: a rough guide for charts.
func FlopsPerCycle(f32 bool) int {
	lanes := 1
	switch cpu.Selected {
	case cpu.AVX2, cpu.AVX512:
		lanes = 16 // two 256-bit FMA pipes = 16 float32 lanes per cycle
	}
	if !f32 {
		lanes /= 2
	}
	return 2 * lanes
}

func modelName() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
