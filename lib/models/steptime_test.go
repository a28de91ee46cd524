//go:build linux

package models

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"repdyn/lib/conv"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// TestStepTimes (REPDYN_STEPTIME=steps) prints, per configuration, the
// minimum and median wall time and the minimum process CPU time of a step:
// the CPU time is the steadier number on a shared machine.
//
//	REPDYN_STEPTIME=5 go test -run StepTimes -v ./lib/models
func TestStepTimes(t *testing.T) {
	steps, _ := strconv.Atoi(os.Getenv("REPDYN_STEPTIME"))
	if steps <= 0 {
		t.Skip("set REPDYN_STEPTIME=steps")
	}
	only := os.Getenv("REPDYN_STEPTIME_ONLY")
	for _, c := range []struct {
		name, arch string
		train      bool
	}{
		{"train resnet20", "resnet20", true},
		{"infer resnet20", "resnet20", false},
		{"train resnet18-cifar", "resnet18-cifar", true},
		{"infer resnet18-cifar", "resnet18-cifar", false},
	} {
		if only != "" && !strings.Contains(c.name, only) {
			continue
		}
		m, err := New[float32](c.arch, Config{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		const batch = 128
		x := tensor.Must(tensor.New[float32](batch, 3, 32, 32))
		for i, d := 0, x.Data(); i < len(d); i++ {
			d[i] = float32(i%7) - 3
		}
		labels := make([]int, batch)
		ce := &nn.CrossEntropy[float32]{}
		step := func() {
			mode := nn.Eval
			if c.train {
				mode = nn.Train
			}
			y, err := m.Forward(x, mode)
			if err != nil {
				t.Fatal(err)
			}
			if !c.train {
				return
			}
			_, g, _ := ce.Forward(y, labels)
			nn.ZeroGrad[float32](m)
			if _, err := m.Backward(g); err != nil {
				t.Fatal(err)
			}
		}
		step()
		var walls []time.Duration
		minCPU := time.Duration(math.MaxInt64)
		for i := 0; i < steps; i++ {
			c0, w0 := cpuTime(), time.Now()
			step()
			walls = append(walls, time.Since(w0))
			minCPU = min(minCPU, cpuTime()-c0)
		}
		slices.Sort(walls)
		t.Logf("%-22s wall min %7.1f ms median %7.1f ms (%6.0f images/s at the min)  cpu min %7.1f ms  peak RSS so far %s",
			c.name, ms(walls[0]), ms(walls[len(walls)/2]), batch/walls[0].Seconds(), ms(minCPU), peakRSS())
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident set size (VmHWM).
func peakRSS() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.Join(strings.Fields(l)[1:], " ")
		}
	}
	return "?"
}

// TestConvShapes (REPDYN_CONVTIME=reps) times lib/conv's three passes on
// every convolution shape of ResNet-20 and ResNet-18-CIFAR at batch 128
// (minimum wall and CPU time over reps), with the count of each shape in the
// network, to show where a training step's convolution time goes. On a
// shared machine the CPU time (all threads) is the steadier number; FLOP per
// CPU-second is the per-core efficiency (Zen 4: about 100-120 peak).
//
//	REPDYN_CONVTIME=3 go test -run ConvShapes -v ./lib/models
func TestConvShapes(t *testing.T) {
	reps, _ := strconv.Atoi(os.Getenv("REPDYN_CONVTIME"))
	if reps <= 0 {
		t.Skip("set REPDYN_CONVTIME=reps")
	}
	type shape struct{ cin, cout, hw, k, s, count int }
	nets := []struct {
		name   string
		shapes []shape
	}{
		{"resnet20", []shape{{3, 16, 32, 3, 1, 1}, {16, 16, 32, 3, 1, 6},
			{16, 32, 32, 3, 2, 1}, {16, 32, 32, 1, 2, 1}, {32, 32, 16, 3, 1, 5},
			{32, 64, 16, 3, 2, 1}, {32, 64, 16, 1, 2, 1}, {64, 64, 8, 3, 1, 5}}},
		{"resnet18-cifar", []shape{{3, 64, 32, 3, 1, 1}, {64, 64, 32, 3, 1, 4},
			{64, 128, 32, 3, 2, 1}, {64, 128, 32, 1, 2, 1}, {128, 128, 16, 3, 1, 3},
			{128, 256, 16, 3, 2, 1}, {128, 256, 16, 1, 2, 1}, {256, 256, 8, 3, 1, 3},
			{256, 512, 8, 3, 2, 1}, {256, 512, 8, 1, 2, 1}, {512, 512, 4, 3, 1, 3}}},
	}
	const n = 128
	for _, net := range nets {
		var tot [3]time.Duration
		var totCPU [3]time.Duration
		for _, s := range net.shapes {
			p := conv.New(n, s.cin, s.hw, s.hw, s.cout, s.k, s.s, s.k/2)
			x := make([]float32, p.InputLen())
			w := make([]float32, p.WeightLen())
			y := make([]float32, p.OutputLen())
			for i := range x {
				x[i] = float32(i%13) - 6
			}
			for i := range w {
				w[i] = float32(i%7) * 0.01
			}
			dx, dw := make([]float32, len(x)), make([]float32, len(w))
			passes := []func(){
				func() { _ = conv.Forward(p, y, x, w, nil, 0) },
				func() { _ = conv.BackwardData(p, dx, y, w, 0) },
				func() { _ = conv.BackwardWeights(p, dw, nil, y, x, 1) },
			}
			flop := 2 * float64(n) * float64(p.OutputLen()/n) * float64(s.cin*s.k*s.k)
			line := fmt.Sprintf("%-15s %3d->%3d %2dx%-2d k%d s%d x%d:", net.name, s.cin, s.cout, s.hw, s.hw, s.k, s.s, s.count)
			for i, f := range passes {
				f()
				wall, cpu := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
				for r := 0; r < reps; r++ {
					c0, w0 := cpuTime(), time.Now()
					f()
					wall, cpu = min(wall, time.Since(w0)), min(cpu, cpuTime()-c0)
				}
				tot[i] += wall * time.Duration(s.count)
				totCPU[i] += cpu * time.Duration(s.count)
				line += fmt.Sprintf("  %s %6.1f ms wall, %6.1f ms cpu = %4.0f GFLOP per cpu-s", []string{"fwd", "bwd-data", "bwd-w"}[i], ms(wall), ms(cpu), flop/cpu.Seconds()/1e9)
			}
			t.Log(line)
		}
		t.Logf("%-15s total over the network's convolutions: fwd %.1f ms, bwd-data %.1f ms, bwd-w %.1f ms (cpu %.1f, %.1f, %.1f ms)",
			net.name, ms(tot[0]), ms(tot[1]), ms(tot[2]), ms(totCPU[0]), ms(totCPU[1]), ms(totCPU[2]))
	}
}
