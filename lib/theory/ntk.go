package theory

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"repdyn/lib/linalg"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// NTK is the empirical neural tangent kernel K = J J^T (N x N, row-major,
// rows ordered as Jacobian rows) of n examples in a recorded batch-norm mode.
type NTK struct {
	Mode     nn.Mode
	Examples int
	Outputs  int
	N        int
	K        []float64
	Yhat     []float64
	Plan     *MemPlan
	J        *Jacobian // set when the explicit strategy ran and NTKOptions.KeepJ
}

// NTKOptions configures ComputeNTK.
type NTKOptions struct {
	JacobianOptions
	// Budget bounds the memory of J blocks plus K (bytes; 0:
	// DefaultMemoryBudget). The plan is respected: if no strategy fits,
	// ComputeNTK returns an error before computing anything.
	Budget int64
	// Log receives the memory plan before computing (nil: not printed).
	Log io.Writer
	// KeepJ keeps the explicit Jacobian in the result when it was built.
	KeepJ bool
}

// ComputeNTK computes K = J J^T blockwise: it plans memory (printed to
// opt.Log, returned in NTK.Plan), then builds J whole or in chunks of
// parameter columns, accumulating K by symmetric rank-k updates (Dsyrk).
func ComputeNTK(m nn.Module[float64], x *tensor.Tensor[float64], opt NTKOptions) (*NTK, error) {
	ps := opt.params(m)
	_, d := columnGroups(ps)
	os, err := m.OutShape(x.Shape())
	if err != nil {
		return nil, err
	}
	outs := prod(os[1:])
	n := x.Shape()[0]
	N := n * outs
	plan := PlanNTK(N, d, opt.Budget)
	if opt.Log != nil {
		fmt.Fprint(opt.Log, plan)
	}
	if plan.Chosen < 0 {
		return nil, fmt.Errorf("theory: NTK of N=%d, D=%d does not fit the budget %s:\n%s", N, d, human(plan.Budget), plan)
	}
	res := &NTK{Mode: opt.Mode, Examples: n, Outputs: outs, N: N, K: make([]float64, N*N), Plan: plan}
	chunk := plan.Strategies[plan.Chosen].ChunkCols
	for c0 := 0; c0 < d; c0 += chunk {
		c1 := min(c0+chunk, d)
		w := c1 - c0
		block := make([]float64, N*w)
		yhat, _, err := forEachRow(m, x, opt.Mode, ps, c0, c1, opt.Workers, func(r int, row []float64) error {
			copy(block[r*w:(r+1)*w], row)
			return nil
		})
		if err != nil {
			return nil, err
		}
		res.Yhat = yhat
		gramAccumulate(res.K, block, N, w)
		if opt.KeepJ && c0 == 0 && c1 == d {
			gs, _ := columnGroups(ps)
			res.J = &Jacobian{Mode: opt.Mode, Examples: n, Outputs: outs, N: N, D: d, Data: block, Yhat: res.Yhat, Columns: gs}
		}
	}
	symmetrize(res.K, N)
	return res, nil
}

// KernelOf returns K = J J^T of an explicit Jacobian.
func KernelOf(j *Jacobian) *NTK {
	k := &NTK{Mode: j.Mode, Examples: j.Examples, Outputs: j.Outputs, N: j.N, K: make([]float64, j.N*j.N), Yhat: j.Yhat, J: j}
	gramAccumulate(k.K, j.Data, j.N, j.D)
	symmetrize(k.K, j.N)
	return k
}

// GemmChunk is the number of Jacobian columns per GEMM call in K += J J^T:
// it bounds the GEMM's packing workspace to about 2 * 8 * N * GemmChunk bytes
// (counted in the memory plan).
const GemmChunk = 2048

// gramAccumulate adds A A^T to the LOWER triangle of the n x n matrix k, A
// row-major n x w, by symmetric rank-k updates (Dsyrk: half the flops of
// the full product) in column chunks of GemmChunk (bounded workspace); call
// symmetrize after the last update.
func gramAccumulate(k, a []float64, n, w int) {
	impl := blas64.Implementation()
	for c0 := 0; c0 < w; c0 += GemmChunk {
		c := min(GemmChunk, w-c0)
		impl.Dsyrk(blas.Lower, blas.NoTrans, n, c, 1, a[c0:], w, 1, k, n)
	}
}

// symmetrize copies the lower triangle of k onto the upper one.
func symmetrize(k []float64, n int) {
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			k[i*n+j] = k[j*n+i]
		}
	}
}

// At returns K[i, j].
func (k *NTK) At(i, j int) float64 { return k.K[i*k.N+j] }

// Eigen returns all eigenvalues of K in descending order (gonum EigenSym;
// for moderate N) and, if vectors, the eigenvectors as columns of an N x N
// matrix in the same order.
func (k *NTK) Eigen(vectors bool) ([]float64, *mat.Dense, error) {
	return linalg.EigenSymDesc(k.K, k.N, vectors)
}

// TopEigen returns the k largest eigenvalues of K by Lanczos (see Lanczos).
func (k *NTK) TopEigen(nev int, seed uint64) ([]float64, error) {
	N := k.N
	return linalg.Lanczos(func(dst, v []float64) {
		blas64.Implementation().Dgemv(blas.NoTrans, N, N, 1, k.K, N, v, 1, 0, dst, 1)
	}, N, nev, 0, seed)
}

// NTKMatVec returns the matrix-free operator u -> K u = J (J^T u): one
// backward pass (JTu) and one forward-mode pass (Jv) per product.
func NTKMatVec(m nn.Module[float64], x *tensor.Tensor[float64], opt JacobianOptions) func(dst, u []float64) {
	return func(dst, u []float64) {
		g, err := JTu(m, x, u, opt)
		if err != nil {
			panic(err)
		}
		jv, _, err := Jv(m, x, g, opt)
		if err != nil {
			panic(err)
		}
		copy(dst, jv)
	}
}

// KernelDistance is ||K_t - K_0||_F / ||K_0||_F.
func KernelDistance(k0, kt *NTK) float64 {
	var num, den float64
	for i, a := range k0.K {
		d := kt.K[i] - a
		num += d * d
		den += a * a
	}
	if den == 0 {
		if num == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return math.Sqrt(num / den)
}

// KernelTargetAlignment is <K, y y^T>_F / (||K||_F ||y||^2) = y^T K y /
// (||K||_F ||y||^2), in [0, 1] for PSD K; y stacked like the Jacobian rows.
func KernelTargetAlignment(k *NTK, y []float64) float64 {
	N := k.N
	ky := make([]float64, N)
	blas64.Implementation().Dgemv(blas.NoTrans, N, N, 1, k.K, N, y, 1, 0, ky, 1)
	var fro float64
	for _, v := range k.K {
		fro += v * v
	}
	yy := dot(y, y)
	return dot(y, ky) / (math.Sqrt(fro) * yy)
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func nrm2(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func scal(a []float64, s float64) {
	for i := range a {
		a[i] *= s
	}
}

func axpy(s float64, x, y []float64) {
	for i, v := range x {
		y[i] += s * v
	}
}
