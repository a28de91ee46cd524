package main

import (
	"flag"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"gonum.org/v1/gonum/blas"

	repblas "repdyn/lib/blas"
	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/parallel"
	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
	"repdyn/lib/theory"
)

func init() {
	registerBench("ntk", "empirical NTK K = J J^T of a model in eval mode, float64 (theory.ComputeNTK)", benchNTK)
}

// ntkBenchResult is the JSON line of `repdyn bench ntk`.
type ntkBenchResult struct {
	Bench    string  `json:"bench"`
	Model    string  `json:"model"`
	Width    float64 `json:"width"`
	N        int     `json:"n"`    // examples
	Rows     int     `json:"rows"` // N = n * outputs
	Params   int     `json:"params"`
	Threads  int     `json:"threads"`
	Workers  int     `json:"workers"`
	Level    string  `json:"level"`
	Strategy string  `json:"strategy"`
	Passes   int     `json:"passes"`
	Seconds  float64 `json:"s"`
	Ms       float64 `json:"ms"`
	// JFlops counts the backward passes (2x the forward flops of one
	// example, N times, times the passes, plus the forward passes), KFlops
	// the symmetric rank-k update N(N+1)D; GFlops is their sum over the
	// wall time.
	JFlops float64 `json:"j_flops"`
	KFlops float64 `json:"k_flops"`
	GFlops float64 `json:"gflops"`
	// DgemmGFlops is a 1024^3 Dgemm's rate in this process at the same
	// thread count; FloorFraction = (JFlops + KFlops) / DgemmGFlops / time:
	// the fraction of the GEMM-bound floor reached.
	DgemmGFlops   float64 `json:"dgemm_gflops"`
	FloorFraction float64 `json:"floor_fraction"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	PlanPeakMB    float64 `json:"plan_peak_mb"`
	Trace         float64 `json:"trace"`
}

func benchNTK(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench ntk", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = flagUsage(fs, stdout, `usage: repdyn bench ntk [flags]

Times the empirical NTK K = J J^T of a model's logits (eval mode, float64)
on n synthetic images: J by backward passes, K by symmetric rank-k updates
(lib/blas Dsyrk), within a memory plan. Prints one JSON line: seconds, the
flops of J and K, the in-process Dgemm rate and the fraction of that floor,
peak RSS against the plan. bench/ntk_compare.sh runs it beside PyTorch.

flags:
`, "")
	name := fs.String("model", "resnet20", "model name (lib/models)")
	width := fs.Float64("width", 1, "width multiplier")
	n := fs.Int("n", 128, "examples (rows: n * 10 outputs)")
	threads := fs.Int("threads", 0, "compute threads of the GEMM and convolution kernels (default all cores)")
	workers := fs.Int("workers", 0, "model replicas running backward passes in parallel (theory.JacobianOptions.Workers; default GOMAXPROCS)")
	hw := fs.Int("hw", 32, "image height and width")
	budget := fs.Int("budget-mb", 0, "memory budget of the NTK plan in MiB (default theory.DefaultMemoryBudget)")
	plan := fs.Bool("plan", false, "print the memory plan to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkModelName(*name); err != nil {
		return err
	}
	if *n <= 0 || *hw <= 0 || *width <= 0 || *threads < 0 || *budget < 0 || *workers < 0 {
		return usagef("--n, --hw and --width must be positive, --threads, --workers and --budget-mb non-negative")
	}
	th := *threads
	if th == 0 {
		th = parallel.Threads()
	}
	wk := *workers
	if wk == 0 {
		wk = runtime.GOMAXPROCS(0)
	}
	prev := parallel.SetThreads(th)
	defer parallel.SetThreads(prev)
	cfg := models.Config{InChannels: 3, NumClasses: 10, Width: *width, Seed: 1}
	if *name == "mlp" {
		cfg.InFeatures = 3 * *hw * *hw
	}
	m, err := models.New[float64](*name, cfg)
	if err != nil {
		return err
	}
	x, err := tensor.New[float64](*n, 3, *hw, *hw)
	if err != nil {
		return err
	}
	rng := tensor.NewRNG(1)
	for i := range x.Data() {
		x.Data()[i] = rng.Normal()
	}
	opt := theory.NTKOptions{JacobianOptions: theory.JacobianOptions{Mode: nn.Eval, Workers: wk}, Budget: int64(*budget) << 20}
	if *plan {
		opt.Log = os.Stderr
	}
	// The memory plan, handed to the Go runtime as its soft limit (the
	// library plans; the program sets process-wide limits).
	os0, err := m.OutShape(x.Shape())
	if err != nil {
		return err
	}
	pl := theory.PlanNTK(prodInts(os0), nn.NumParams[float64](m), opt.Budget)
	if pk := pl.Peak(); pk > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(pk))
	}
	runtime.GC()
	t0 := time.Now()
	K, err := theory.ComputeNTK(m, x, opt)
	if err != nil {
		return err
	}
	el := time.Since(t0)
	st := K.Plan.Strategies[K.Plan.Chosen]
	D := nn.NumParams[float64](m)
	r := &ntkBenchResult{Bench: "ntk", Model: *name, Width: *width, N: *n, Rows: K.N, Params: D, Threads: th, Workers: wk, Level: cpu.Selected.String(),
		Strategy: st.Name, Passes: st.Passes, Seconds: el.Seconds(), Ms: ms(el), PeakRSSMB: peakRSSMB(), PlanPeakMB: float64(st.PeakBytes) / (1 << 20)}
	for i := 0; i < K.N; i++ {
		r.Trace += K.At(i, i)
	}
	if s, err := m.Summary([]int{1, 3, *hw, *hw}); err == nil && s.TotalFLOPs > 0 {
		f1 := float64(s.TotalFLOPs)
		r.JFlops = float64(st.Passes) * (float64(K.N)*2*f1 + float64(*n)*f1)
	}
	r.KFlops = float64(K.N) * float64(K.N+1) * float64(D)
	r.GFlops = (r.JFlops + r.KFlops) / el.Seconds() / 1e9
	r.DgemmGFlops = dgemmRate()
	if r.DgemmGFlops > 0 {
		r.FloorFraction = (r.JFlops + r.KFlops) / (r.DgemmGFlops * 1e9) / el.Seconds()
	}
	return emit(stdout, r)
}

func prodInts(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

// dgemmRate is the best of three 1024^3 Dgemm calls, in GFLOP/s.
func dgemmRate() float64 {
	const s = 1024
	a := make([]float64, s*s)
	for i := range a {
		a[i] = float64(i%7) - 3
	}
	c := make([]float64, s*s)
	best := time.Duration(1 << 62)
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		repblas.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, s, s, s, 1, a, s, a, s, 0, c, s)
		best = min(best, time.Since(t0))
	}
	return 2 * s * s * s / best.Seconds() / 1e9
}
