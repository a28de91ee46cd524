package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/parallel"
	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/optim"
	"repdyn/lib/tensor"
)

func init() {
	registerBench("train", "training step and inference images/s of a model on synthetic 3x32x32 batches", benchTrain)
}

// trainBenchResult is one JSON line of `repdyn bench train`.
type trainBenchResult struct {
	Bench       string  `json:"bench"`
	Model       string  `json:"model"`
	Width       float64 `json:"width"`
	Batch       int     `json:"batch"`
	Threads     int     `json:"threads"`
	Level       string  `json:"level"`
	Params      int     `json:"params"`
	Steps       int     `json:"steps"`
	TrainMs     float64 `json:"train_ms"` // median step: forward, loss, backward, SGD update
	TrainMinMs  float64 `json:"train_min_ms"`
	TrainImgs   float64 `json:"train_images_per_s"` // batch / median step
	InferMs     float64 `json:"infer_ms"`           // median Eval-mode forward
	InferImgs   float64 `json:"infer_images_per_s"`
	TrainGFlops float64 `json:"train_gflops,omitempty"` // 3x forward FLOPs / median step
	PeakRSSMB   float64 `json:"peak_rss_mb,omitempty"`  // VmHWM of the process
}

// benchTrain mirrors ../shared/bench/torch_bench.py's bench_model: SGD
// (lr 0.01, momentum 0.9, weight decay 5e-4) steps of cross-entropy on one
// fixed random batch, then Eval-mode forward passes; medians after warm-up.
func benchTrain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench train", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = flagUsage(fs, stdout, `usage: repdyn bench train [flags]

Times training steps (SGD lr 0.01, momentum 0.9, weight decay 5e-4,
cross-entropy, one fixed random batch) and Eval-mode forward passes of a
lib/models model, as ../shared/bench/torch_bench.py does for PyTorch, and
prints one JSON line per thread count: medians after --warmup untimed
steps (train_ms, infer_ms, images per second, GFLOP/s, peak RSS).

flags:
`, "\nmodels: "+strings.Join(models.Names(), ", ")+"\n")
	name := fs.String("model", "resnet20", "model name")
	width := fs.Float64("width", 1, "width multiplier")
	batch := fs.Int("batch", 128, "batch size")
	steps := fs.Int("steps", 10, "timed steps (and timed inference passes)")
	warmup := fs.Int("warmup", 2, "untimed warm-up steps")
	boundInts(fs, 1, maxBenchDim, "batch")
	boundInts(fs, 1, maxBenchReps, "steps")
	boundInts(fs, 0, maxBenchReps, "warmup")
	threads := fs.String("threads", "", "compute threads, or a comma list (default all cores)")
	hw := fs.Int("hw", 32, "image height and width")
	boundInts(fs, 1, maxBenchDim, "hw")
	only := fs.String("only", "", "time only \"train\" or \"infer\" (default both)")
	profile := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) of the timed runs to `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *only != "" && *only != "train" && *only != "infer" {
		return fmt.Errorf("--only %q: want train or infer", *only)
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if err := checkModelName(*name); err != nil {
		return err
	}
	if *batch <= 0 || *steps <= 0 || *warmup < 0 {
		return fmt.Errorf("--batch and --steps must be positive")
	}
	if err := benchElements(fmt.Sprintf("--batch %d --hw %d", *batch, *hw), []int{*batch, 3, *hw, *hw}); err != nil {
		return err
	}
	list := []int{parallel.Threads()}
	if *threads != "" {
		list = nil
		for _, s := range strings.Split(*threads, ",") {
			t, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || !checkThreadList(t) {
				return fmt.Errorf("--threads %q: want integers in 1..%d", *threads, maxBenchThreads)
			}
			list = append(list, t)
		}
	}
	for _, th := range list {
		prev := parallel.SetThreads(th)
		r, err := benchTrainOnce(*name, *width, *batch, *hw, *steps, *warmup, *only)
		parallel.SetThreads(prev)
		if err != nil {
			return err
		}
		r.Threads = th
		if err := emit(stdout, r); err != nil {
			return err
		}
	}
	return nil
}

