package data

import (
	"fmt"
	"math"
)

// Stats are per-channel means and standard deviations for normalisation.
type Stats struct {
	Mean, Std []float32
}

// Known training-set statistics of pixel/255 values (the constants commonly
// used; ComputeStats reproduces them from the data).
var knownStats = map[string]Stats{
	"mnist":         {Mean: []float32{0.1307}, Std: []float32{0.3081}},
	"fashion-mnist": {Mean: []float32{0.2860}, Std: []float32{0.3530}},
	"kmnist":        {Mean: []float32{0.1918}, Std: []float32{0.3483}},
	"cifar10":       {Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}},
	"cifar100":      {Mean: []float32{0.5071, 0.4865, 0.4409}, Std: []float32{0.2673, 0.2564, 0.2762}},
	"svhn":          {Mean: []float32{0.4377, 0.4438, 0.4728}, Std: []float32{0.1980, 0.2010, 0.1970}},
}

// KnownStats returns the per-channel training-set mean and standard
// deviation for a named dataset.
func KnownStats(name string) (Stats, error) {
	s, ok := knownStats[name]
	if !ok {
		return Stats{}, fmt.Errorf("data: no known statistics for %q; use ComputeStats", name)
	}
	return Stats{Mean: append([]float32(nil), s.Mean...), Std: append([]float32(nil), s.Std...)}, nil
}

// ComputeStats computes the per-channel mean and (population) standard
// deviation over all pixels of all images, in float64.
func ComputeStats(d *Dataset) Stats {
	hw := d.H * d.W
	sum := make([]float64, d.C)
	sq := make([]float64, d.C)
	for i := 0; i < d.N; i++ {
		img := d.Image(i)
		for c := 0; c < d.C; c++ {
			var s, q float64
			for _, v := range img[c*hw : (c+1)*hw] {
				s += float64(v)
				q += float64(v) * float64(v)
			}
			sum[c] += s
			sq[c] += q
		}
	}
	st := Stats{Mean: make([]float32, d.C), Std: make([]float32, d.C)}
	cnt := float64(d.N * hw)
	for c := range sum {
		m := sum[c] / cnt
		st.Mean[c] = float32(m)
		st.Std[c] = float32(math.Sqrt(max(sq[c]/cnt-m*m, 0)))
	}
	return st
}

// Normalize applies (x - mean[c]) / std[c] in place to n images of c×h×w
// values.
func Normalize(images []float32, c, h, w int, st Stats) {
	hw := h * w
	inv := make([]float32, c)
	for k := range inv {
		inv[k] = 1 / st.Std[k]
	}
	for off := 0; off+c*hw <= len(images); off += c * hw {
		for k := 0; k < c; k++ {
			m, s := st.Mean[k], inv[k]
			p := images[off+k*hw : off+(k+1)*hw]
			for i := range p {
				p[i] = (p[i] - m) * s
			}
		}
	}
}

// CropFlip writes into dst (c×h×w) the h×w window of src (c×h×w) padded by
// pad zeros on every side, whose top-left corner is at (dy, dx) in the padded
// image (0 <= dy, dx <= 2*pad), mirrored left-right if flip. dy = dx = pad
// and flip = false copies src unchanged.
func CropFlip(dst, src []float32, c, h, w, pad, dy, dx int, flip bool) {
	oy, ox := dy-pad, dx-pad // source offset of the window
	for k := 0; k < c; k++ {
		s := src[k*h*w : (k+1)*h*w]
		d := dst[k*h*w : (k+1)*h*w]
		for y := 0; y < h; y++ {
			row := d[y*w : (y+1)*w]
			sy := y + oy
			if sy < 0 || sy >= h {
				clear(row)
				continue
			}
			srow := s[sy*w : (sy+1)*w]
			for x := 0; x < w; x++ {
				xx := x
				if flip {
					xx = w - 1 - x
				}
				sx := xx + ox
				if sx < 0 || sx >= w {
					row[x] = 0
				} else {
					row[x] = srow[sx]
				}
			}
		}
	}
}

// Augment describes the per-image training transform applied by a Loader,
// in this order: random crop of the zero-padded image (Pad > 0), random
// horizontal flip (FlipH), then normalisation (Norm != nil). The standard
// CIFAR recipe is Augment{Pad: 4, FlipH: true, Norm: &stats}.
type Augment struct {
	Pad   int    // zero padding on each side before a random crop back to H×W
	FlipH bool   // mirror left-right with probability 1/2
	Norm  *Stats // per-channel normalisation; nil for none
}

// Apply transforms one image from src into dst (both c×h×w), drawing the
// crop offsets and the flip from rng.
func (a *Augment) Apply(dst, src []float32, c, h, w int, rng *RNG) {
	dy, dx := a.Pad, a.Pad
	if a.Pad > 0 {
		dy, dx = rng.Intn(2*a.Pad+1), rng.Intn(2*a.Pad+1)
	}
	flip := a.FlipH && rng.Bool()
	if dy == a.Pad && dx == a.Pad && !flip {
		copy(dst, src)
	} else {
		CropFlip(dst, src, c, h, w, a.Pad, dy, dx, flip)
	}
	if a.Norm != nil {
		Normalize(dst, c, h, w, *a.Norm)
	}
}
