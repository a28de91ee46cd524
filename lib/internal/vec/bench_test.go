package vec

import (
	"fmt"
	"testing"

	"repdyn/lib/internal/cpu"
)

// Benchmarks run every kernel at every level on float32 slices of 1 Ki
// (L1-resident), 64 Ki (L2) and 4 Mi elements (memory), and report GB/s of
// slice traffic (bytes read + written):
//
//	go test -run XXX -bench . -benchtime 200ms ./lib/internal/vec/
func benchKernel(b *testing.B, name string, bytesPerElem int, f func(x, y, z []float32)) {
	saved := cpu.Selected
	defer cpu.Set(saved)
	for _, n := range []int{1 << 10, 1 << 16, 1 << 22} {
		x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(i%7)-3, float32(i%5)-2
		}
		for _, l := range cpu.Levels() {
			b.Run(fmt.Sprintf("%s/n=%d/%s", name, n, l), func(b *testing.B) {
				cpu.Set(l)
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					f(x, y, z)
				}
				b.ReportMetric(float64(bytesPerElem*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

func BenchmarkKernels(b *testing.B) {
	var sink float32
	benchKernel(b, "Axpy", 12, func(x, y, _ []float32) { Axpy(0.5, x, y) })
	benchKernel(b, "Add", 12, func(x, y, z []float32) { Add(z, x, y) })
	benchKernel(b, "Axpb", 8, func(x, _, z []float32) { Axpb(z, x, 0.5, 1) })
	benchKernel(b, "Relu", 8, func(x, _, z []float32) { Relu(z, x) })
	benchKernel(b, "ReluBackward", 12, func(x, y, z []float32) { ReluBackward(z, y, x) })
	benchKernel(b, "LeakyRelu", 8, func(x, _, z []float32) { LeakyRelu(z, x, 0.1) })
	benchKernel(b, "Sum", 4, func(x, _, _ []float32) { sink += Sum(x) })
	benchKernel(b, "Dot", 8, func(x, y, _ []float32) { sink += Dot(x, y) })
	_ = sink
}

func BenchmarkKernels64(b *testing.B) {
	saved := cpu.Selected
	defer cpu.Set(saved)
	n := 1 << 14
	x, y := make([]float64, n), make([]float64, n)
	var sink float64
	for _, l := range cpu.Levels() {
		cpu.Set(l)
		b.Run("Axpy64/"+l.String(), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				Axpy(0.5, x, y)
			}
			b.ReportMetric(float64(24*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run("Dot64/"+l.String(), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sink += Dot(x, y)
			}
			b.ReportMetric(float64(16*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
	_ = sink
}

func BenchmarkChannel(b *testing.B) {
	saved := cpu.Selected
	defer cpu.Set(saved)
	n, c, hw := 32, 64, 32*32 // a ResNet stage-1 batch: 2 Mi elements
	x, y := make([]float32, n*c*hw), make([]float32, n*c*hw)
	m, v := make([]float32, c), make([]float32, c)
	for i := range x {
		x[i] = float32(i%11) - 5
	}
	for _, l := range cpu.Levels() {
		cpu.Set(l)
		b.Run("MeanVar/"+l.String(), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				ChannelMeanVar(x, n, c, hw, m, v, 0)
			}
			b.ReportMetric(float64(8*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run("ScaleShift/"+l.String(), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				ChannelScaleShift(y, x, n, c, hw, m, v)
			}
			b.ReportMetric(float64(8*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run("SumDot/"+l.String(), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				ChannelSumDot(x, y, n, c, hw, m, v)
			}
			b.ReportMetric(float64(8*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