func benchTrainOnce(name string, width float64, batch, hw, steps, warmup int, only string) (*trainBenchResult, error) {
	cfg := models.Config{InChannels: 3, NumClasses: 10, Width: width, Seed: 1}
	if name == "mlp" {
		cfg.InFeatures = 3 * hw * hw
	}
	m, err := models.New[float32](name, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkActivations(m, batch, hw); err != nil {
		return nil, err
	}
	x, err := tensor.New[float32](batch, 3, hw, hw)
	if err != nil {
		return nil, err
	}
	rng := tensor.NewRNG(1)
	xs := x.Data()
	for i := range xs {
		xs[i] = float32(rng.Normal())
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = i % 10
	}
	opt, err := optim.NewSGD(m.Params(), optim.SGDConfig{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4, DecayAll: true})
	if err != nil {
		return nil, err
	}
	var ce nn.CrossEntropy[float32]
	step := func() error {
		nn.ZeroGrad[float32](m)
		y, err := m.Forward(x, nn.Train)
		if err != nil {
			return err
		}
		_, dy, err := ce.Forward(y, labels)
		if err != nil {
			return err
		}
		if _, err := m.Backward(dy); err != nil {
			return err
		}
		opt.Step()
		return nil
	}
	infer := func() error {
		_, err := m.Forward(x, nn.Eval)
		return err
	}
	r := &trainBenchResult{Bench: "train", Model: name, Width: width, Batch: batch, Level: cpu.Selected.String(),
		Params: nn.NumParams[float32](m), Steps: steps}
	if only != "infer" {
		tr, err := timeRuns(step, warmup, steps)
		if err != nil {
			return nil, err
		}
		r.TrainMs, r.TrainMinMs = ms(tr[len(tr)/2]), ms(tr[0])
		r.TrainImgs = float64(batch) / tr[len(tr)/2].Seconds()
		if s, err := m.Summary([]int{batch, 3, hw, hw}); err == nil && s.TotalFLOPs > 0 {
			r.TrainGFlops = 3 * float64(s.TotalFLOPs) / tr[len(tr)/2].Seconds() / 1e9
		}
	}
	if only != "train" {
		inf, err := timeRuns(infer, warmup, steps)
		if err != nil {
			return nil, err
		}
		r.InferMs = ms(inf[len(inf)/2])
		r.InferImgs = float64(batch) / inf[len(inf)/2].Seconds()
	}
	r.PeakRSSMB = peakRSSMB()
	return r, nil
}

// timeRuns runs f warmup times untimed, then n times timed; the durations
// come back sorted.
func timeRuns(f func() error, warmup, n int) ([]time.Duration, error) {
	for i := 0; i < warmup; i++ {
		if err := f(); err != nil {
			return nil, err
		}
	}
	d := make([]time.Duration, n)
	for i := range d {
		t0 := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		d[i] = time.Since(t0)
	}
	slices.Sort(d)
	return d, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// peakRSSMB reads VmHWM (peak resident set size) from /proc/self/status; 0
// where that is unavailable.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) >= 1 {
				kb, err := strconv.ParseFloat(fields[0], 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}

// checkActivations bounds the activations of one batch (every layer's
// output, from the shape trace) before the first forward pass allocates them.
func checkActivations(m *models.Model[float32], batch, hw int) error {
	sum, err := m.Summary([]int{batch, 3, hw, hw})
	if err != nil {
		return err
	}
	shapes := make([][]int, 0, len(sum.Rows))
	for _, r := range sum.Rows {
		shapes = append(shapes, r.OutShape)
	}
	return benchElements(fmt.Sprintf("--batch %d --hw %d: activations of %s", batch, hw, m.Arch), shapes...)
}
