package theory

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"repdyn/lib/models"
	"repdyn/lib/nn"
)

// peakRSS is the process's peak resident set size in bytes (Linux VmHWM).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v * 1024
		}
	}
	return -1
}

// TestNTKBenchResNet20 times the eval-mode NTK of ResNet-20 (10 outputs,
// 32x32x3 inputs, float64) on REPDYN_NTK_N examples (default 512: N = 5120)
// and, with REPDYN_TORCH_BENCH=1, testdata/ntk_bench.py on the same size at
// the same thread count (GOMAXPROCS). bench/ntk_compare.sh compares
// `repdyn bench ntk` with PyTorch's best of 1 and 2 threads.
// Run with REPDYN_LONG=1 (minutes).
func TestNTKBenchResNet20(t *testing.T) {
	if os.Getenv("REPDYN_LONG") == "" {
		t.Skip("set REPDYN_LONG=1 to run the ResNet-20 NTK benchmark")
	}
	n := 512
	if s := os.Getenv("REPDYN_NTK_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	budget := int64(0)
	if s := os.Getenv("REPDYN_NTK_BUDGET_MB"); s != "" {
		v, _ := strconv.Atoi(s)
		budget = int64(v) << 20
	}
	m, err := models.New[float64]("resnet20", models.Config{NumClasses: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(1, n, 3, 32, 32)
	runtime.GC()
	t0 := time.Now()
	K, err := ComputeNTK(m, x, NTKOptions{JacobianOptions: JacobianOptions{Mode: nn.Eval}, Budget: budget, Log: os.Stdout})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(t0)
	plan := K.Plan.Strategies[K.Plan.Chosen]
	fmt.Printf("repdyn: ResNet-20 NTK, n=%d, N=%d, D=%d: %.1f s, peak RSS %s (plan peak %s + activations), strategy %s, %d passes, GOMAXPROCS %d\n",
		n, K.N, nn.NumParams(m), el.Seconds(), human(peakRSS()), human(plan.PeakBytes), plan.Name, plan.Passes, runtime.GOMAXPROCS(0))
	if os.Getenv("REPDYN_NTK_SPLIT") != "" {
		t1 := time.Now()
		J, err := ComputeJacobian(m, x, JacobianOptions{Mode: nn.Eval})
		if err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		KernelOf(J)
		fmt.Printf("split: J %.1f s, K = J J^T %.1f s\n", t2.Sub(t1).Seconds(), time.Since(t2).Seconds())
	}
	if os.Getenv("REPDYN_TORCH_BENCH") != "" {
		out, err := exec.Command("/usr/bin/python3", "testdata/ntk_bench.py", strconv.Itoa(n), strconv.Itoa(runtime.GOMAXPROCS(0))).CombinedOutput()
		fmt.Printf("torch: %s (err %v)\n", out, err)
	}
}
