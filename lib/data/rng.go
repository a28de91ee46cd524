package data

import "math"

// RNG is a small, self-contained pseudo-random generator (SplitMix64).
//
// It is defined here, not taken from math/rand, so that every stream it
// produces — shuffles, crops, flips, label corruption, synthetic data — is
// fixed by this file alone and never changes with the Go version. It is not
// safe for concurrent use; derive one RNG per goroutine with NewRNG and Mix.
type RNG struct{ state uint64 }

// NewRNG returns a generator seeded with seed. Equal seeds give equal streams.
func NewRNG(seed uint64) *RNG { return &RNG{state: seed} }

const golden = 0x9e3779b97f4a7c15

// Uint64 returns the next 64 random bits.
func (r *RNG) Uint64() uint64 {
	r.state += golden
	return mix64(r.state)
}

// mix64 is the SplitMix64 finaliser: a bijective avalanche of x.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Mix derives a seed from a base seed and any number of stream identifiers
// (epoch, batch index, purpose). Distinct inputs give unrelated seeds, so
// NewRNG(Mix(seed, epoch, batch)) is an independent stream per batch.
func Mix(seed uint64, ids ...uint64) uint64 {
	h := mix64(seed + golden)
	for _, id := range ids {
		h = mix64(h ^ mix64(id+0x3c6ef372fe94f82a))
	}
	return h
}

// Intn returns a uniform integer in [0, n). It panics if n <= 0.
// It uses Lemire's multiply-and-reject method, so it is exactly uniform.
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic("data: RNG.Intn: n <= 0")
	}
	bound := uint64(n)
	for {
		x := r.Uint64()
		hi, lo := mul64(x, bound)
		if lo < bound {
			thresh := -bound % bound
			if lo < thresh {
				continue
			}
		}
		return int(hi)
	}
}

// mul64 returns the 128-bit product of a and b as (hi, lo).
func mul64(a, b uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t&mask32 + a0*b1
	hi = a1*b1 + t>>32 + w1>>32
	lo = a * b
	return
}

// Float64 returns a uniform float64 in [0, 1) with 53 random bits.
func (r *RNG) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Bool returns true with probability 1/2.
func (r *RNG) Bool() bool { return r.Uint64()>>63 == 1 }

// NormFloat64 returns a standard normal variate (Box–Muller; one value per
// call, two uniforms consumed, so the stream position is easy to reason about).
func (r *RNG) NormFloat64() float64 {
	u1 := 1 - r.Float64() // (0, 1]
	u2 := r.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// Perm returns a uniform random permutation of 0..n-1 (Fisher–Yates).
func (r *RNG) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// Shuffle permutes n elements uniformly using swap (Fisher–Yates, from the end).
func (r *RNG) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		swap(i, j)
	}
}
