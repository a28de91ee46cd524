package tensor

import "testing"

// go test -run XXX -bench . -benchtime 200ms ./lib/tensor/
func BenchmarkAddInto(b *testing.B) {
	x := Must(Ones[float32](32, 64, 16, 16))
	y := Must(Ones[float32](32, 64, 16, 16))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Check(AddInto(y, y, x))
	}
	b.ReportMetric(float64(12*x.Numel())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

func BenchmarkSum(b *testing.B) {
	x := Must(Ones[float32](32, 64, 16, 16))
	var s float32
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s += Sum(x)
	}
	_ = s
	b.ReportMetric(float64(4*x.Numel())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

func BenchmarkKaimingNormal(b *testing.B) {
	w := Must(New[float32](256, 256, 3, 3))
	r := NewRNG(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Check(KaimingNormal(w, r, 0, FanOut, "relu"))
	}
	b.ReportMetric(float64(w.Numel())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
}
