package data

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// CIFAR binary records: CIFAR-10 is <label byte><3072 pixel bytes>,
// CIFAR-100 is <coarse byte><fine byte><3072 pixel bytes>; pixels are the
// red, green and blue 32×32 planes, row-major — already CHW.
const cifarPixels = 3 * 32 * 32

// ReadCIFARArchive reads the binary CIFAR-10 or CIFAR-100 archive
// (cifar-10-binary.tar.gz / cifar-100-binary.tar.gz) directly, without
// extracting it, and returns the given split. For CIFAR-100 the labels are
// the 100 fine labels (coarse=false) or the 20 superclasses (coarse=true);
// coarse is ignored for CIFAR-10.
func ReadCIFARArchive(archive string, hundred bool, split Split, coarse bool) (*Dataset, error) {
	var want []string // member base names, in order
	var namesFile string
	switch {
	case !hundred && split == Train:
		want = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	case !hundred && split == Test:
		want = []string{"test_batch.bin"}
	case hundred && split == Train:
		want = []string{"train.bin"}
	case hundred && split == Test:
		want = []string{"test.bin"}
	default:
		return nil, fmt.Errorf("data: CIFAR has no split %q", split)
	}
	switch {
	case !hundred:
		namesFile = "batches.meta.txt"
	case coarse:
		namesFile = "coarse_label_names.txt"
	default:
		namesFile = "fine_label_names.txt"
	}
	recLen, labelOff := 1+cifarPixels, 0
	if hundred {
		recLen = 2 + cifarPixels
		if !coarse {
			labelOff = 1
		}
	}

	f, err := os.Open(archive)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("data: %s: bad gzip: %w", archive, err)
	}
	tr := tar.NewReader(z)
	members := map[string][]byte{}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("data: %s: bad archive (gzip or tar damaged or truncated): %w", archive, gzipProblem(err))
		}
		base := path.Base(h.Name)
		if h.Typeflag != tar.TypeReg || !(contains(want, base) || base == namesFile) {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("data: %s: member %s: bad archive (gzip or tar damaged or truncated): %w", archive, h.Name, gzipProblem(err))
		}
		members[base] = b
		names = append(names, h.Name)
	}
	d := &Dataset{Name: "cifar10/" + string(split), C: 3, H: 32, W: 32, Classes: 10}
	if hundred {
		d.Name, d.Classes = "cifar100/"+string(split), 100
		if coarse {
			d.Name, d.Classes = "cifar100-coarse/"+string(split), 20
		}
	}
	for _, m := range want {
		b, ok := members[m]
		if !ok {
			sort.Strings(names)
			return nil, fmt.Errorf("data: %s: archive has no member %s (is it the binary version, not the python one?)", archive, m)
		}
		if len(b)%recLen != 0 || len(b) == 0 {
			return nil, fmt.Errorf("data: %s: member %s: wrong length: %d bytes is not a whole number of %d-byte records", archive, m, len(b), recLen)
		}
		n := len(b) / recLen
		base := len(d.Labels)
		d.Labels = append(d.Labels, make([]int32, n)...)
		img := make([]byte, n*cifarPixels)
		for i := 0; i < n; i++ {
			r := b[i*recLen : (i+1)*recLen]
			l := int32(r[labelOff])
			if int(l) >= d.Classes {
				return nil, fmt.Errorf("data: %s: member %s: record %d has label %d, want < %d", archive, m, i, l, d.Classes)
			}
			d.Labels[base+i] = l
			copy(img[i*cifarPixels:], r[recLen-cifarPixels:])
		}
		d.Images = append(d.Images, bytesToUnit(img)...)
		d.N += n
	}
	if b, ok := members[namesFile]; ok {
		cn := strings.Fields(string(b))
		if len(cn) == d.Classes {
			d.ClassNames = cn
		}
	}
	return d, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func loadCIFARDataset(s *spec, split Split, paths map[string]string) (*Dataset, error) {
	hundred := s.name == "cifar100"
	var p string
	for _, v := range paths {
		p = v
	}
	d, err := ReadCIFARArchive(p, hundred, split, false)
	if err != nil {
		return nil, err
	}
	if d.ClassNames == nil && s.classes != nil {
		d.ClassNames = s.classes
	}
	return d, nil
}
