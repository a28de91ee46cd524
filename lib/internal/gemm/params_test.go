package gemm

import "testing"

func TestBlockCols(t *testing.T) {
	for _, c := range []struct{ l2, kc, es, nr, max, want int }{
		{2 << 20, 256, 4, 16, 512, 512}, // 2 MiB L2: the cap
		{512 << 10, 256, 4, 16, 512, 256},
		{512 << 10, 256, 8, 8, 256, 128},
		{256 << 10, 256, 8, 8, 256, 64},
		{16 << 10, 256, 4, 16, 512, 64}, // at least 4 panels
		{0, 256, 4, 16, 512, 512},       // unknown: the default
	} {
		if got := blockCols(c.l2, c.kc, c.es, c.nr, c.max); got != c.want {
			t.Errorf("blockCols(%d, %d, %d, %d, %d) = %d, want %d", c.l2, c.kc, c.es, c.nr, c.max, got, c.want)
		}
	}
}
