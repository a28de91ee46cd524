package lesson

import (
	"errors"
	"math"
	"testing"

	"repdyn/lib/models"
	"repdyn/lib/nn"
)

func TestSquaredLossGradient(t *testing.T) {
	m := models.SmallMLP(3, []int{5}, 2, nn.ActTanh, true, 1)
	x := Inputs(Gaussian(4, 3, 1), 4, 3)
	y := Targets(4, 2, 2)
	f := SquaredLoss(m, x, y)
	_, g, err := f()
	if err != nil {
		t.Fatal(err)
	}
	ps := Params(m)
	k := 0
	for _, p := range ps {
		for i := range p {
			old := p[i]
			p[i] = old + 1e-6
			lp, _, _ := f()
			p[i] = old - 1e-6
			lm, _, _ := f()
			p[i] = old
			if fd := (lp - lm) / 2e-6; math.Abs(fd-g[k]) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Fatalf("parameter %d: gradient %g, finite difference %g", k, g[k], fd)
			}
			k++
		}
	}
	if k != len(g) {
		t.Fatalf("%d parameters, gradient %d", k, len(g))
	}
	J := Must(Jacobian(m, x))
	if J.N != 8 || J.D != k {
		t.Fatalf("Jacobian %dx%d", J.N, J.D)
	}
}

func TestMustExits(t *testing.T) {
	code := -1
	old := exit
	exit = func(c int) { code = c }
	defer func() { exit = old }()
	if v := Must(3, nil); v != 3 || code != -1 {
		t.Fatal("Must with no error")
	}
	Check(errors.New("boom"))
	if code != 1 {
		t.Fatalf("Must with an error: exit %d", code)
	}
	if Key("a", 1) == Key("a", 2) {
		t.Fatal("Key ignores its configuration")
	}
}
