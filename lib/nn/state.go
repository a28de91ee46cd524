package nn

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// LoadStateDict copies named values (parameters and buffers, PyTorch
// state_dict names) into m, converting the element type. Every entry's length
// must match; with strict, the names must match exactly (no missing, no
// unexpected entries), as PyTorch's load_state_dict(strict=True).
func LoadStateDict[T Float, U Float](m Module[T], sd map[string][]U, strict bool) error {
	seen := map[string]bool{}
	var missing []string
	load := func(name string, dst []T) error {
		src, ok := sd[name]
		if !ok {
			missing = append(missing, name)
			return nil
		}
		seen[name] = true
		if len(src) != len(dst) {
			return fmt.Errorf("nn.LoadStateDict: %s has %d values, the model %d", name, len(src), len(dst))
		}
		for i, v := range src {
			dst[i] = T(v)
		}
		return nil
	}
	for _, p := range m.Params() {
		if err := load(p.Name, p.Data); err != nil {
			return err
		}
	}
	for _, b := range m.Buffers() {
		if err := load(b.Name, b.Data); err != nil {
			return err
		}
	}
	if !strict {
		return nil
	}
	var unexpected []string
	for k := range sd {
		if !seen[k] {
			unexpected = append(unexpected, k)
		}
	}
	sort.Strings(unexpected)
	if len(missing) > 0 || len(unexpected) > 0 {
		return fmt.Errorf("nn.LoadStateDict: missing keys [%s], unexpected keys [%s]",
			strings.Join(missing, " "), strings.Join(unexpected, " "))
	}
	return nil
}

// CopyState copies every parameter and buffer of src into dst (same names and
// shapes, e.g. the same architecture built with another element type: a
// float32-trained model into float64 for Jacobians).
func CopyState[T Float, U Float](dst Module[T], src Module[U]) error {
	dp, sp := dst.Params(), src.Params()
	db, sb := dst.Buffers(), src.Buffers()
	if len(dp) != len(sp) || len(db) != len(sb) {
		return fmt.Errorf("nn.CopyState: %d parameters and %d buffers into %d and %d", len(sp), len(sb), len(dp), len(db))
	}
	for i, p := range dp {
		q := sp[i]
		if p.Name != q.Name || !slices.Equal(p.Shape, q.Shape) {
			return fmt.Errorf("nn.CopyState: parameter %d is %s %v in the source, %s %v in the destination", i, q.Name, q.Shape, p.Name, p.Shape)
		}
		for j, v := range q.Data {
			p.Data[j] = T(v)
		}
	}
	for i, b := range db {
		c := sb[i]
		if b.Name != c.Name || len(b.Data) != len(c.Data) {
			return fmt.Errorf("nn.CopyState: buffer %d is %s in the source, %s in the destination", i, c.Name, b.Name)
		}
		for j, v := range c.Data {
			b.Data[j] = T(v)
		}
	}
	return nil
}
