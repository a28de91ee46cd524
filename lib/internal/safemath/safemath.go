// Package safemath has overflow-checked integer arithmetic for sizes read
// from files or configurations: products of dimensions are checked against
// a limit as they are formed, so a crafted header can never wrap around to
// a small (or zero) size.
package safemath

import "math"

// Mul returns a*b and true, or 0 and false if a or b is negative or the
// product exceeds math.MaxInt.
func Mul(a, b int) (int, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	if a == 0 || b == 0 {
		return 0, true
	}
	if a > math.MaxInt/b {
		return 0, false
	}
	return a * b, true
}

// Add returns a+b and true, or 0 and false if a or b is negative or the sum
// exceeds math.MaxInt.
func Add(a, b int) (int, bool) {
	if a < 0 || b < 0 || a > math.MaxInt-b {
		return 0, false
	}
	return a + b, true
}

// Product returns the product of dims and true, or 0 and false if a
// dimension is negative or the product of the non-zero dimensions exceeds
// limit (limit < 0 means math.MaxInt). The result is 0 when a dimension is
// 0, but the other dimensions are still bounded: [0, 2^62, 2^62] is refused
// like [2^62, 2^62], so a header declaring an absurd size fails whatever
// else it holds.
func Product(dims []int, limit int) (int, bool) {
	if limit < 0 {
		limit = math.MaxInt
	}
	n, zero := 1, false
	for _, d := range dims {
		if d == 0 {
			zero = true
			continue
		}
		p, ok := Mul(n, d)
		if !ok || p > limit {
			return 0, false
		}
		n = p
	}
	if zero {
		return 0, true
	}
	return n, true
}
