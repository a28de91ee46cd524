package data

import "fmt"

// Corruption records which labels CorruptLabels changed.
type Corruption struct {
	Indices  []int   // corrupted images, ascending
	Original []int32 // their true labels, parallel to Indices
	Mask     []bool  // Mask[i] reports whether image i was corrupted (len N)
}

// CorruptLabels returns a copy of d (sharing the image memory) in which
// exactly round(frac*N) labels, at positions chosen uniformly at random
// from seed, are replaced by a label drawn uniformly from the other
// Classes-1 classes — so every corrupted label is wrong. It also returns
// which labels were changed and what they were. This is the set-up of
// memorisation experiments (Zhang et al., "Understanding deep learning
// requires rethinking generalization"), with the difference that a
// "corrupted" label never equals the true one by chance.
func CorruptLabels(d *Dataset, frac float64, seed uint64) (*Dataset, *Corruption, error) {
	if frac < 0 || frac > 1 {
		return nil, nil, fmt.Errorf("data: CorruptLabels: fraction %v outside [0,1]", frac)
	}
	if d.Classes < 2 {
		return nil, nil, fmt.Errorf("data: CorruptLabels: %s has %d classes", d.Name, d.Classes)
	}
	k := min(int(frac*float64(d.N)+0.5), d.N)
	rng := NewRNG(Mix(seed, streamCorrupt))
	perm := rng.Perm(d.N)
	out := *d
	out.Name = fmt.Sprintf("%s(corrupt %.3g)", d.Name, frac)
	out.Labels = append([]int32(nil), d.Labels...)
	c := &Corruption{Mask: make([]bool, d.N)}
	for _, i := range perm[:k] {
		c.Mask[i] = true
	}
	// Draw new labels in index order so the result is easy to reproduce.
	for i, m := range c.Mask {
		if !m {
			continue
		}
		orig := d.Labels[i]
		nl := int32(rng.Intn(d.Classes - 1))
		if nl >= orig {
			nl++
		}
		out.Labels[i] = nl
		c.Indices = append(c.Indices, i)
		c.Original = append(c.Original, orig)
	}
	return &out, c, nil
}

// RandomLabels returns a copy of d (sharing the image memory) whose labels
// are all drawn uniformly at random (may equal the true ones), seeded.
func RandomLabels(d *Dataset, seed uint64) *Dataset {
	rng := NewRNG(Mix(seed, streamCorrupt, 1))
	out := *d
	out.Name = d.Name + "(random labels)"
	out.Labels = make([]int32, d.N)
	for i := range out.Labels {
		out.Labels[i] = int32(rng.Intn(d.Classes))
	}
	return &out
}
