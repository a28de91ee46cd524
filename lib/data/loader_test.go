package data

import (
	"reflect"
	"runtime"
	"testing"
	"time"
)

func TestRNGStream(t *testing.T) {
	// SplitMix64 reference outputs for seed 0 and 1234567 (Vigna's splitmix64.c).
	r := NewRNG(0)
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := r.Uint64(); got != want {
			t.Fatalf("seed 0 output %d: %#x want %#x", i, got, want)
		}
	}
	r = NewRNG(1234567)
	for i, want := range []uint64{6457827717110365317, 3203168211198807973, 9817491932198370423} {
		if got := r.Uint64(); got != want {
			t.Fatalf("seed 1234567 output %d: %d want %d", i, got, want)
		}
	}
	// Pinned derived streams: these must never change (reproducibility of
	// experiments across versions of this package).
	if got := NewRNG(Mix(42, 1, 2)).Perm(8); !reflect.DeepEqual(got, pinnedPerm) {
		t.Fatalf("Perm stream changed: %v", got)
	}
	counts := make([]int, 7)
	r = NewRNG(9)
	for i := 0; i < 70000; i++ {
		counts[r.Intn(7)]++
	}
	for k, c := range counts {
		if c < 9500 || c > 10500 {
			t.Fatalf("Intn(7) bucket %d has %d of 70000", k, c)
		}
	}
	var s, q float64
	for i := 0; i < 100000; i++ {
		x := r.NormFloat64()
		s += x
		q += x * x
	}
	if m, v := s/1e5, q/1e5; m < -0.02 || m > 0.02 || v < 0.97 || v > 1.03 {
		t.Fatalf("normal mean %v var %v", m, v)
	}
	if Mix(1, 2) == Mix(1, 3) || Mix(1, 2) == Mix(2, 2) || Mix(1, 2, 3) == Mix(1, 3, 2) {
		t.Fatal("Mix collisions")
	}
}

var pinnedPerm = []int{5, 3, 2, 7, 0, 1, 4, 6}

func TestMul64(t *testing.T) {
	hi, lo := mul64(0xffffffffffffffff, 0xffffffffffffffff)
	if hi != 0xfffffffffffffffe || lo != 1 {
		t.Fatalf("%x %x", hi, lo)
	}
}

func TestCropFlip(t *testing.T) {
	// 1 channel 2x3: [1 2 3; 4 5 6]
	src := []float32{1, 2, 3, 4, 5, 6}
	dst := make([]float32, 6)
	CropFlip(dst, src, 1, 2, 3, 1, 1, 1, false)
	if !reflect.DeepEqual(dst, src) {
		t.Fatalf("identity crop: %v", dst)
	}
	CropFlip(dst, src, 1, 2, 3, 1, 1, 1, true)
	if !reflect.DeepEqual(dst, []float32{3, 2, 1, 6, 5, 4}) {
		t.Fatalf("flip: %v", dst)
	}
	CropFlip(dst, src, 1, 2, 3, 1, 0, 0, false) // shift down-right by one, zero fill
	if !reflect.DeepEqual(dst, []float32{0, 0, 0, 0, 1, 2}) {
		t.Fatalf("crop (0,0): %v", dst)
	}
	CropFlip(dst, src, 1, 2, 3, 1, 2, 2, true)
	// window rows 1..2 (row 2 is padding), cols 1..3 (col 3 padding): [5 6 0; 0 0 0], flipped: [0 6 5; 0 0 0]
	if !reflect.DeepEqual(dst, []float32{0, 6, 5, 0, 0, 0}) {
		t.Fatalf("crop (2,2) flipped: %v", dst)
	}
	img := []float32{0.5, 1, 0, 0.2}
	Normalize(img, 2, 1, 2, Stats{Mean: []float32{0.5, 0.1}, Std: []float32{0.5, 0.1}})
	want := []float32{0, 1, -1, 1}
	for i := range img {
		if d := img[i] - want[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("normalize: %v", img)
		}
	}
}

