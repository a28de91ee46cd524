package nn

import (
	"fmt"
	"strings"
)

// SummaryRow describes one leaf layer of a model.
type SummaryRow struct {
	Name     string // hierarchical name ("layer1.0.conv1")
	Kind     string // PyTorch class name ("Conv2d", "BatchNorm2d", ...)
	Detail   string // hyper-parameters ("3->64, k3 s1 p1")
	OutShape []int  // output shape for the summarized input shape
	Params   int    // learnable scalars
	FLOPs    int64  // forward floating-point operations (a multiply-add counts 2)
}

// Summary is a readable table of a model's leaf layers for one input shape.
type Summary struct {
	Input       []int
	Output      []int
	Rows        []SummaryRow
	TotalParams int
	TotalFLOPs  int64
}

// Summarize traces m on an input shape (batch first; shapes only, nothing is
// computed) and lists its leaf layers in forward order.
func Summarize[T Float](m Module[T], in []int) (*Summary, error) {
	s := &Summary{Input: append([]int(nil), in...)}
	out, err := trace(m, in, s)
	if err != nil {
		return nil, err
	}
	s.Output = out
	for _, r := range s.Rows {
		s.TotalParams += r.Params
		s.TotalFLOPs += r.FLOPs
	}
	return s, nil
}

func trace[T Float](m Module[T], in []int, s *Summary) ([]int, error) {
	switch b := m.(type) {
	case *Sequential[T]:
		var err error
		for _, l := range b.Layers {
			if in, err = trace(l, in, s); err != nil {
				return nil, err
			}
		}
		return in, nil
	case Residual[T]:
		// The block's own wiring: main path, shortcut, the addition, then
		// the layers after it.
		out, err := b.OutShape(in)
		if err != nil {
			return nil, err
		}
		main, shortcut, post := b.Wiring()
		h := in
		for _, l := range main {
			h, _ = trace(l, h, s)
		}
		if shortcut != nil {
			trace(shortcut, in, s)
		}
		s.Rows = append(s.Rows, SummaryRow{Name: joinName(b.Name(), "add"), Kind: "Add", OutShape: out, FLOPs: int64(prod(out))})
		for _, l := range post {
			trace(l, out, s)
		}
		return out, nil
	case Container[T]:
		var err error
		for _, l := range b.Children() {
			if in, err = trace(l, in, s); err != nil {
				return nil, err
			}
		}
		return in, nil
	}
	out, err := m.OutShape(in)
	if err != nil {
		return nil, err
	}
	r := SummaryRow{Name: m.Name(), OutShape: out}
	for _, p := range m.Params() {
		r.Params += len(p.Data)
	}
	no := int64(prod(out))
	switch l := m.(type) {
	case *Conv2d[T]:
		r.Kind = "Conv2d"
		r.Detail = fmt.Sprintf("%d->%d, k%d s%d p%d", l.In, l.Out, l.K, l.Stride, l.Pad)
		if l.Dil != 1 {
			r.Detail += fmt.Sprintf(" d%d", l.Dil)
		}
		r.FLOPs = l.flops(in)
		if l.Bias != nil {
			r.FLOPs += no
		}
	case *Linear[T]:
		r.Kind = "Linear"
		r.Detail = fmt.Sprintf("%d->%d", l.In, l.Out)
		if l.Bias == nil {
			r.Detail += ", no bias"
		}
		r.FLOPs = 2 * int64(in[0]) * int64(l.In) * int64(l.Out)
	case *BatchNorm[T]:
		r.Kind, r.Detail, r.FLOPs = l.kindName, fmt.Sprint(l.C), 2*no
	case *Activation[T]:
		r.Kind, r.FLOPs = l.Kind.String(), no
	case *Pool2d[T]:
		r.Kind = l.kind()
		r.Detail = fmt.Sprintf("k%d s%d p%d", l.K, l.Stride, l.Pad)
		r.FLOPs = no * int64(l.K*l.K)
	case *GlobalAvgPool[T]:
		r.Kind, r.FLOPs = "GlobalAvgPool", int64(prod(in))
	case *Flatten[T]:
		r.Kind = "Flatten"
	case *Dropout[T]:
		r.Kind, r.Detail = "Dropout", fmt.Sprintf("p=%g", l.P)
	case Describer:
		r.Kind, r.Detail, r.FLOPs = l.Describe(in, out)
	default:
		r.Kind = fmt.Sprintf("%T", m)
	}
	s.Rows = append(s.Rows, r)
	return out, nil
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// String renders the summary as an aligned text table.
func (s *Summary) String() string {
	header := []string{"layer", "type", "detail", "output", "params", "FLOPs"}
	rows := [][]string{header}
	for _, r := range s.Rows {
		rows = append(rows, []string{r.Name, r.Kind, r.Detail, fmt.Sprint(r.OutShape), fmt.Sprint(r.Params), humanCount(r.FLOPs)})
	}
	w := make([]int, len(header))
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len(c))
		}
	}
	var b strings.Builder
	for k, r := range rows {
		for i, c := range r {
			if i >= 4 {
				fmt.Fprintf(&b, "  %*s", w[i], c)
			} else {
				fmt.Fprintf(&b, "%-*s  ", w[i], c)
			}
		}
		b.WriteString("\n")
		if k == 0 {
			b.WriteString(strings.Repeat("-", sum(w)+2*len(w)) + "\n")
		}
	}
	fmt.Fprintf(&b, "input %v -> output %v; %d parameters (%s); %s FLOPs forward\n",
		s.Input, s.Output, s.TotalParams, humanCount(int64(s.TotalParams)), humanCount(s.TotalFLOPs))
	return b.String()
}

func sum(s []int) int {
	t := 0
	for _, v := range s {
		t += v
	}
	return t
}
