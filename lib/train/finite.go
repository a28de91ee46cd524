package train

import (
	"fmt"
	"math"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// NonFiniteError reports a NaN or Inf found during a training step, naming
// where it first appeared.
type NonFiniteError struct {
	Step  int    // optimizer steps completed before the failing step
	Epoch int    // epoch of the failing batch
	Batch int    // batch index within the epoch
	Where string // "input", "parameter", "buffer", "forward", "loss" or "gradient"
	// Name is the parameter, buffer or module that first held or produced a
	// non-finite value ("layer2.0.conv1.weight", "layer2.0.bn1"); "" when
	// Where is "input" or "loss".
	Name  string
	Value float64 // the first non-finite value found
	Loss  float64
	// Checkpoint is set when the value was found in the state about to be
	// written to this checkpoint (which was then not written).
	Checkpoint string
}

func (e *NonFiniteError) Error() string {
	var what string
	switch e.Where {
	case "input":
		what = "the input batch contains non-finite values"
	case "parameter":
		what = fmt.Sprintf("parameter %q holds a non-finite value", e.Name)
	case "buffer":
		what = fmt.Sprintf("buffer %q holds a non-finite value", e.Name)
	case "forward":
		what = fmt.Sprintf("layer %q produced the first non-finite activation", e.Name)
	case "gradient":
		what = fmt.Sprintf("the gradient of parameter %q is the first non-finite one (in backpropagation order)", e.Name)
	default:
		what = "the loss function returned a non-finite value from finite logits"
	}
	if e.Checkpoint != "" {
		return fmt.Sprintf("train: not writing checkpoint %s: %s (%v) after %d steps",
			e.Checkpoint, what, e.Value, e.Step)
	}
	return fmt.Sprintf("train: non-finite value (%v) at epoch %d, batch %d (after %d steps; loss %v): %s",
		e.Value, e.Epoch+1, e.Batch, e.Step, e.Loss, what)
}

// firstNonFinite returns the index of the first NaN or Inf in x, or -1.
func firstNonFinite[T nn.Float](x []T) int {
	// Fast path: x*0 is 0 for finite x and NaN otherwise.
	const block = 256
	for i := 0; i < len(x); i += block {
		end := min(i+block, len(x))
		var s T
		for _, v := range x[i:end] {
			s += v * 0
		}
		if s != s {
			for j := i; j < end; j++ {
				if f := float64(x[j]); math.IsNaN(f) || math.IsInf(f, 0) {
					return j
				}
			}
		}
	}
	return -1
}

// checkGrads returns the non-finite gradient closest to the output (the
// first one produced by backpropagation): the last parameter in Params order
// whose gradient is not finite.
func checkGrads[T nn.Float](params []*nn.Param[T]) (name string, v float64, ok bool) {
	for i := len(params) - 1; i >= 0; i-- {
		if j := firstNonFinite(params[i].Grad); j >= 0 {
			return params[i].Name, float64(params[i].Grad[j]), false
		}
	}
	return "", 0, true
}

// checkState looks for non-finite values in the parameters (forward order)
// and then the buffers of m.
func checkState[T nn.Float](m nn.Module[T]) (where, name string, v float64, ok bool) {
	return checkStateWith(m, nil)
}

// checkStateWith is checkState with the buffers' values taken from bufs
// when it is not nil (a snapshot, as save writes it).
func checkStateWith[T nn.Float](m nn.Module[T], bufs [][]T) (where, name string, v float64, ok bool) {
	for _, p := range m.Params() {
		if j := firstNonFinite(p.Data); j >= 0 {
			return "parameter", p.Name, float64(p.Data[j]), false
		}
	}
	for i, b := range m.Buffers() {
		d := b.Data
		if bufs != nil {
			d = bufs[i]
		}
		if j := firstNonFinite(d); j >= 0 {
			return "buffer", b.Name, float64(d[j]), false
		}
	}
	return "", "", 0, true
}

// diagnoseForward finds the first module whose output is non-finite for the
// finite input x. It runs the model again in BatchStats mode (running
// statistics untouched), descending into nn.Sequential children in order
// and into the paths of nn.BasicBlock and nn.PreActBlock; other modules are
// named as a whole. It
// returns the module's name ("(model)" for an unnamed top level) or "" if the
// forward pass is finite.
func diagnoseForward[T nn.Float](m nn.Module[T], x *tensor.Tensor[T]) (string, float64) {
	name, v, _ := descend(m, x)
	return name, v
}

func descend[T nn.Float](m nn.Module[T], x *tensor.Tensor[T]) (string, float64, *tensor.Tensor[T]) {
	switch b := m.(type) {
	case nn.Residual[T]:
		// Main path, then the shortcut, then the block as a whole (the sum).
		main, shortcut, _ := b.Wiring()
		if name, v, y := descendSeq(main, x); name != "" || y == nil {
			return name, v, nil
		}
		if shortcut != nil {
			if name, v, y := descend(shortcut, x); name != "" || y == nil {
				return name, v, nil
			}
		}
	case nn.Container[T]: // Sequential (and lib/models models, which embed one)
		return descendSeq(b.Children(), x)
	}
	return forwardCheck(m, x)
}

func descendSeq[T nn.Float](layers []nn.Module[T], x *tensor.Tensor[T]) (string, float64, *tensor.Tensor[T]) {
	for _, l := range layers {
		name, v, y := descend(l, x)
		if name != "" || y == nil {
			return name, v, nil
		}
		// Layers may reuse their output buffers; copy before the next layer.
		x = y.Clone()
	}
	return "", 0, x
}

func forwardCheck[T nn.Float](m nn.Module[T], x *tensor.Tensor[T]) (string, float64, *tensor.Tensor[T]) {
	y, err := m.Forward(x, nn.BatchStats)
	if err != nil {
		return "", 0, nil
	}
	d := y.Contiguous().Data()
	if j := firstNonFinite(d); j >= 0 {
		name := m.Name()
		if name == "" {
			name = "(model)"
		}
		return name, float64(d[j]), nil
	}
	return "", 0, y
}
