package tensor

import "unsafe"

// sameType reports whether T and U have the same representation (both
// float32-based or both float64-based), so that slices may be reinterpreted.
func sameType[T, U Float]() bool {
	var t T
	var u U
	return unsafe.Sizeof(t) == unsafe.Sizeof(u)
}

// asType reinterprets s as []T; only valid when sameType[T, U]().
func asType[T, U Float](s []U) []T {
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
