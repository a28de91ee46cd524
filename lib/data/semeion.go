package data

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// LoadSemeion reads semeion.data: one image per line, 256 pixel values
// (0 or 1, written as floats) of a 16×16 image, then 10 one-hot label values.
func LoadSemeion(name, path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	d := &Dataset{Name: name, C: 1, H: 16, W: 16, Classes: 10, ClassNames: digitNames}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 266 {
			return nil, fmt.Errorf("data: %s:%d: %d values, want 266 (256 pixels + 10 one-hot labels)", path, line, len(fields))
		}
		for i := 0; i < 256; i++ {
			v, err := strconv.ParseFloat(fields[i], 32)
			if err != nil || v < 0 || v > 1 {
				return nil, fmt.Errorf("data: %s:%d: pixel %d is %q, want a number in [0,1]", path, line, i, fields[i])
			}
			d.Images = append(d.Images, float32(v))
		}
		label := -1
		for k := 0; k < 10; k++ {
			v, err := strconv.ParseFloat(fields[256+k], 64)
			if err != nil || (v != 0 && v != 1) {
				return nil, fmt.Errorf("data: %s:%d: label value %d is %q, want 0 or 1", path, line, k, fields[256+k])
			}
			if v == 1 {
				if label >= 0 {
					return nil, fmt.Errorf("data: %s:%d: more than one label set (one-hot expected)", path, line)
				}
				label = k
			}
		}
		if label < 0 {
			return nil, fmt.Errorf("data: %s:%d: no label set (one-hot expected)", path, line)
		}
		d.Labels = append(d.Labels, int32(label))
		d.N++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: reading %s: %w", path, err)
	}
	if d.N == 0 {
		return nil, fmt.Errorf("data: %s: no images", path)
	}
	return d, nil
}

func loadSemeionDataset(s *spec, split Split, paths map[string]string) (*Dataset, error) {
	for _, p := range paths {
		return LoadSemeion(s.name, p)
	}
	return nil, fmt.Errorf("data: semeion: no file")
}
