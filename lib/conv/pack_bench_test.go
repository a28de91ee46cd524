package conv

import "testing"

// BenchmarkPack measures the padded copy of one input image that every
// stride-1 convolution starts with (ResNet-20's three stage shapes), with
// the image in cache.
func BenchmarkPack(b *testing.B) {
	for _, s := range []struct {
		name  string
		c, hw int
	}{{"16x32x32", 16, 32}, {"32x16x16", 32, 16}, {"64x8x8", 64, 8}} {
		b.Run(s.name, func(b *testing.B) {
			g := newGeom(s.c, s.hw, s.hw, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)
			src := make([]float32, s.c*s.hw*s.hw)
			dst := make([]float32, g.xlen(roundUp(g.p, 48)))
			b.SetBytes(int64(4 * len(src)))
			for i := 0; i < b.N; i++ {
				pack(&g, dst, src)
			}
		})
	}
}
