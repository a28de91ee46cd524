package theory

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// ColumnGroup names a contiguous range of Jacobian columns: one parameter.
type ColumnGroup struct {
	Name   string
	Shape  []int
	Offset int // first column
	Len    int
}

// Jacobian is the explicit N x D Jacobian of the stacked outputs of n
// examples with respect to the selected parameters, in float64.
//
// Row order: example-major, row a*m + j is output j of example a, so the
// stacked output vector is yhat = (f(x_1), ..., f(x_n)) and the targets must
// be stacked the same way (see StackTargets and OneHot).
type Jacobian struct {
	Mode     nn.Mode // nn.Eval: running statistics; nn.BatchStats: statistics of the n examples, coupled
	Examples int     // n
	Outputs  int     // m (outputs per example, all output dimensions flattened)
	N, D     int     // rows N = n*m, columns D
	Data     []float64
	Yhat     []float64     // stacked outputs f_X(theta), length N
	Columns  []ColumnGroup // one group per selected parameter, in Params() order
}

// Row returns row i (a view).
func (j *Jacobian) Row(i int) []float64 { return j.Data[i*j.D : (i+1)*j.D] }

// At returns J[i, k].
func (j *Jacobian) At(i, k int) float64 { return j.Data[i*j.D+k] }

// Group returns the column group of the named parameter, or nil.
func (j *Jacobian) Group(name string) *ColumnGroup {
	for i := range j.Columns {
		if j.Columns[i].Name == name {
			return &j.Columns[i]
		}
	}
	return nil
}

// SubColumns returns J restricted to the given column indices (a copy).
func (j *Jacobian) SubColumns(cols []int) *Jacobian {
	s := &Jacobian{Mode: j.Mode, Examples: j.Examples, Outputs: j.Outputs, N: j.N, D: len(cols), Yhat: j.Yhat}
	s.Data = make([]float64, j.N*len(cols))
	for i := 0; i < j.N; i++ {
		r := j.Row(i)
		for c, k := range cols {
			s.Data[i*len(cols)+c] = r[k]
		}
	}
	return s
}

// SubRows returns the rows of the given examples (all their outputs), a copy.
// In BatchStats mode these rows still are those of the full batch (the
// statistics of all n examples), which is what an example-subset check of
// the full model needs.
func (j *Jacobian) SubRows(examples []int) *Jacobian {
	m := j.Outputs
	s := &Jacobian{Mode: j.Mode, Examples: len(examples), Outputs: m, N: len(examples) * m, D: j.D, Columns: j.Columns}
	s.Data = make([]float64, 0, s.N*j.D)
	s.Yhat = make([]float64, 0, s.N)
	for _, a := range examples {
		for o := 0; o < m; o++ {
			s.Data = append(s.Data, j.Row(a*m+o)...)
			s.Yhat = append(s.Yhat, j.Yhat[a*m+o])
		}
	}
	return s
}

// Columns of a parameter group selection.
func (j *Jacobian) GroupColumns(names ...string) []int {
	var cols []int
	for _, g := range j.Columns {
		if slices.Contains(names, g.Name) {
			for k := 0; k < g.Len; k++ {
				cols = append(cols, g.Offset+k)
			}
		}
	}
	return cols
}

// SelectParams returns the parameters of m whose names equal one of the
// patterns or start with a pattern ending in "." (e.g. "layer1." or "fc.");
// no pattern selects all parameters.
func SelectParams(m nn.Module[float64], patterns ...string) []*nn.Param[float64] {
	all := m.Params()
	if len(patterns) == 0 {
		return all
	}
	var ps []*nn.Param[float64]
	for _, p := range all {
		for _, pat := range patterns {
			if p.Name == pat || (strings.HasSuffix(pat, ".") && strings.HasPrefix(p.Name, pat)) {
				ps = append(ps, p)
				break
			}
		}
	}
	return ps
}

// JacobianOptions configures Jacobian computations.
type JacobianOptions struct {
	// Mode is nn.Eval (running statistics; examples independent) or
	// nn.BatchStats (statistics of the given batch: all n examples go
	// through ONE forward pass, so the coupling is exact). nn.Train is
	// refused (it would move the running statistics).
	Mode nn.Mode
	// Params restricts the columns to these parameters (nil: all, in
	// Params() order). See SelectParams.
	Params []*nn.Param[float64]
	// Workers is the number of model replicas that run backward passes in
	// parallel (0: GOMAXPROCS; 1: the model alone). Replicas are deep copies
	// (lib/models models, Sequentials of plain layers); results are
	// identical for every worker count.
	Workers int
}

func (o *JacobianOptions) params(m nn.Module[float64]) []*nn.Param[float64] {
	if o.Params != nil {
		return o.Params
	}
	return m.Params()
}

func columnGroups(ps []*nn.Param[float64]) ([]ColumnGroup, int) {
	gs := make([]ColumnGroup, len(ps))
	off := 0
	for i, p := range ps {
		gs[i] = ColumnGroup{Name: p.Name, Shape: p.Shape, Offset: off, Len: len(p.Data)}
		off += len(p.Data)
	}
	return gs, off
}

