package lesson

import (
	"math"
	"strings"
	"testing"

	"repdyn/notebook/show"
)

func TestSizePick(t *testing.T) {
	for env, want := range map[string]string{"": "default", "ci": "ci", "FULL": "full", "bogus": "default"} {
		t.Setenv("REPDYN_SIZE", env)
		if got := Size(); got != want {
			t.Errorf("REPDYN_SIZE=%q: Size %q, want %q", env, got, want)
		}
	}
	t.Setenv("REPDYN_SIZE", "ci")
	if Pick(1, 2, 3) != 1 {
		t.Error("Pick ci")
	}
	t.Setenv("REPDYN_SIZE", "full")
	if Pick(1, 2, 3) != 3 {
		t.Error("Pick full")
	}
}

func TestClaimLine(t *testing.T) {
	v := show.NewVerdicts("sufficiency").Add("final loss", 1e-12, "<=", 1e-8).Add("rho", 0.5, "<", 0.1)
	l := ClaimLine("C3", v)
	if !strings.HasPrefix(l, "REPDYN-CLAIM C3 FAIL | sufficiency | final loss = 1e-12 <= 1e-08 | rho = 0.5 < 0.1 (FAILED)") {
		t.Errorf("line %q", l)
	}
	v.Checks = v.Checks[:1]
	if l := ClaimLine("C3", v); !strings.HasPrefix(l, "REPDYN-CLAIM C3 PASS") {
		t.Errorf("line %q", l)
	}
}

// GD on L(theta) = ||theta - c||^2 converges at rate (1 - 2 lr)^2 per step.
func TestGDQuadratic(t *testing.T) {
	theta := []float64{3, -1}
	c := []float64{1, 2}
	run, err := GD([][]float64{theta[:1], theta[1:]}, func() (float64, []float64, error) {
		r := Sub(theta, c)
		return Dot(r, r), Scale(2, r), nil
	}, DescentConfig{LR: 0.25, Steps: 40, Measure: func(p *Point) error { p.Extra["x"] = theta[0]; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if run.Final.Step != 40 || run.Final.Loss > 1e-20 {
		t.Errorf("final %+v", run.Final)
	}
	x, y := run.Series("loss")
	if len(x) != 5 || x[4] != 40 || math.Abs(y[1]-y[0]*math.Pow(0.25, 10)) > 1e-12 {
		t.Errorf("series %v %v", x, y)
	}
	if _, xs := run.Series("x"); len(xs) != 5 {
		t.Errorf("extra %v", xs)
	}
	theta[0], theta[1] = 3, -1
	run, err = GD([][]float64{theta}, func() (float64, []float64, error) {
		r := Sub(theta, c)
		return Dot(r, r), Scale(2, r), nil
	}, DescentConfig{LR: 0.25, Steps: 1000, StopBelow: 1e-10})
	if err != nil || run.Final.Step >= 1000 || run.Final.Loss > 1e-10 || run.Points[len(run.Points)-1].Step != run.Final.Step {
		t.Errorf("StopBelow: %+v %v", run.Final, err)
	}
	if _, err := GD([][]float64{theta}, func() (float64, []float64, error) { return math.NaN(), []float64{0, 0}, nil }, DescentConfig{LR: 1, Steps: 1}); err == nil {
		t.Error("NaN loss accepted")
	}
}

func TestData(t *testing.T) {
	a, b := Gaussian(3, 2, 7), Gaussian(3, 2, 7)
	if len(a) != 6 || Dot(Sub(a, b), Sub(a, b)) != 0 {
		t.Error("Gaussian not deterministic")
	}
	for _, l := range Labels(100, 3, 1) {
		if l < 0 || l >= 3 {
			t.Fatal(l)
		}
	}
	if got := LogTicks(10); len(got) != 6 || got[5] != 10 {
		t.Error(got)
	}
}

func TestShowChart(t *testing.T) {
	c := show.NewChart("t", "x", "y")
	c.LogY = true
	c.Add("a", 1, 1e-3)
	c.Add("a", 2, 1)
	if err := ShowChart(c); err != nil {
		t.Fatal(err)
	}
}
