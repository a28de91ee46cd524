package vec

// Portable Go kernels: the Generic level, and the tails/fallbacks of the
// assembly paths. Slices are already checked by the exported wrappers.

func axpyGo[T Float](a T, x, y []T) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += a * v
	}
}

func axpbGo[T Float](dst, x []T, a, b T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = a*v + b
	}
}

func scaleGo[T Float](dst, x []T, a T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = a * v
	}
}

func addGo[T Float](dst, x, y []T) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

func subGo[T Float](dst, x, y []T) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] - y[i]
	}
}

func mulGo[T Float](dst, x, y []T) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

func reluGo[T Float](dst, x []T) {
	x = x[:len(dst)]
	for i, v := range x {
		// 0 > v ? 0 : v, exactly the vector MAX(0, x): NaN and -0 pass through.
		if 0 > v {
			dst[i] = 0
		} else {
			dst[i] = v
		}
	}
}

func reluBackwardGo[T Float](dx, dy, x []T) {
	dy, x = dy[:len(dx)], x[:len(dx)]
	for i := range dx {
		if x[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// sumGo adds x with four interleaved accumulators (element i goes to
// accumulator i%4 for the first len(x)&^3 elements), combined as
// (s0+s1)+(s2+s3), then the tail in order.
func sumGo[T Float](x []T) T {
	var s0, s1, s2, s3 T
	n := len(x) &^ 3
	for i := 0; i < n; i += 4 {
		s0 += x[i]
		s1 += x[i+1]
		s2 += x[i+2]
		s3 += x[i+3]
	}
	s := (s0 + s1) + (s2 + s3)
	for _, v := range x[n:] {
		s += v
	}
	return s
}

// dotGo is sumGo's association order applied to x[i]*y[i].
func dotGo[T Float](x, y []T) T {
	y = y[:len(x)]
	var s0, s1, s2, s3 T
	n := len(x) &^ 3
	for i := 0; i < n; i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	s := (s0 + s1) + (s2 + s3)
	for i := n; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

// sumSqDevGo is sumGo's association order applied to (x[i]-m)^2.
func sumSqDevGo[T Float](x []T, m T) T {
	var s0, s1, s2, s3 T
	n := len(x) &^ 3
	for i := 0; i < n; i += 4 {
		d0, d1, d2, d3 := x[i]-m, x[i+1]-m, x[i+2]-m, x[i+3]-m
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	s := (s0 + s1) + (s2 + s3)
	for _, v := range x[n:] {
		d := v - m
		s += d * d
	}
	return s
}

func axpbycGo[T Float](dst, x, y []T, a, b, c T) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = a*x[i] + b*y[i] + c
	}
}

func leakyReluGo[T Float](dst, x []T, slope T) {
	x = x[:len(dst)]
	for i, v := range x {
		if v > 0 {
			dst[i] = v
		} else {
			dst[i] = slope * v
		}
	}
}

func leakyReluBackwardGo[T Float](dx, dy, x []T, slope T) {
	dy, x = dy[:len(dx)], x[:len(dx)]
	for i := range dx {
		if x[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = slope * dy[i]
		}
	}
}
