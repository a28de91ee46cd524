package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"time"

	"repdyn/lib/conv"
	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/parallel"
)

func init() {
	registerBench("conv", "2-D convolution forward and forward+backward (lib/conv)", runBenchConv)
}

type convResult struct {
	Name       string  `json:"name"`
	DType      string  `json:"dtype"`
	Batch      int     `json:"batch"`
	Cin        int     `json:"cin"`
	Cout       int     `json:"cout"`
	HW         int     `json:"hw"`
	Kernel     int     `json:"kernel"`
	Stride     int     `json:"stride"`
	Pad        int     `json:"pad"`
	Threads    int     `json:"threads"`
	CPU        string  `json:"cpu"`
	Reps       int     `json:"reps"`
	MS         float64 `json:"ms"`
	GFLOPS     float64 `json:"gflops"`
	ImagesPerS float64 `json:"images_per_s"`
}

func runBenchConv(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench conv", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = flagUsage(fs, stdout, `usage: repdyn bench conv [flags]

Times one 2-D convolution layer (NCHW, square images and kernels) with
lib/conv, forward and both gradients, and prints one JSON line per pass:
"ms" (median of --reps), "gflops" and "images_per_s", with the algorithm
lib/conv chose for the shape (implicit GEMM, small-image or Winograd).

flags:
`, "")
	batch := fs.Int("batch", 128, "batch size N")
	cin := fs.Int("cin", 64, "input channels")
	cout := fs.Int("cout", 64, "output channels")
	hw := fs.Int("hw", 32, "input height = width")
	kernel := fs.Int("kernel", 3, "kernel size (square)")
	stride := fs.Int("stride", 1, "stride")
	pad := fs.Int("pad", -1, "zero padding on each side (default kernel/2)")
	threads := fs.Int("threads", 0, "worker threads (default GOMAXPROCS)")
	boundInts(fs, 1, maxBenchDim, "batch", "cin", "cout", "hw", "kernel", "stride")
	boundInts(fs, -1, maxBenchDim, "pad")
	boundInts(fs, 0, maxBenchThreads, "threads")
	dtype := fs.String("dtype", "f32", "element type: f32 or f64")
	reps := fs.Int("reps", 10, "timed repetitions (median reported)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *pad < 0 {
		*pad = *kernel / 2
	}
	if *reps < 1 || *reps > maxBenchReps {
		return fmt.Errorf("--reps = %d: must be in 1..%d", *reps, maxBenchReps)
	}
	p := conv.New(*batch, *cin, *hw, *hw, *cout, *kernel, *stride, *pad)
	if err := p.Validate(); err != nil {
		return err
	}
	if err := benchElements("bench conv", []int{2, p.InputLen()}, []int{3, p.OutputLen()}, []int{2, p.WeightLen()}); err != nil {
		return err
	}
	if *threads > 0 {
		defer parallel.SetThreads(parallel.SetThreads(*threads))
	}
	var fwd, fb func() error
	switch *dtype {
	case "f32":
		fwd, fb = convSteps[float32](p)
	case "f64":
		fwd, fb = convSteps[float64](p)
	default:
		return fmt.Errorf("--dtype = %q: want f32 or f64", *dtype)
	}
	for _, pass := range []struct {
		name   string
		step   func() error
		passes float64
	}{{"conv_fwd", fwd, 1}, {"conv_fwdbwd", fb, 3}} {
		if err := pass.step(); err != nil { // warm-up
			return err
		}
		times := make([]float64, *reps)
		for i := range times {
			t0 := time.Now()
			if err := pass.step(); err != nil {
				return err
			}
			times[i] = time.Since(t0).Seconds()
		}
		sort.Float64s(times)
		med := times[len(times)/2]
		if len(times)%2 == 0 {
			med = (times[len(times)/2-1] + times[len(times)/2]) / 2
		}
		if err := emit(stdout, convResult{
			Name: pass.name, DType: *dtype, Batch: *batch, Cin: *cin, Cout: *cout, HW: *hw,
			Kernel: *kernel, Stride: *stride, Pad: *pad, Threads: parallel.Threads(),
			CPU: cpu.Selected.String(), Reps: *reps, MS: med * 1e3,
			GFLOPS: pass.passes * p.FLOPs() / med / 1e9, ImagesPerS: float64(*batch) / med,
		}); err != nil {
			return err
		}
	}
	return nil
}

// convSteps returns a forward step and a forward+backward (data and weights) step.
func convSteps[T conv.Float](p conv.Params) (fwd, fwdbwd func() error) {
	r := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []T {
		s := make([]T, n)
		for i := range s {
			s[i] = T(r.Float64()*2 - 1)
		}
		return s
	}
	x, w, dy := fill(p.InputLen()), fill(p.WeightLen()), fill(p.OutputLen())
	y := make([]T, p.OutputLen())
	dx := make([]T, p.InputLen())
	dw := make([]T, p.WeightLen())
	fwd = func() error { return conv.Forward(p, y, x, w, nil, 0) }
	fwdbwd = func() error {
		if err := conv.Forward(p, y, x, w, nil, 0); err != nil {
			return err
		}
		if err := conv.BackwardData(p, dx, dy, w, 0); err != nil {
			return err
		}
		return conv.BackwardWeights(p, dw, nil, dy, x, 0)
	}
	return fwd, fwdbwd
}
