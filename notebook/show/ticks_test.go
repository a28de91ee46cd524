package show

import (
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
	if len(ticks) != 25 || labels < 3 || labels > 9 {
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

func TestLegendCorner(t *testing.T) {
	// A rising curve fills the top right and the bottom left.
	c := NewChart("t", "x", "y")
	for i := 0; i <= 100; i++ {
		c.Add("up", float64(i), float64(i))
	}
	if top, left := c.legendCorner(allPoints(c)); !top || !left {
		t.Errorf("rising curve: legend top=%v left=%v, want top left", top, left)
	}
	// A falling loss curve on a log axis leaves the top right free.
	c = NewChart("t", "x", "y")
	c.LogY = true
	for i := 0; i <= 100; i++ {
		c.Add("loss", float64(i), math.Exp(-float64(i)/10))
	}
	if top, left := c.legendCorner(allPoints(c)); !top || left {
		t.Errorf("falling curve: legend top=%v left=%v, want top right", top, left)
	}
}

func allPoints(c *Chart) plotter.XYs {
	var pts plotter.XYs
	for _, s := range c.Series {
		for i := range s.X {
			pts = append(pts, plotter.XY{X: s.X[i], Y: s.Y[i]})
		}
	}
	return pts
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
