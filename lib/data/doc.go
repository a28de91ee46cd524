// Package data loads the classic small image-classification datasets,
// augments them and batches them for training, using plain float32 slices
// with explicit shapes (no dependency on a tensor type).
//
// # Datasets
//
// Load returns one split of a named dataset as a *Dataset:
//
//	train, err := data.Load("cifar10", data.Train, nil) // nil: default Options
//	test, err := data.Load("cifar10", data.Test, nil)
//
// Images are N×C×H×W float32 values in [0,1] (pixel/255), channel-major
// (NCHW) in one flat slice, Dataset.Image(i) being image i; labels are
// int32 in [0, Classes). Known names (Names):
//
//	mnist          1×28×28, 10 classes, 60000/10000   IDX files (gzip)
//	fashion-mnist  1×28×28, 10 classes, 60000/10000   IDX files (gzip)
//	kmnist         1×28×28, 10 classes, 60000/10000   IDX files (gzip)
//	cifar10        3×32×32, 10 classes, 50000/10000   binary version, read from the .tar.gz
//	cifar100       3×32×32, 100 fine classes           binary version, read from the .tar.gz
//	svhn           3×32×32, 10 classes, 73257/26032   cropped digits, MATLAB v5 .mat
//	semeion        1×16×16, 10 classes, 1593 images   text; one split, All
//
// SVHN also has the split Extra (531131 images, a 1.3 GB file, 6.5 GB as
// float32), fetched only when loaded. SVHN's label 10 (digit 0) becomes 0.
// The format readers are exported for files from elsewhere: ReadIDX and
// LoadIDX, ReadCIFARArchive (also CIFAR-100's 20 coarse classes),
// ReadMAT and LoadSVHN (a minimal MAT v5 reader: numeric arrays, plain or
// zlib-compressed elements, either byte order; not v7.3/HDF5), LoadSemeion.
//
// # Files, cache and checksums
//
// Files live in the cache directory: $REPDYN_DATA, else
// os.UserCacheDir()/repdyn/data (~/.cache/repdyn/data on Linux; with HOME
// unset, the home directory from the user database; never the shared
// temporary directory: with no home it is an error asking for
// REPDYN_DATA), one subdirectory per dataset, under the published file
// names. A missing file
// is downloaded from the dataset's official location (MNIST from the
// ossci-datasets S3 mirror, then Google's cvdf mirror, since
// yann.lecun.com is unreliable) into a temporary file in the same
// directory, verified, and renamed into place: a partial or bad download
// never takes the real name. Fashion-MNIST is also used in place from
// /usr/share/datasets/fashion-mnist when Debian's dataset-fashion-mnist
// package is installed.
//
// Every file has a recorded size and checksum (Files lists them):
//
//   - SHA-256 (and size) of the file as published, for MNIST,
//     Fashion-MNIST, KMNIST, CIFAR-10, CIFAR-100 and SVHN: the values
//     TensorFlow Datasets records for these files. For the IDX files and
//     SVHN the MD5 that torchvision records is checked as well.
//   - Semeion: torchvision's MD5, and the SHA-256 and size of the file
//     whose MD5 that is (UCI publishes no SHA-256).
//   - Fashion-MNIST also records the SHA-256 of each file's decompressed
//     content, because Debian ships the same data re-compressed (its .gz
//     files differ from upstream's only by the missing gzip file-name
//     field); a file that fails the published checks is accepted when its
//     decompressed content matches.
//
// A file verified once is not hashed again while it is the same file: a
// stamp .NAME.verified beside it in the cache records its size,
// modification and change times, inode and device and the hashes computed
// from it, and vouches for it only while all of these match and the hashes
// are the expected ones (a replaced, rewritten or re-dated file is hashed
// again). Verify, and `repdyn data verify`, always re-hash. A download
// writes at most the recorded size: a longer body is abandoned there.
//
// With REPDYN_OFFLINE=1 (or Options.Offline) nothing is downloaded: a
// missing file fails at once with an error (wrapping ErrOffline) that
// names the file, the path to put it at and the URL to get it from.
// Damaged files give errors naming the file and the problem: wrong length
// (truncated / too long), wrong checksum (got and wanted), bad gzip, bad
// IDX magic, a missing archive member, a bad MAT element, and so on.
//
// # Training input
//
// Augment describes the per-image training transform: random crop of the
// image padded with zeros, random horizontal flip, per-channel
// normalisation (KnownStats has the usual constants per dataset;
// ComputeStats computes them). A Loader batches a dataset into [B,C,H,W]
// float32 batches plus labels, epoch after epoch:
//
//	stats, _ := data.KnownStats("cifar10")
//	l, err := data.NewLoader(train, data.LoaderConfig{
//		BatchSize: 128, Shuffle: true, Seed: 1, DropLast: true, Prefetch: 4,
//		Augment: &data.Augment{Pad: 4, FlipH: true, Norm: &stats},
//	})
//	defer l.Close()
//	for epoch := 0; epoch < epochs; epoch++ {
//		for b, ok := l.Next(); ok; b, ok = l.Next() {
//			// b.Images (b.B×C×H×W), b.Labels, b.Indices
//			l.Recycle(b) // optional: lets the loader reuse the memory
//		}
//	}
//
// The order of an epoch is a permutation drawn from (Seed, epoch), and the
// augmentation of a batch from (Seed, epoch, batch index), so batches are
// identical with or without prefetching and a run resumes exactly with
// LoaderConfig.StartEpoch and StartBatch. For evaluation use Batches, or
// a Loader without Shuffle and with Augment{Norm: &stats}.
//
// Dataset.First, Dataset.PerClass (first n of each class), Dataset.Subset,
// Dataset.Split (seeded) and Concat make subsets. CorruptLabels replaces a
// seeded fraction of labels by wrong ones and records which (memorisation
// experiments); RandomLabels replaces them all. Synthetic (class-prototype
// images plus Gaussian noise) and Blobs (Gaussian blobs in d dimensions)
// make small seeded datasets for tests, benchmarks and demos.
//
// All randomness comes from RNG, a SplitMix64 generator defined in this
// package (Mix derives independent seeds), so every stream is fixed by this
// package alone and is the same across Go versions and platforms.
package data
