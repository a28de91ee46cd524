package show

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
)

func TestDecadeTicks(t *testing.T) {
	ticks := DecadeTicks{}.Ticks(1e-24, 2)
	labels := 0
	for _, tk := range ticks {
		if tk.Label != "" {
			labels++
			if strings.Contains(tk.Label, "00000") {
				t.Errorf("ugly label %q", tk.Label)
			}
		}
	}
	if len(ticks) != 25 || labels < 12 || labels > 14 {
		t.Errorf("%d ticks, %d labels: %+v", len(ticks), labels, ticks)
	}
	var narrow []string
	for _, tk := range (DecadeTicks{}).Ticks(0.6, 3) {
		if tk.Label != "" {
			narrow = append(narrow, tk.Label)
		}
	}
	if strings.Join(narrow, " ") != "0.6 0.7 0.8 0.9 1 2 3" {
		t.Errorf("labels in [0.6, 3]: %q", narrow)
	}
	narrow = nil
	for _, tk := range (DecadeTicks{}).Ticks(0.015, 0.9) {
		if tk.Label != "" {
			narrow = append(narrow, tk.Label)
		}
	}
	if strings.Join(narrow, " ") != "0.02 0.05 0.1 0.2 0.5" {
		t.Errorf("labels in [0.015, 0.9]: %q", narrow)
	}
}

func TestChartDefaults(t *testing.T) {
	c := NewChart("t", "step", "loss")
	c.LogY = true
	for i := 0; i <= 100; i++ {
		c.Add("a", float64(i), math.Exp(-float64(i)/10))
		c.Add("b", float64(i), math.Exp(-float64(i)/10)*1.001) // on top of a
		c.Add("c", float64(i), 1)
	}
	p, err := c.Plot()
	if err != nil {
		t.Fatal(err)
	}
	if p.X.Min >= 0 || p.X.Max <= 100 || p.Y.Max <= 1 || p.Y.Min >= math.Exp(-10) {
		t.Errorf("no 5%% margins: x [%g, %g], y [%g, %g]", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	}
	if math.Abs(p.X.Min+5) > 1e-9 || math.Abs(math.Log10(p.Y.Max)-math.Log10(1.001)-0.05*(10/math.Ln10+math.Log10(1.001))) > 1e-9 {
		t.Errorf("margins: x min %g (want -5), y max %g", p.X.Min, p.Y.Max)
	}
	b, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	w, h := displayWidth(b)
	cfg, _ := pngConfig(b)
	if cfg.Width/2 != w || w < 600 || h < 300 {
		t.Errorf("PNG %dx%d px shown at %dx%d: want 2x", cfg.Width, cfg.Height, w, h)
	}
	if !strings.Contains(chartImgTag(b, "t"), fmt.Sprintf(`width="%d"`, w)) {
		t.Error("the <img> of a chart has no display width")
	}
}

func TestDashOverlaps(t *testing.T) {
	c := NewChart("t", "x", "y")
	var lines []*plotter.Line
	var drawn []plotter.XYs
	for k, off := range []float64{0, 0.001, 5} {
		pts := plotter.XYs{{X: 0, Y: off}, {X: 1, Y: 1 + off}, {X: 2, Y: 4 + off}}
		l, _ := plotter.NewLine(pts)
		lines, drawn = append(lines, l), append(drawn, pts)
		_ = k
	}
	var all plotter.XYs
	for _, d := range drawn {
		all = append(all, d...)
	}
	c.dashOverlaps(lines, drawn, all)
	if len(lines[0].Dashes) != 0 || len(lines[1].Dashes) == 0 || len(lines[2].Dashes) != 0 {
		t.Errorf("dashes %v %v %v: want only the overplotted second series dashed", lines[0].Dashes, lines[1].Dashes, lines[2].Dashes)
	}
}

func TestCleanTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{{0, 125, "0 20 40 60 80 100 120"}, {0, 1.5, "0.0 0.5 1.0 1.5"}, {25, 125, "40 60 80 100 120"}, {-0.003, 0.002, "-0.003 -0.002 -0.001 0.000 0.001 0.002"}, {0, 3e6, "0 5e+05 1e+06 1.5e+06 2e+06 2.5e+06 3e+06"}} {
		var got []string
		for _, tk := range (CleanTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("[%g, %g]: labels %q, want %q", tc.lo, tc.hi, g, tc.want)
		}
	}
}

func TestDecadeLabelsEveryDecade(t *testing.T) {
	var got []string
	for _, tk := range (DecadeTicks{}).Ticks(1e-8, 1) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if len(got) != 9 {
		t.Errorf("1e-8..1: labels %q, want one per decade", got)
	}
}

func TestVLineDrawn(t *testing.T) {
	c := NewChart("t", "x", "y")
	c.LogY = true
	c.Add("loss", 1, 2)
	c.Add("loss", 10, 0.5)
	c.VLines = append(c.VLines, VLine{Name: "switch", X: 7})
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "switch") {
		t.Error("the vertical line's legend entry is missing")
	}
}
