package theory

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	repblas "repdyn/lib/blas"
	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// The tests run on repdyn's BLAS, as the programs do (lib/cmd/repdyn
// registers it; the library does not).
func init() { blas64.Use(repblas.Implementation{}) }

// randomize fills every parameter with N(0, scale^2) and the batch-norm
// running statistics with non-trivial values, so eval mode is not the identity.
func randomize(m nn.Module[float64], seed uint64, scale float64) {
	r := tensor.NewRNG(seed)
	for _, p := range m.Params() {
		for i := range p.Data {
			p.Data[i] = scale * r.Normal()
		}
	}
	for _, b := range m.Buffers() {
		switch {
		case len(b.Name) > 12 && b.Name[len(b.Name)-12:] == "running_mean":
			for i := range b.Data {
				b.Data[i] = 0.1 * r.Normal()
			}
		case len(b.Name) > 11 && b.Name[len(b.Name)-11:] == "running_var":
			for i := range b.Data {
				b.Data[i] = 0.5 + r.Float64()
			}
		}
	}
}

func randInput(seed uint64, shape ...int) *tensor.Tensor[float64] {
	t := tensor.Must(tensor.New[float64](shape...))
	r := tensor.NewRNG(seed)
	d := t.Data()
	for i := range d {
		d[i] = r.Normal()
	}
	return t
}

// tinyMLP: 5 -> 6 (tanh) -> 4 (relu) -> 3 with a BatchNorm1d in between.
func tinyMLP(bn bool) nn.Module[float64] {
	ls := []nn.Module[float64]{nn.NewLinear[float64]("l0", 5, 6, true), nn.NewTanh[float64]("t0")}
	if bn {
		ls = append(ls, nn.NewBatchNorm1d[float64]("bn", 6))
	}
	ls = append(ls, nn.NewLinear[float64]("l1", 6, 4, true), nn.NewLeakyReLU[float64]("r1", 0.1),
		nn.NewLinear[float64]("head", 4, 3, true))
	m := nn.NewSequential[float64]("", ls...)
	randomize(m, 7, 0.7)
	return m
}

// tinyResNet: models' CIFAR ResNet-8 at width 1/4 (4, 8, 16 channels) on
// 2x6x6 inputs with 3 classes.
func tinyResNet(t testing.TB) *models.Model[float64] {
	m, err := models.CIFARResNet[float64](8, models.Config{InChannels: 2, NumClasses: 3, Width: 0.25, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	randomize(m, 11, 0.4)
	return m
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num = max(num, math.Abs(a[i]-b[i]))
		den = max(den, math.Abs(b[i]))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// gemmNT computes C = A B^T (+C if beta=1), A [n,k], B [m,k], C [n,m].
func gemmNT(n, m, k int, a, b []float64, beta float64, c []float64) {
	if n == 0 || m == 0 {
		return
	}
	if k == 0 {
		if beta == 0 {
			clear(c)
		}
		return
	}
	blas64.Implementation().Dgemm(blas.NoTrans, blas.Trans, n, m, k, 1, a, k, b, k, beta, c, m)
}
