package gemm

import (
	"testing"

	"repdyn/lib/internal/cpu"
)

// BenchmarkKernel measures the bare micro-kernel on L1-resident panels
// (the ceiling for everything else).
func BenchmarkKernel(b *testing.B) {
	saved := cpu.Selected
	defer cpu.Set(saved)
	for _, l := range cpu.Levels() {
		cpu.Set(l)
		b.Run(l.String()+"/f32", func(b *testing.B) {
			p := paramsFor[float32](l)
			const kc = 256
			a := alignedMake[float32](kc * p.mr)
			bb := alignedMake[float32](kc * p.nr)
			c := alignedMake[float32](p.mr * p.nr)
			for i := 0; i < b.N; i++ {
				p.kern(kc, &a[0], 1, p.mr, &bb[0], p.nr, &c[0], p.nr, 1, 1, 1, 0, 0)
			}
			b.ReportMetric(2*float64(kc*p.mr*p.nr)*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
		})
		b.Run(l.String()+"/f64", func(b *testing.B) {
			p := paramsFor[float64](l)
			const kc = 256
			a := alignedMake[float64](kc * p.mr)
			bb := alignedMake[float64](kc * p.nr)
			c := alignedMake[float64](p.mr * p.nr)
			for i := 0; i < b.N; i++ {
				p.kern(kc, &a[0], 1, p.mr, &bb[0], p.nr, &c[0], p.nr, 1, 1, 1, 0, 0)
			}
			b.ReportMetric(2*float64(kc*p.mr*p.nr)*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
		})
	}
}
