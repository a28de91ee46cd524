package gemm

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"repdyn/lib/internal/parallel"
)

func TestZZLatency(t *testing.T) {
	nstr := os.Getenv("ZZN")
	if nstr == "" {
		t.Skip()
	}
	for _, n := range []int{128, 256} {
		for _, th := range []int{1, 2} {
			parallel.SetThreads(th)
			a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
			for i := range a {
				a[i] = float32(i%7) * 0.1
				b[i] = float32(i%5) * 0.1
			}
			reps, _ := strconv.Atoi(nstr)
			ts := make([]time.Duration, reps)
			for i := 0; i < 100; i++ {
				Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
			}
			t0 := time.Now()
			for i := range ts {
				if os.Getenv("ZZRU") != "" {
					var ru syscall.Rusage
					syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
				}
				s := time.Now()
				Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
				ts[i] = time.Since(s)
			}
			tot := time.Since(t0)
			sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
			fl := 2 * float64(n*n*n)
			fmt.Printf("n=%d th=%d mean %.1f GF  p10 %v p50 %v p90 %v p99 %v max %v (p50 %.1f GF)\n", n, th, fl*float64(reps)/float64(tot), ts[reps/10], ts[reps/2], ts[reps*9/10], ts[reps*99/100], ts[reps-1], fl/float64(ts[reps/2]))
		}
	}
}
