// Package fmnist reads Fashion-MNIST from the IDX files (gzip-compressed or
// not) that Debian's dataset-fashion-mnist package installs under
// /usr/share/datasets/fashion-mnist.
package fmnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDir is $REPDYN_FASHION_MNIST or Debian's location.
func DefaultDir() string {
	if d := os.Getenv("REPDYN_FASHION_MNIST"); d != "" {
		return d
	}
	return "/usr/share/datasets/fashion-mnist"
}

// Classes names the ten labels.
var Classes = [10]string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Set is a set of 28x28 grayscale images with labels.
type Set struct {
	Images []float32 // N*28*28 values in [0, 1], row-major
	Labels []uint8
	N      int
	Rows   int
	Cols   int
	// ID identifies the data (files, sizes, subset) for cache keys.
	ID string
}

// Load reads the first n examples (n <= 0: all) of the train or test split
// from dir.
func Load(dir string, train bool, n int) (*Set, error) {
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	imgPath, err := find(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lblPath, err := find(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	imgs, shape, err := ReadIDX(imgPath, n)
	if err != nil {
		return nil, err
	}
	lbls, lshape, err := ReadIDX(lblPath, n)
	if err != nil {
		return nil, err
	}
	if len(shape) != 3 || len(lshape) != 1 || shape[0] != lshape[0] {
		return nil, fmt.Errorf("fmnist: shapes %v and %v do not match", shape, lshape)
	}
	s := &Set{N: shape[0], Rows: shape[1], Cols: shape[2], Labels: lbls, Images: make([]float32, len(imgs))}
	for i, b := range imgs {
		s.Images[i] = float32(b) / 255
	}
	fi, _ := os.Stat(imgPath)
	var size int64
	if fi != nil {
		size = fi.Size()
	}
	s.ID = fmt.Sprintf("fashion-mnist/%s/%d/n=%d", prefix, size, s.N)
	return s, nil
}

func find(dir, base string) (string, error) {
	for _, p := range []string{base + ".gz", base} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			return filepath.Join(dir, p), nil
		}
	}
	return "", fmt.Errorf("fmnist: %s(.gz) not found in %s (on Debian: apt-get install dataset-fashion-mnist)", base, dir)
}

// ReadIDX reads an IDX file of unsigned bytes (type 0x08), gzip-compressed if
// its name ends in .gz, keeping the first n items along the first dimension
// (n <= 0: all). It returns the data and the full shape after truncation.
func ReadIDX(path string, n int) ([]uint8, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("fmnist: %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	data, shape, err := DecodeIDX(r, n)
	if err != nil {
		return nil, nil, fmt.Errorf("fmnist: %s: %w", path, err)
	}
	return data, shape, nil
}

// DecodeIDX decodes an uncompressed IDX stream of unsigned bytes.
func DecodeIDX(r io.Reader, n int) ([]uint8, []int, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, err
	}
	if magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 {
		return nil, nil, fmt.Errorf("not an IDX file of unsigned bytes (magic % x)", magic)
	}
	dims := int(magic[3])
	if dims < 1 || dims > 4 {
		return nil, nil, fmt.Errorf("IDX with %d dimensions", dims)
	}
	shape := make([]int, dims)
	for i := range shape {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, nil, err
		}
		shape[i] = int(d)
	}
	if n > 0 && n < shape[0] {
		shape[0] = n
	}
	total := 1
	for _, d := range shape {
		total *= d
	}
	if total > 1<<30 {
		return nil, nil, fmt.Errorf("IDX too large: shape %v", shape)
	}
	data := make([]uint8, total)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, nil, fmt.Errorf("reading %d values: %w", total, err)
	}
	return data, shape, nil
}