// rowVisitor receives row r of J restricted to columns [c0, c1) of the
// selected parameter vector. row is reused after the call. It may be called
// concurrently for different rows (one goroutine per worker).
type rowVisitor func(r int, row []float64) error

// forEachRow runs the backward passes that build J row by row (row r =
// J^T e_r by one Backward with a unit upstream gradient) and hands the
// columns [c0, c1) of each row to visit. It returns the stacked outputs and
// the output count m. Param.Grad is saved and restored.
//
// Eval mode runs each example alone (batch of 1: exact, since examples are
// independent, and n times cheaper than backward passes over the whole
// batch); BatchStats runs the n examples as one batch. With workers > 1 the
// rows are shared among replicas of the model (deep copies: lib/models models
// and Sequentials of plain layers; otherwise one worker is used).
func forEachRow(m nn.Module[float64], x *tensor.Tensor[float64], mode nn.Mode, ps []*nn.Param[float64], c0, c1 int, workers int, visit rowVisitor) (yhat []float64, outs int, err error) {
	if mode == nn.Train {
		return nil, 0, fmt.Errorf("theory: Jacobian in Train mode would update batch-norm running statistics; use nn.BatchStats or nn.Eval")
	}
	x = x.Contiguous()
	shp := x.Shape()
	if len(shp) < 1 || shp[0] < 1 {
		return nil, 0, fmt.Errorf("theory: input shape %v has no examples", shp)
	}
	n := shp[0]
	os, err := m.OutShape(shp)
	if err != nil {
		return nil, 0, err
	}
	outs = prod(os[1:])
	yhat = make([]float64, n*outs)
	all := m.Params()
	pindex := map[*nn.Param[float64]]int{}
	for i, p := range all {
		pindex[p] = i
	}
	sel := make([]int, len(ps))
	for i, p := range ps {
		k, ok := pindex[p]
		if !ok {
			return nil, 0, fmt.Errorf("theory: parameter %q is not a parameter of the model", p.Name)
		}
		sel[i] = k
	}
	saved := make([][]float64, len(all))
	for i, p := range all {
		saved[i] = slices.Clone(p.Grad)
	}
	defer func() {
		for i, p := range all {
			copy(p.Grad, saved[i])
		}
	}()
	// work items: Eval: one per example; BatchStats: one per row.
	items := n
	if mode != nn.Eval {
		items = n * outs
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, items))
	replicas := []nn.Module[float64]{m}
	for w := 1; w < workers; w++ {
		r, err := replicate(m)
		if err != nil {
			break
		}
		replicas = append(replicas, r)
	}
	run := func(w int, rm nn.Module[float64]) error {
		rps := rm.Params()
		row := make([]float64, c1-c0)
		extract := func() {
			off, k := 0, 0
			for _, i := range sel {
				g := rps[i].Grad
				lo, hi := max(c0-off, 0), min(c1-off, len(g))
				if lo < hi {
					k += copy(row[k:], g[lo:hi])
				}
				off += len(g)
			}
		}
		backward := func(dy *tensor.Tensor[float64], i, r int) error {
			nn.ZeroGrad(rm)
			dd := dy.Data()
			dd[i] = 1
			if _, err := rm.Backward(dy); err != nil {
				return err
			}
			dd[i] = 0
			extract()
			return visit(r, row)
		}
		if mode == nn.Eval {
			for a := w; a < n; a += len(replicas) {
				xb, err := x.Slice(0, a, a+1)
				if err != nil {
					return err
				}
				y, err := rm.Forward(xb.Contiguous(), mode)
				if err != nil {
					return err
				}
				y = y.Contiguous()
				copy(yhat[a*outs:(a+1)*outs], y.Data())
				dy := tensor.Must(tensor.Zeros[float64](y.Shape()...))
				for i := 0; i < outs; i++ {
					if err := backward(dy, i, a*outs+i); err != nil {
						return err
					}
				}
			}
			return nil
		}
		y, err := rm.Forward(x, mode)
		if err != nil {
			return err
		}
		y = y.Contiguous()
		if w == 0 {
			copy(yhat, y.Data())
		}
		dy := tensor.Must(tensor.Zeros[float64](y.Shape()...))
		for r := w; r < n*outs; r += len(replicas) {
			if err := backward(dy, r, r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(replicas) == 1 {
		return yhat, outs, run(0, m)
	}
	errs := make([]error, len(replicas))
	var wg sync.WaitGroup
	for w, rm := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = run(w, rm)
		}()
	}
	wg.Wait()
	return yhat, outs, errors.Join(errs...)
}

// replicate deep-copies a model for a parallel worker (nn.Clone: every
// lib/nn layer, lib/models models, and any layer implementing nn.Cloner).
func replicate(m nn.Module[float64]) (nn.Module[float64], error) { return nn.Clone(m) }

