//go:build noasm || !amd64

package conv

import "unsafe"

func deint32(src, even, odd unsafe.Pointer, n int) bool { return false }

// kernelsFor returns the portable micro-kernels (this build has no assembly).
func kernelsFor(size uintptr) *kernels {
	if size == 4 {
		return k32Go
	}
	return k64Go
}
