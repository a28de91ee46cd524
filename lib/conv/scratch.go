package conv

import (
	"sync"
	"unsafe"
)

// buf is pooled scratch memory; kernels carve 64-byte-aligned arrays out of
// it so that steady-state calls do not allocate.
type buf struct {
	mem  []byte
	used int
}

// freeList keeps released objects for reuse. Unlike a sync.Pool it is not
// emptied by the garbage collector, so steady-state calls never allocate
// (scratch buffers are large: reallocating them after each GC would cost
// more than it saves). It keeps at most maxFree objects.
type freeList[T any] struct {
	mu    sync.Mutex
	items []*T
}

const maxFree = 64

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	if n := len(f.items); n > 0 {
		x := f.items[n-1]
		f.items[n-1] = nil
		f.items = f.items[:n-1]
		f.mu.Unlock()
		return x
	}
	f.mu.Unlock()
	return new(T)
}

func (f *freeList[T]) put(x *T) {
	f.mu.Lock()
	if len(f.items) < maxFree {
		f.items = append(f.items, x)
	}
	f.mu.Unlock()
}

var bufs freeList[buf]

// getBuf returns a buffer with room for arrays totalling n bytes (each array
// rounded up to 64 bytes; callers pass the sum of alignedBytes).
func getBuf(n int) *buf {
	b := bufs.get()
	if cap(b.mem) < n+64 {
		b.mem = make([]byte, n+64)
	}
	b.mem = b.mem[:cap(b.mem)]
	b.used = 0
	return b
}

func putBuf(b *buf) { bufs.put(b) }

// alignedBytes is the room that take needs for n elements of size bytes.
func alignedBytes(n int, size uintptr) int { return (n*int(size) + 63) &^ 63 }

// take carves n elements of type E out of b.
func take[E any](b *buf, n int) []E {
	var z E
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b.mem)))
	start := b.used
	if a := (base + uintptr(start)) & 63; a != 0 {
		start += int(64 - a)
	}
	nb := alignedBytes(n, unsafe.Sizeof(z))
	if start+nb > len(b.mem) {
		panic("conv: internal error: scratch buffer too small")
	}
	b.used = start + nb
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*E)(unsafe.Pointer(&b.mem[start])), n)
}