// ComputeJacobian builds the explicit Jacobian J (N x D) of the stacked
// outputs of the n examples in x (batch first) with N backward passes with
// unit upstream gradients. It needs 8*N*D bytes; check PlanMemory first for
// large models.
func ComputeJacobian(m nn.Module[float64], x *tensor.Tensor[float64], opt JacobianOptions) (*Jacobian, error) {
	ps := opt.params(m)
	gs, d := columnGroups(ps)
	n := x.Shape()[0]
	os, err := m.OutShape(x.Shape())
	if err != nil {
		return nil, err
	}
	data := make([]float64, n*prod(os[1:])*d)
	yhat, outs, err := forEachRow(m, x, opt.Mode, ps, 0, d, opt.Workers, func(r int, row []float64) error {
		copy(data[r*d:(r+1)*d], row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Jacobian{Mode: opt.Mode, Examples: n, Outputs: outs, N: n * outs, D: d, Data: data, Yhat: yhat, Columns: gs}, nil
}

// Outputs evaluates the stacked outputs f_X(theta) (length n*m) in the given
// mode without touching gradients.
func Outputs(m nn.Module[float64], x *tensor.Tensor[float64], mode nn.Mode) ([]float64, int, error) {
	if mode == nn.Train {
		return nil, 0, fmt.Errorf("theory: Outputs in Train mode would update running statistics")
	}
	y, err := m.Forward(x.Contiguous(), mode)
	if err != nil {
		return nil, 0, err
	}
	y = y.Contiguous()
	return slices.Clone(y.Data()), y.Numel() / x.Shape()[0], nil
}

// JTu computes J^T u (length D) matrix-free with ONE backward pass over the
// whole batch with upstream gradient u (stacked like yhat), by nn.VJP,
// restricted to the selected parameters (opt.Params, or all of m's).
// Param.Grad is left as it was.
func JTu(m nn.Module[float64], x *tensor.Tensor[float64], u []float64, opt JacobianOptions) ([]float64, error) {
	if opt.Mode == nn.Train {
		return nil, fmt.Errorf("theory: JTu in Train mode would update running statistics")
	}
	x = x.Contiguous()
	os, err := m.OutShape(x.Shape())
	if err != nil {
		return nil, err
	}
	if n := prod(os); n != len(u) {
		return nil, fmt.Errorf("theory: JTu: u has %d entries, outputs have %d", len(u), n)
	}
	dy, err := tensor.FromSlice(slices.Clone(u), os...)
	if err != nil {
		return nil, err
	}
	_, g, err := nn.VJP(m, x, dy, opt.Mode, nil)
	if err != nil {
		return nil, err
	}
	if opt.Params == nil {
		return g, nil
	}
	off := map[*nn.Param[float64]]int{}
	k := 0
	for _, p := range m.Params() {
		off[p] = k
		k += len(p.Data)
	}
	var sel []float64
	for _, p := range opt.Params {
		o, ok := off[p]
		if !ok {
			return nil, fmt.Errorf("theory: parameter %q is not a parameter of the model", p.Name)
		}
		sel = append(sel, g[o:o+len(p.Data)]...)
	}
	return sel, nil
}

// Jv computes J v (length N) matrix-free by one exact forward-mode pass
// (nn.JVPParams: the layers' ForwardJVP rules); v is laid out as the
// selected parameters (opt.Params, or all of m's parameters), the others
// having tangent zero. It also returns the stacked outputs.
func Jv(m nn.Module[float64], x *tensor.Tensor[float64], v []float64, opt JacobianOptions) (jv, yhat []float64, err error) {
	if opt.Mode == nn.Train {
		return nil, nil, fmt.Errorf("theory: JVP in Train mode would update batch-norm running statistics; use nn.BatchStats (batch statistics, examples coupled) or nn.Eval")
	}
	ps := opt.params(m)
	if n := paramLen(ps); n != len(v) {
		return nil, nil, fmt.Errorf("theory: direction has %d entries, parameters have %d", len(v), n)
	}
	y, dy, err := nn.JVPParams(m, x.Contiguous(), nil, ps, v, opt.Mode)
	if err != nil {
		return nil, nil, err
	}
	return slices.Clone(dy.Contiguous().Data()), slices.Clone(y.Contiguous().Data()), nil
}

func paramLen(ps []*nn.Param[float64]) int {
	n := 0
	for _, p := range ps {
		n += len(p.Data)
	}
	return n
}

// MatVec returns J v for the explicit Jacobian.
func (j *Jacobian) MatVec(v []float64) []float64 {
	out := make([]float64, j.N)
	for i := range out {
		var s float64
		for k, a := range j.Row(i) {
			s += a * v[k]
		}
		out[i] = s
	}
	return out
}

// TMatVec returns J^T u for the explicit Jacobian.
func (j *Jacobian) TMatVec(u []float64) []float64 {
	out := make([]float64, j.D)
	for i := 0; i < j.N; i++ {
		if u[i] == 0 {
			continue
		}
		for k, a := range j.Row(i) {
			out[k] += a * u[i]
		}
	}
	return out
}

// This package's modules run under nn.JVP like lib/nn's layers.
var (
	_ nn.JVPModule[float64] = (*Softmax)(nil)
	_ nn.JVPModule[float64] = (*Scaled)(nil)
	_ nn.JVPModule[float64] = (*AlignedModel[float64])(nil)
	_ nn.JVPModule[float32] = (*AlignedModel[float32])(nil)
)
