// Package cpu decides, once per process, which compute kernels repdyn uses.
//
// It reads the CPU's features (golang.org/x/sys/cpu) and the REPDYN_NOASM
// environment variable, and exposes the choice as plain booleans that the
// kernel packages (blas, conv, tensor kernels) branch on. Building with the
// tag `noasm`, or running on an architecture without assembly kernels,
// forces the portable Go path.
package cpu

import (
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/cpu"
)

// Level names an instruction-set level that repdyn has kernels for.
type Level int

const (
	// Generic is the portable Go path.
	Generic Level = iota
	// AVX2 means AVX2 with FMA3 (256-bit registers, 16 of them).
	AVX2
	// AVX512 means AVX-512 F, DQ, BW and VL (512-bit registers, 32 of them).
	AVX512
	// NEON means arm64 Advanced SIMD (128-bit registers, 32 of them).
	NEON
)

// NumLevels bounds the Level values (for tables indexed by level).
const NumLevels = int(NEON) + 1

func (l Level) String() string {
	switch l {
	case AVX2:
		return "avx2+fma"
	case AVX512:
		return "avx512"
	case NEON:
		return "neon"
	}
	return "generic"
}

// Features reports what the hardware offers, whatever the switch says.
type Features struct {
	AVX2, FMA, AVX512F, AVX512DQ, AVX512BW, AVX512VL bool
	ASIMD                                            bool // arm64 Advanced SIMD
}

var (
	// Hardware is what the CPU reports.
	Hardware Features
	// Best is the highest level the hardware (and this build) supports.
	Best Level
	// Selected is the level the kernels use: Best, unless REPDYN_NOASM=1 or
	// the build forces the portable path.
	Selected Level
	// NoAsmReason says why Selected is Generic when the hardware could do
	// better ("" otherwise).
	NoAsmReason string
)

func init() {
	Hardware = Features{
		AVX2: cpu.X86.HasAVX2, FMA: cpu.X86.HasFMA,
		AVX512F: cpu.X86.HasAVX512F, AVX512DQ: cpu.X86.HasAVX512DQ,
		AVX512BW: cpu.X86.HasAVX512BW, AVX512VL: cpu.X86.HasAVX512VL,
		ASIMD: cpu.ARM64.HasASIMD,
	}
	Best = Generic
	if asmBuilt {
		if Hardware.AVX2 && Hardware.FMA {
			Best = AVX2
		}
		if Best == AVX2 && Hardware.AVX512F && Hardware.AVX512DQ && Hardware.AVX512BW && Hardware.AVX512VL {
			Best = AVX512
		}
		if runtime.GOARCH == "arm64" && Hardware.ASIMD {
			Best = NEON
		}
	}
	Selected = Best
	switch {
	case !asmBuilt:
		NoAsmReason = "built without assembly (noasm tag, or neither amd64 nor arm64)"
	case envNoAsm(os.Getenv("REPDYN_NOASM")):
		Selected = Generic
		NoAsmReason = "REPDYN_NOASM is set"
	default:
		if v := strings.ToLower(os.Getenv("REPDYN_CPU")); v == "avx2" && (Best == AVX2 || Best == AVX512) {
			Selected = AVX2
		}
	}
}

func envNoAsm(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// HasAVX512 reports whether the AVX-512 kernels are selected.
func HasAVX512() bool { return Selected == AVX512 }

// HasAVX2 reports whether at least the AVX2+FMA kernels are selected.
func HasAVX2() bool { return Selected == AVX2 || Selected == AVX512 }

// Set overrides the selected level (tests use it to run every path in one
// process). It panics if the hardware or the build cannot run l.
// It is not safe to call while kernels run on other goroutines.
func Set(l Level) {
	if !slices.Contains(Levels(), l) {
		panic("cpu: level " + l.String() + " is not available on this machine/build (best: " + Best.String() + ")")
	}
	Selected = l
}

// Levels lists every level this machine and build can run, lowest first.
func Levels() []Level {
	if Best == NEON {
		return []Level{Generic, NEON}
	}
	var ls []Level
	for l := Generic; l <= Best; l++ {
		ls = append(ls, l)
	}
	return ls
}
