package data

import (
	"fmt"
	"sort"

	"repdyn/lib/internal/safemath"
)

// Split names a part of a dataset.
type Split string

// The splits. Semeion has no official split: it has only All (use
// Dataset.Split to make one).
const (
	Train Split = "train"
	Test  Split = "test"
	All   Split = "all"
)

// Dataset is an in-memory image-classification dataset.
//
// Images holds N images of C×H×W float32 values in channel-major (NCHW)
// order: image i is Images[i*C*H*W : (i+1)*C*H*W], and within it channel c,
// row y, column x is at c*H*W + y*W + x. Values are in [0,1] for the loaded
// datasets (pixel/255). Labels[i] in [0, Classes) is the class of image i.
type Dataset struct {
	Name       string // e.g. "cifar10/train"
	Images     []float32
	Labels     []int32
	N          int // number of images
	C, H, W    int // channels, height, width
	Classes    int
	ClassNames []string // len Classes (may be nil for synthetic data)
}

// ImageSize is C*H*W, the number of float32 values per image.
func (d *Dataset) ImageSize() int { return d.C * d.H * d.W }

// Image returns image i (a slice of Images, not a copy).
func (d *Dataset) Image(i int) []float32 {
	n := d.ImageSize()
	return d.Images[i*n : (i+1)*n]
}

// Shape returns [N, C, H, W].
func (d *Dataset) Shape() []int { return []int{d.N, d.C, d.H, d.W} }

// String describes the dataset in one line.
func (d *Dataset) String() string {
	return fmt.Sprintf("%s: %d images %dx%dx%d, %d classes", d.Name, d.N, d.C, d.H, d.W, d.Classes)
}

// Validate checks that the fields agree with one another (N*C*H*W is
// formed with overflow checks: a shape whose product overflows is refused).
func (d *Dataset) Validate() error {
	if d.N < 0 || d.C <= 0 || d.H <= 0 || d.W <= 0 {
		return fmt.Errorf("data: %s: bad shape N=%d C=%d H=%d W=%d", d.Name, d.N, d.C, d.H, d.W)
	}
	want, ok := safemath.Product([]int{d.N, d.C, d.H, d.W}, -1)
	if !ok {
		return fmt.Errorf("data: %s: shape N=%d C=%d H=%d W=%d: N*C*H*W overflows", d.Name, d.N, d.C, d.H, d.W)
	}
	if len(d.Images) != want {
		return fmt.Errorf("data: %s: %d image values, want N*C*H*W = %d", d.Name, len(d.Images), want)
	}
	if len(d.Labels) != d.N {
		return fmt.Errorf("data: %s: %d labels for %d images", d.Name, len(d.Labels), d.N)
	}
	if d.ClassNames != nil && len(d.ClassNames) != d.Classes {
		return fmt.Errorf("data: %s: %d class names for %d classes", d.Name, len(d.ClassNames), d.Classes)
	}
	for i, l := range d.Labels {
		if l < 0 || int(l) >= d.Classes {
			return fmt.Errorf("data: %s: label %d of image %d is outside [0,%d)", d.Name, l, i, d.Classes)
		}
	}
	return nil
}

// IntLabels returns the labels as []int.
func (d *Dataset) IntLabels() []int {
	out := make([]int, len(d.Labels))
	for i, l := range d.Labels {
		out[i] = int(l)
	}
	return out
}

// OneHot returns the labels as N×Classes one-hot float32 rows, with on
// for the true class and off elsewhere (1 and 0 for plain one-hot; e.g.
// 1-1/K and -1/K for centred targets in kernel-regression demos).
func (d *Dataset) OneHot(on, off float32) []float32 {
	out := make([]float32, d.N*d.Classes)
	for i, l := range d.Labels {
		row := out[i*d.Classes : (i+1)*d.Classes]
		for k := range row {
			row[k] = off
		}
		row[l] = on
	}
	return out
}

// ClassCounts returns the number of images of each class.
func (d *Dataset) ClassCounts() []int {
	c := make([]int, d.Classes)
	for _, l := range d.Labels {
		c[l]++
	}
	return c
}

// Subset returns a new dataset holding copies of the images at indices, in
// that order (indices may repeat).
func (d *Dataset) Subset(indices []int) *Dataset {
	n := d.ImageSize()
	s := &Dataset{Name: d.Name, N: len(indices), C: d.C, H: d.H, W: d.W, Classes: d.Classes, ClassNames: d.ClassNames,
		Images: make([]float32, len(indices)*n), Labels: make([]int32, len(indices))}
	for j, i := range indices {
		copy(s.Images[j*n:(j+1)*n], d.Image(i))
		s.Labels[j] = d.Labels[i]
	}
	return s
}

// First returns the first n images (all of them if n >= N).
func (d *Dataset) First(n int) *Dataset {
	n = min(max(n, 0), d.N)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	s := d.Subset(idx)
	s.Name = fmt.Sprintf("%s[:%d]", d.Name, n)
	return s
}

// PerClass returns the first n images of each class (fewer for a class that
// has fewer), in their original order.
func (d *Dataset) PerClass(n int) *Dataset {
	taken := make([]int, d.Classes)
	var idx []int
	for i, l := range d.Labels {
		if taken[l] < n {
			taken[l]++
			idx = append(idx, i)
		}
	}
	s := d.Subset(idx)
	s.Name = fmt.Sprintf("%s[%d/class]", d.Name, n)
	return s
}

// Split divides the dataset at random (seeded) into a part with
// round(frac*N) images and the rest, each in original order.
func (d *Dataset) Split(frac float64, seed uint64) (a, b *Dataset) {
	k := int(frac*float64(d.N) + 0.5)
	k = min(max(k, 0), d.N)
	p := NewRNG(Mix(seed, streamSplit)).Perm(d.N)
	ia, ib := append([]int(nil), p[:k]...), append([]int(nil), p[k:]...)
	sort.Ints(ia)
	sort.Ints(ib)
	a, b = d.Subset(ia), d.Subset(ib)
	a.Name, b.Name = d.Name+"/a", d.Name+"/b"
	return a, b
}

// Concat joins datasets of equal image shape and class count.
func Concat(name string, parts ...*Dataset) (*Dataset, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("data: Concat: no datasets")
	}
	p0 := parts[0]
	out := &Dataset{Name: name, C: p0.C, H: p0.H, W: p0.W, Classes: p0.Classes, ClassNames: p0.ClassNames}
	for _, p := range parts {
		if p.C != p0.C || p.H != p0.H || p.W != p0.W || p.Classes != p0.Classes {
			return nil, fmt.Errorf("data: Concat: %s has shape %dx%dx%d/%d classes, %s has %dx%dx%d/%d",
				p.Name, p.C, p.H, p.W, p.Classes, p0.Name, p0.C, p0.H, p0.W, p0.Classes)
		}
		out.Images = append(out.Images, p.Images...)
		out.Labels = append(out.Labels, p.Labels...)
		out.N += p.N
	}
	return out, nil
}

// Stream identifiers mixed into seeds so that different uses of one seed
// give unrelated streams.
const (
	streamShuffle uint64 = iota + 1
	streamAugment
	streamCorrupt
	streamSplit
	streamSynth
)
