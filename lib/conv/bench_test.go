package conv

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"repdyn/lib/internal/parallel"
)

// benchShapes are ResNet-20 and ResNet-18 (CIFAR) convolutions at batch
// 128: every stride-1 3×3 stage, the stems and the downsampling convs.
var benchShapes = []struct {
	name string
	p    Params
}{
	{"r20conv1_3to16", New(128, 3, 32, 32, 16, 3, 1, 1)},
	{"r20s1_16x32x32", New(128, 16, 32, 32, 16, 3, 1, 1)},
	{"r20s2_32x16x16", New(128, 32, 16, 16, 32, 3, 1, 1)},
	{"r20s3_64x8x8", New(128, 64, 8, 8, 64, 3, 1, 1)},
	{"r20down_16to32s2", New(128, 16, 32, 32, 32, 3, 2, 1)},
	{"r18s1_64x32x32", New(128, 64, 32, 32, 64, 3, 1, 1)},
	{"r18s2_128x16x16", New(128, 128, 16, 16, 128, 3, 1, 1)},
	{"r18s3_256x8x8", New(128, 256, 8, 8, 256, 3, 1, 1)},
	{"r18s4_512x4x4", New(128, 512, 4, 4, 512, 3, 1, 1)},
	{"r18down1x1_64to128s2", New(128, 64, 32, 32, 128, 1, 2, 0)},
}

// BenchmarkConv times benchShapes forward and forward+backward with the
// algorithms Forward picks, at 1 and 2 threads.
func BenchmarkConv(b *testing.B) {
	for _, s := range benchShapes {
		for _, th := range []int{1, 2} {
			for _, pass := range []string{"fwd", "fwdbwd"} {
				b.Run(fmt.Sprintf("%s/%s/t%d", s.name, pass, th), func(b *testing.B) {
					benchConv[float32](b, s.p, th, pass == "fwdbwd")
				})
			}
		}
	}
}

func BenchmarkConvF64(b *testing.B) {
	s := benchShapes[1]
	for _, pass := range []string{"fwd", "fwdbwd"} {
		b.Run(fmt.Sprintf("%s/%s/t2", s.name, pass), func(b *testing.B) {
			benchConv[float64](b, s.p, 2, pass == "fwdbwd")
		})
	}
}

func benchConv[T Float](b *testing.B, p Params, threads int, bwd bool) {
	defer parallel.SetThreads(parallel.SetThreads(threads))
	r := rand.New(rand.NewPCG(1, 1))
	x := conv64to[T](randSlice(r, p.InputLen()))
	w := conv64to[T](randSlice(r, p.WeightLen()))
	dy := conv64to[T](randSlice(r, p.OutputLen()))
	y := make([]T, p.OutputLen())
	dx := make([]T, p.InputLen())
	dw := make([]T, p.WeightLen())
	step := func() {
		_ = Forward(p, y, x, w, nil, 0)
		if bwd {
			_ = BackwardData(p, dx, dy, w, 0)
			_ = BackwardWeights(p, dw, nil, dy, x, 0)
		}
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		step()
	}
	c1 := cpuSeconds()
	flops := p.FLOPs()
	if bwd {
		flops *= 3
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	// On a shared machine, work per CPU-second (process user+sys time) is a
	// steadier measure of the kernels than wall time.
	b.ReportMetric(flops*float64(b.N)/(c1-c0)/1e9, "GFLOP/cpu-s")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkWinograd compares Winograd (at several tiles per task) with the
// direct kernels on the forward pass of the stride-1 3×3 stages of
// benchShapes.
func BenchmarkWinograd(b *testing.B) {
	defer func(c, hw, n int) { winoMinC, winoMinHW, winoTiles = c, hw, n }(winoMinC, winoMinHW, winoTiles)
	for _, s := range benchShapes {
		if s.p.KH != 3 || s.p.StrideH != 1 || s.p.Cin < 16 {
			continue
		}
		for _, tiles := range []int{0, 32, 64, 128, 256} {
			name := fmt.Sprintf("tiles%d", tiles)
			if tiles == 0 {
				name = "direct"
			}
			for _, th := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/t%d", s.name, name, th), func(b *testing.B) {
					winoMinC, winoMinHW, winoTiles = 1, 0, tiles
					if tiles == 0 {
						winoMinC = 0
					}
					benchConv[float32](b, s.p, th, false)
				})
			}
		}
	}
}
