package theory

import (
	"fmt"
	"strings"
)

// LayerOf is the layer of a parameter name: all but its last component
// ("layer1.0.conv1.weight" -> "layer1.0.conv1", "fc.bias" -> "fc").
func LayerOf(param string) string {
	if i := strings.LastIndexByte(param, '.'); i >= 0 {
		return param[:i]
	}
	return param
}

// BlockOf returns the grouping by the first k components of a parameter
// name (BlockOf(2): "layer1.0.conv1.weight" -> "layer1.0", the residual
// block); names with fewer components keep all but the last (as LayerOf).
func BlockOf(k int) func(string) string {
	return func(param string) string {
		parts := strings.Split(param, ".")
		if len(parts) <= k {
			return LayerOf(param)
		}
		return strings.Join(parts[:k], ".")
	}
}

// LayerKernel is the kernel K_l = J_l J_l^T of one group of parameter
// columns (a layer or a block): K = sum_l K_l over the groups.
type LayerKernel struct {
	Layer  string
	Params []string
	K      *NTK
}

// LayerKernels splits K = J J^T into per-group kernels K_l = J_l J_l^T,
// the groups given by group(parameter name) (nil: LayerOf), in order of
// first appearance in J's columns.
func LayerKernels(J *Jacobian, group func(string) string) []LayerKernel {
	if group == nil {
		group = LayerOf
	}
	var out []LayerKernel
	index := map[string]int{}
	var cols [][]int
	for _, g := range J.Columns {
		l := group(g.Name)
		i, ok := index[l]
		if !ok {
			i = len(out)
			index[l] = i
			out = append(out, LayerKernel{Layer: l})
			cols = append(cols, nil)
		}
		out[i].Params = append(out[i].Params, g.Name)
		for k := 0; k < g.Len; k++ {
			cols[i] = append(cols[i], g.Offset+k)
		}
	}
	for i := range out {
		sub := J.SubColumns(cols[i])
		out[i].K = &NTK{Mode: J.Mode, Examples: J.Examples, Outputs: J.Outputs, N: J.N, K: make([]float64, J.N*J.N), Yhat: J.Yhat}
		gramAccumulate(out[i].K.K, sub.Data, sub.N, sub.D)
		symmetrize(out[i].K.K, J.N)
	}
	return out
}

// LayerKernelDistances is ||K_l,t - K_l,0||_F / ||K_l,0||_F for each group
// (the same groups in the same order, e.g. from LayerKernels at
// initialization and later): which layers leave the lazy regime (C1). A
// group whose initial kernel is zero gets +Inf if it moved, 0 otherwise.
func LayerKernelDistances(k0, kt []LayerKernel) ([]float64, error) {
	if len(k0) != len(kt) {
		return nil, fmt.Errorf("theory: LayerKernelDistances: %d vs %d groups", len(k0), len(kt))
	}
	d := make([]float64, len(k0))
	for i := range k0 {
		if k0[i].Layer != kt[i].Layer || k0[i].K.N != kt[i].K.N {
			return nil, fmt.Errorf("theory: LayerKernelDistances: group %d is %q (N=%d) vs %q (N=%d)", i, k0[i].Layer, k0[i].K.N, kt[i].Layer, kt[i].K.N)
		}
		d[i] = KernelDistance(k0[i].K, kt[i].K)
	}
	return d, nil
}
