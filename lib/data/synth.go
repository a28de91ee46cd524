package data

import (
	"fmt"
	"math"
)

// SynthConfig describes a synthetic dataset: Classes Gaussian blobs in
// C×H×W image space. Each class has a random prototype image (uniform in
// [0,1] per pixel, smoothed to give spatial structure); images are the
// prototype plus Gaussian noise of standard deviation Noise, clamped to
// [0,1]. Labels cycle 0, 1, ..., Classes-1 so classes are balanced.
type SynthConfig struct {
	N, C, H, W int
	Classes    int
	Noise      float64 // per-pixel noise std; 0.1 gives an easy problem, 0.5 a hard one
	Seed       uint64
}

// Synthetic generates a dataset from cfg; the same cfg always gives the same
// data.
func Synthetic(cfg SynthConfig) (*Dataset, error) {
	if cfg.N < 0 || cfg.C <= 0 || cfg.H <= 0 || cfg.W <= 0 || cfg.Classes <= 0 {
		return nil, fmt.Errorf("data: Synthetic: bad config %+v", cfg)
	}
	rng := NewRNG(Mix(cfg.Seed, streamSynth))
	sz := cfg.C * cfg.H * cfg.W
	protos := make([][]float32, cfg.Classes)
	for k := range protos {
		raw := make([]float64, sz)
		for i := range raw {
			raw[i] = rng.Float64()
		}
		// 3×3 box blur per channel for some spatial correlation.
		p := make([]float32, sz)
		for c := 0; c < cfg.C; c++ {
			for y := 0; y < cfg.H; y++ {
				for x := 0; x < cfg.W; x++ {
					var s float64
					var n int
					for dy := -1; dy <= 1; dy++ {
						for dx := -1; dx <= 1; dx++ {
							yy, xx := y+dy, x+dx
							if yy >= 0 && yy < cfg.H && xx >= 0 && xx < cfg.W {
								s += raw[c*cfg.H*cfg.W+yy*cfg.W+xx]
								n++
							}
						}
					}
					p[c*cfg.H*cfg.W+y*cfg.W+x] = float32(s / float64(n))
				}
			}
		}
		protos[k] = p
	}
	d := &Dataset{Name: fmt.Sprintf("synthetic(seed=%d)", cfg.Seed), N: cfg.N, C: cfg.C, H: cfg.H, W: cfg.W,
		Classes: cfg.Classes, Images: make([]float32, cfg.N*sz), Labels: make([]int32, cfg.N)}
	for i := 0; i < cfg.N; i++ {
		k := i % cfg.Classes
		d.Labels[i] = int32(k)
		img := d.Images[i*sz : (i+1)*sz]
		for j, v := range protos[k] {
			x := float64(v) + cfg.Noise*rng.NormFloat64()
			img[j] = float32(math.Min(1, math.Max(0, x)))
		}
	}
	return d, nil
}

// Blobs generates a low-dimensional classification problem: n points in
// dim dimensions (stored as C=1, H=1, W=dim images), classes Gaussian blobs
// with unit-variance noise around centres drawn from N(0, spread²). Values
// are not clamped to [0,1].
func Blobs(n, dim, classes int, spread float64, seed uint64) *Dataset {
	rng := NewRNG(Mix(seed, streamSynth, 1))
	centres := make([]float64, classes*dim)
	for i := range centres {
		centres[i] = spread * rng.NormFloat64()
	}
	d := &Dataset{Name: fmt.Sprintf("blobs(seed=%d)", seed), N: n, C: 1, H: 1, W: dim, Classes: classes,
		Images: make([]float32, n*dim), Labels: make([]int32, n)}
	for i := 0; i < n; i++ {
		k := i % classes
		d.Labels[i] = int32(k)
		for j := 0; j < dim; j++ {
			d.Images[i*dim+j] = float32(centres[k*dim+j] + rng.NormFloat64())
		}
	}
	return d
}
