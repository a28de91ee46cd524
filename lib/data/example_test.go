package data_test

import (
	"fmt"

	"repdyn/lib/data"
)

// A training epoch over a (here synthetic) dataset with the standard CIFAR
// augmentation and a prefetching loader.
func Example() {
	ds, _ := data.Synthetic(data.SynthConfig{N: 100, C: 3, H: 32, W: 32, Classes: 10, Noise: 0.1, Seed: 1})
	// For a real dataset: ds, err := data.Load("cifar10", data.Train, nil)
	// and stats, _ := data.KnownStats("cifar10").
	stats := data.ComputeStats(ds)
	l, _ := data.NewLoader(ds, data.LoaderConfig{
		BatchSize: 32, Shuffle: true, Seed: 42, DropLast: true, Prefetch: 2,
		Augment: &data.Augment{Pad: 4, FlipH: true, Norm: &stats},
	})
	defer l.Close()
	for epoch := 0; epoch < 2; epoch++ {
		n := 0
		for b, ok := l.Next(); ok; b, ok = l.Next() {
			_ = b.Images // [B,C,H,W] float32, b.Labels: [B] int32
			n += b.B
			l.Recycle(b)
		}
		fmt.Println("epoch", epoch, "images", n)
	}
	// Output:
	// epoch 0 images 96
	// epoch 1 images 96
}

// Label corruption for memorisation experiments.
func ExampleCorruptLabels() {
	ds, _ := data.Synthetic(data.SynthConfig{N: 1000, C: 1, H: 8, W: 8, Classes: 10, Seed: 1})
	noisy, info, _ := data.CorruptLabels(ds, 0.2, 7)
	fmt.Println(len(info.Indices), "of", noisy.N, "labels corrupted")
	// Output: 200 of 1000 labels corrupted
}
