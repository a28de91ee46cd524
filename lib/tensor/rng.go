package tensor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// RNG is a seeded deterministic pseudo-random generator (xoshiro256**,
// seeded through SplitMix64), implemented here so that its streams are fixed
// by this file alone and never change with the Go version.
//
// Besides the running state, an RNG carries a key (its seed, or the key it
// was split with) from which Split derives child streams: a child depends
// only on the parent's key and the child's name, not on how many numbers the
// parent has drawn, so adding a layer does not change the initialization of
// the others. An RNG is not safe for concurrent use; Split one per goroutine.
type RNG struct {
	key uint64
	s   [4]uint64
}

const golden = 0x9e3779b97f4a7c15

func splitmix(x *uint64) uint64 {
	*x += golden
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// NewRNG returns a generator seeded with seed; equal seeds give equal
// streams.
func NewRNG(seed uint64) *RNG {
	r := &RNG{}
	r.reseed(seed)
	return r
}

func (r *RNG) reseed(key uint64) {
	r.key = key
	x := key
	for i := range r.s {
		r.s[i] = splitmix(&x)
	}
	if r.s == [4]uint64{} { // unreachable for SplitMix64 output, kept as a guard
		r.s[0] = golden
	}
}

// Key returns the key the stream was created from (the seed for NewRNG).
func (r *RNG) Key() uint64 { return r.key }

// Uint64 returns 64 uniformly distributed random bits.
func (r *RNG) Uint64() uint64 {
	s := &r.s
	result := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return result
}

// Float64 returns a uniform number in [0, 1) with 53 random bits.
func (r *RNG) Float64() float64 { return float64(r.Uint64()>>11) * 0x1p-53 }

// Float32 returns a uniform number in [0, 1) with 24 random bits.
func (r *RNG) Float32() float32 { return float32(r.Uint64()>>40) * 0x1p-24 }

// Intn returns a uniform integer in [0, n) without modulo bias (Lemire's
// method). It panics if n <= 0.
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic(fmt.Sprintf("tensor.RNG.Intn: n = %d must be positive", n))
	}
	return int(r.uint64n(uint64(n)))
}

func (r *RNG) uint64n(n uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

// Normal returns a standard normal number (Box-Muller: two uniforms per
// call, the sine branch is discarded so that each call uses a fixed amount
// of the stream).
func (r *RNG) Normal() float64 {
	z, _ := r.normalPair()
	return z
}

// normalPair returns two independent standard normals from two uniforms.
func (r *RNG) normalPair() (float64, float64) {
	u1 := 1 - r.Float64() // (0, 1]: log is finite
	u2 := r.Float64()
	rad := math.Sqrt(-2 * math.Log(u1))
	s, c := math.Sincos(2 * math.Pi * u2)
	return rad * c, rad * s
}

// Perm returns a uniformly random permutation of 0..n-1.
func (r *RNG) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// Shuffle permutes n elements uniformly at random (Fisher-Yates from the
// end), calling swap(i, j) to exchange elements.
func (r *RNG) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		j := int(r.uint64n(uint64(i + 1)))
		swap(i, j)
	}
}

// hashString is 64-bit FNV-1a.
func hashString(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}

func mixKeys(a, b uint64) uint64 {
	x := a ^ bits.RotateLeft64(b, 29)
	z := splitmix(&x)
	x = z ^ b
	return splitmix(&x)
}

// Split returns an independent child stream named name (e.g. a parameter's
// name "layer1.0.conv1.weight"). It depends only on r's key and name: it
// neither uses nor advances r's state.
func (r *RNG) Split(name string) *RNG { return NewRNG(mixKeys(r.key, hashString(name))) }

// SplitN is Split with a numeric name (an epoch, a worker index).
func (r *RNG) SplitN(i uint64) *RNG { return NewRNG(mixKeys(r.key, mixKeys(i, 0x5851f42d4c957f2d))) }

const rngMagic = "rdRNG1\x00\x00"

// MarshalBinary encodes the generator's key and state (48 bytes), so that a
// checkpoint can resume the exact stream.
func (r *RNG) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 48)
	b = append(b, rngMagic...)
	b = binary.LittleEndian.AppendUint64(b, r.key)
	for _, s := range r.s {
		b = binary.LittleEndian.AppendUint64(b, s)
	}
	return b, nil
}

// UnmarshalBinary restores a state written by MarshalBinary.
func (r *RNG) UnmarshalBinary(b []byte) error {
	if len(b) != 48 || string(b[:8]) != rngMagic {
		return errors.New("tensor.RNG.UnmarshalBinary: not a 48-byte repdyn RNG state")
	}
	var s [4]uint64
	for i := range s {
		s[i] = binary.LittleEndian.Uint64(b[16+8*i:])
	}
	if s == [4]uint64{} {
		return errors.New("tensor.RNG.UnmarshalBinary: all-zero state")
	}
	r.key = binary.LittleEndian.Uint64(b[8:])
	r.s = s
	return nil
}
