package theory_test

import (
	"fmt"

	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
	"repdyn/lib/theory"
)

// The DAA and CMS reports of a small batch-norm ResNet on 4 examples.
func Example() {
	m, _ := models.New[float64]("resnet20", models.Config{InChannels: 1, NumClasses: 3, Width: 0.25, Seed: 1})
	x := tensor.Must(tensor.New[float64](4, 1, 8, 8))
	r := tensor.NewRNG(1)
	for i := range x.Data() {
		x.Data()[i] = r.Normal()
	}
	y := theory.OneHot([]int{0, 1, 2, 0}, 3, 1)
	rep, J, _ := theory.AnalyzeDAA(m, x, y, theory.JacobianOptions{Mode: nn.BatchStats}, theory.DAAOptions{})
	cms, _ := theory.CMSAuto("resnet20", m, x, nn.BatchStats)
	fmt.Println(J.N, rep.PerTau[1].Rank, rep.Verdict, J.D == nn.NumParams(m))
	fmt.Println(cms.Result("last affine layer").Holds)
	// Output:
	// 12 12 holds for every target (rank J = N at every tau) true
	// true
}
