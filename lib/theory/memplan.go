package theory

import (
	"fmt"
	"runtime"
	"strings"
)

// DefaultMemoryBudget is the budget (bytes) PlanNTK uses when none is given.
const DefaultMemoryBudget int64 = 4 << 30

// Strategy is one way to compute the NTK, with its cost.
type Strategy struct {
	Name       string
	PeakBytes  int64 // J storage + K + row buffers + GEMM workspace (model activations and replicas not included)
	Passes     int   // passes over all N rows (each = N backward passes)
	ChunkCols  int   // columns of J held at once
	Feasible   bool  // PeakBytes <= budget
	Describing string
}

// MemPlan is the memory plan of an NTK computation: sizes and the peak
// memory of each strategy, and the one chosen (the feasible one with the
// fewest passes). It is printed before computing and respected: the chosen
// strategy never holds more Jacobian columns than planned.
type MemPlan struct {
	N, D   int
	Budget int64
	JBytes int64 // the explicit Jacobian, 8*N*D
	KBytes int64 // the kernel, 8*N*N
	// Overhead estimates what every strategy needs besides J blocks and K:
	// parameters and gradients of the model and its worker replicas, and a
	// fixed allowance of 128 MiB for activations and the Go runtime.
	Overhead   int64
	Strategies []Strategy
	Chosen     int // index into Strategies, -1 when none is feasible
}

// PlanNTK plans K = J J^T for N rows and D columns within budget bytes
// (0: DefaultMemoryBudget).
func PlanNTK(N, D int, budget int64) *MemPlan {
	if budget <= 0 {
		budget = DefaultMemoryBudget
	}
	p := &MemPlan{N: N, D: D, Budget: budget, JBytes: 8 * int64(N) * int64(D), KBytes: 8 * int64(N) * int64(N), Chosen: -1}
	workers := int64(runtime.GOMAXPROCS(0))
	p.Overhead = 2*8*int64(D)*(workers+1) + 128<<20
	// a row buffer per worker, the GEMM packing workspace and the overhead
	row := 8*int64(D)*workers + 2*8*int64(N)*GemmChunk + p.Overhead
	full := Strategy{Name: "explicit", PeakBytes: p.JBytes + p.KBytes + row, Passes: 1, ChunkCols: D,
		Describing: "build all of J (N backward passes), then K = J J^T by symmetric rank-k updates"}
	full.Feasible = full.PeakBytes <= budget
	p.Strategies = append(p.Strategies, full)
	// Column chunks: keep N x c of J, K += J_c J_c^T, repeat the passes.
	avail := budget - p.KBytes - row
	c := 0
	if avail > 0 {
		c = int(avail / (8 * int64(N)))
	}
	ch := Strategy{Name: "column-chunks", Describing: "repeat the N backward passes once per chunk of parameter columns; K += J_c J_c^T"}
	if c >= 1 {
		c = min(c, D)
		ch.ChunkCols = c
		ch.Passes = (D + c - 1) / c
		ch.PeakBytes = 8*int64(N)*int64(c) + p.KBytes + row
		ch.Feasible = ch.PeakBytes <= budget
	} else {
		ch.PeakBytes = 8*int64(N) + p.KBytes + row
	}
	p.Strategies = append(p.Strategies, ch)
	for i, s := range p.Strategies {
		if s.Feasible && (p.Chosen < 0 || s.Passes < p.Strategies[p.Chosen].Passes) {
			p.Chosen = i
		}
	}
	return p
}

func human(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

func (p *MemPlan) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "NTK memory plan: N=%d rows, D=%d columns, budget %s\n", p.N, p.D, human(p.Budget))
	fmt.Fprintf(&sb, "  J (N x D float64): %s   K (N x N float64): %s   model/runtime overhead (est.): %s\n", human(p.JBytes), human(p.KBytes), human(p.Overhead))
	for i, s := range p.Strategies {
		mark := " "
		if i == p.Chosen {
			mark = "*"
		}
		fmt.Fprintf(&sb, " %s %-14s peak %-10s passes %-4d chunk %-9d feasible=%v  (%s)\n", mark, s.Name, human(s.PeakBytes), s.Passes, s.ChunkCols, s.Feasible, s.Describing)
	}
	if p.Chosen < 0 {
		sb.WriteString("  no strategy fits the budget\n")
	}
	return sb.String()
}

// Peak is the chosen strategy's planned peak in bytes (0 when none fits).
// A program may hand it to the Go runtime (debug.SetMemoryLimit) so that
// garbage collection keeps the heap near the plan instead of letting it grow
// to twice the live J; the library never sets process-wide limits itself.
func (p *MemPlan) Peak() int64 {
	if p.Chosen < 0 {
		return 0
	}
	return p.Strategies[p.Chosen].PeakBytes
}