func synth(t *testing.T, n int) *Dataset {
	d, err := Synthetic(SynthConfig{N: n, C: 3, H: 8, W: 8, Classes: 5, Noise: 0.2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func collect(t *testing.T, l *Loader) [][]*Batch {
	var epochs [][]*Batch
	for e := 0; e < 3; e++ {
		var bs []*Batch
		for b, ok := l.Next(); ok; b, ok = l.Next() {
			bs = append(bs, b)
		}
		epochs = append(epochs, bs)
	}
	return epochs
}

func TestLoaderDeterminism(t *testing.T) {
	d := synth(t, 103)
	st := ComputeStats(d)
	cfg := LoaderConfig{BatchSize: 16, Shuffle: true, Seed: 11, Augment: &Augment{Pad: 2, FlipH: true, Norm: &st}}
	l1, err := NewLoader(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ref := collect(t, l1)
	if len(ref[0]) != 7 || ref[0][6].B != 7 || l1.BatchesPerEpoch() != 7 {
		t.Fatalf("batches: %d, last %d", len(ref[0]), ref[0][6].B)
	}
	if reflect.DeepEqual(ref[0][0].Indices, ref[1][0].Indices) {
		t.Fatal("epochs 0 and 1 have the same order")
	}
	// Augmentation really changes images (some crops/flips are not the
	// identity), and normalisation is applied.
	plain := make([]float32, d.ImageSize())
	changed := 0
	for j, idx := range ref[0][0].Indices {
		copy(plain, d.Image(idx))
		Normalize(plain, d.C, d.H, d.W, st)
		if !reflect.DeepEqual(plain, ref[0][0].Images[j*d.ImageSize():(j+1)*d.ImageSize()]) {
			changed++
		}
	}
	if changed < 8 {
		t.Fatalf("only %d of 16 images augmented", changed)
	}
	seen := map[int]bool{}
	for _, b := range ref[0] {
		for _, i := range b.Indices {
			seen[i] = true
		}
	}
	if len(seen) != 103 {
		t.Fatalf("epoch covers %d images", len(seen))
	}
	for _, pf := range []int{1, 3, 50} {
		cfg.Prefetch = pf
		l2, _ := NewLoader(d, cfg)
		got := collect(t, l2)
		l2.Close()
		if !reflect.DeepEqual(got, ref) {
			t.Fatalf("prefetch %d gives different batches", pf)
		}
	}
	// Recycling buffers does not change content either.
	cfg.Prefetch = 2
	l3, _ := NewLoader(d, cfg)
	for e := 0; e < 3; e++ {
		i := 0
		for b, ok := l3.Next(); ok; b, ok = l3.Next() {
			if !reflect.DeepEqual(b, ref[e][i]) {
				t.Fatalf("recycled batch %d/%d differs", e, i)
			}
			i++
			l3.Recycle(b)
		}
	}
	l3.Close()
	// Resuming at epoch 2 gives epoch 2's batches.
	cfg.StartEpoch, cfg.Prefetch = 2, 0
	l4, _ := NewLoader(d, cfg)
	var e2 []*Batch
	for b, ok := l4.Next(); ok; b, ok = l4.Next() {
		e2 = append(e2, b)
	}
	if !reflect.DeepEqual(e2, ref[2]) {
		t.Fatal("StartEpoch 2 differs from epoch 2")
	}
	// Resuming in the middle of epoch 1 gives the rest of epoch 1, then epoch 2.
	for _, pf := range []int{0, 2} {
		cfg.StartEpoch, cfg.StartBatch, cfg.Prefetch = 1, 5, pf
		l7, err := NewLoader(d, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got []*Batch
		for e := 0; e < 2; e++ {
			for b, ok := l7.Next(); ok; b, ok = l7.Next() {
				got = append(got, b)
			}
		}
		l7.Close()
		if want := append(append([]*Batch{}, ref[1][5:]...), ref[2]...); !reflect.DeepEqual(got, want) {
			t.Fatalf("prefetch %d: resume at epoch 1 batch 5 differs", pf)
		}
	}
	cfg.StartBatch = 0
	if _, err := NewLoader(d, LoaderConfig{BatchSize: 16, StartBatch: 8}); err == nil {
		t.Fatal("start batch past the end accepted")
	}
	// EndEpoch skips to the next epoch, with or without prefetching.
	for _, pf := range []int{0, 2} {
		cfg.StartEpoch, cfg.Prefetch = 0, pf
		l6, _ := NewLoader(d, cfg)
		l6.EndEpoch() // before any Next: no effect
		l6.Next()
		l6.Next()
		l6.EndEpoch()
		b, ok := l6.Next()
		if !ok || !reflect.DeepEqual(b, ref[1][0]) || l6.Epoch() != 1 {
			t.Fatalf("prefetch %d: after EndEpoch got epoch %d batch %d", pf, b.Epoch, b.Index)
		}
		l6.Close()
	}
	// A different seed gives a different order.
	cfg.StartEpoch, cfg.Seed = 0, 12
	l5, _ := NewLoader(d, cfg)
	b, _ := l5.Next()
	if reflect.DeepEqual(b.Indices, ref[0][0].Indices) {
		t.Fatal("seed ignored")
	}
}

func TestLoaderPlain(t *testing.T) {
	d := synth(t, 10)
	l, _ := NewLoader(d, LoaderConfig{BatchSize: 4, DropLast: true})
	var n int
	for b, ok := l.Next(); ok; b, ok = l.Next() {
		if b.B != 4 || b.Indices[0] != 4*n || !reflect.DeepEqual(b.Images, d.Images[4*n*d.ImageSize():4*(n+1)*d.ImageSize()]) {
			t.Fatalf("batch %d wrong", n)
		}
		if !reflect.DeepEqual(b.Shape(), []int{4, 3, 8, 8}) {
			t.Fatalf("shape %v", b.Shape())
		}
		n++
	}
	if n != 2 || l.Epoch() != 1 {
		t.Fatalf("%d batches, epoch %d", n, l.Epoch())
	}
	bs, err := Batches(d, 3, nil)
	if err != nil || len(bs) != 4 || bs[3].B != 1 {
		t.Fatalf("Batches: %d %v", len(bs), err)
	}
	if _, err := NewLoader(d, LoaderConfig{}); err == nil {
		t.Fatal("batch size 0 accepted")
	}
	if _, err := NewLoader(d, LoaderConfig{BatchSize: 2, Augment: &Augment{Norm: &Stats{Mean: []float32{0}, Std: []float32{1}}}}); err == nil {
		t.Fatal("1-channel stats accepted for 3 channels")
	}
}

func TestLoaderClose(t *testing.T) {
	before := runtime.NumGoroutine()
	d := synth(t, 200)
	for i := 0; i < 20; i++ {
		l, _ := NewLoader(d, LoaderConfig{BatchSize: 2, Shuffle: true, Prefetch: 2})
		l.Next()
		l.Close()
		if _, ok := l.Next(); ok {
			t.Fatal("Next after Close")
		}
		l.Close()
	}
	// Close at an epoch boundary (no producer running) must not block.
	l, _ := NewLoader(d, LoaderConfig{BatchSize: 100, Prefetch: 1})
	for _, ok := l.Next(); ok; _, ok = l.Next() {
	}
	l.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Fatalf("%d goroutines left running (was %d)", g, before)
	}
}

func TestSubsets(t *testing.T) {
	d := synth(t, 23)
	if f := d.First(4); f.N != 4 || !reflect.DeepEqual(f.Labels, d.Labels[:4]) || f.Validate() != nil {
		t.Fatalf("First: %v", f)
	}
	pc := d.PerClass(2)
	if pc.N != 10 || !reflect.DeepEqual(pc.ClassCounts(), []int{2, 2, 2, 2, 2}) {
		t.Fatalf("PerClass: %v %v", pc, pc.ClassCounts())
	}
	a, b := d.Split(0.3, 5)
	if a.N != 7 || b.N != 16 {
		t.Fatalf("Split: %d %d", a.N, b.N)
	}
	a2, _ := d.Split(0.3, 5)
	if !reflect.DeepEqual(a.Images, a2.Images) {
		t.Fatal("Split not deterministic")
	}
	oh := d.First(2).OneHot(1, 0)
	if len(oh) != 10 || oh[d.Labels[0]] != 1 || oh[5+int(d.Labels[1])] != 1 || oh[0]+oh[1]+oh[2]+oh[3]+oh[4] != 1 {
		t.Fatalf("OneHot: %v", oh)
	}
	if il := d.IntLabels(); len(il) != d.N || il[7] != int(d.Labels[7]) {
		t.Fatal("IntLabels")
	}
	c, err := Concat("c", a, b)
	if err != nil || c.N != 23 || c.Validate() != nil {
		t.Fatalf("Concat: %v %v", c, err)
	}
}

func TestCorruptLabels(t *testing.T) {
	d := synth(t, 1000)
	c1, info, err := CorruptLabels(d, 0.25, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Indices) != 250 {
		t.Fatalf("%d corrupted", len(info.Indices))
	}
	changed := 0
	for i := range d.Labels {
		if c1.Labels[i] != d.Labels[i] {
			changed++
			if !info.Mask[i] {
				t.Fatalf("label %d changed but not recorded", i)
			}
		}
	}
	if changed != 250 {
		t.Fatalf("%d labels differ, want 250 (corrupted labels must be wrong)", changed)
	}
	for j, i := range info.Indices {
		if info.Original[j] != d.Labels[i] {
			t.Fatal("Original wrong")
		}
	}
	c2, _, _ := CorruptLabels(d, 0.25, 3)
	if !reflect.DeepEqual(c1.Labels, c2.Labels) {
		t.Fatal("not deterministic")
	}
	c3, _, _ := CorruptLabels(d, 0.25, 4)
	if reflect.DeepEqual(c1.Labels, c3.Labels) {
		t.Fatal("seed ignored")
	}
	if _, _, err := CorruptLabels(d, 1.5, 0); err == nil {
		t.Fatal("fraction 1.5 accepted")
	}
	r := RandomLabels(d, 1)
	if r.Validate() != nil || reflect.DeepEqual(r.Labels, d.Labels) {
		t.Fatal("RandomLabels")
	}
}

func TestSynthetic(t *testing.T) {
	a, b := synth(t, 50), synth(t, 50)
	if !reflect.DeepEqual(a, b) || a.Validate() != nil {
		t.Fatal("Synthetic not deterministic")
	}
	for _, v := range a.Images {
		if v < 0 || v > 1 {
			t.Fatalf("value %v outside [0,1]", v)
		}
	}
	bl := Blobs(30, 4, 3, 5, 1)
	if bl.Validate() != nil || bl.W != 4 || bl.N != 30 {
		t.Fatalf("Blobs: %v", bl)
	}
	if _, err := Synthetic(SynthConfig{N: 1}); err == nil {
		t.Fatal("bad config accepted")
	}
}
