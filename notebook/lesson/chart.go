package lesson

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"repdyn/notebook/show"
)

// DecadeTicks labels a logarithmic axis at powers of ten ("1e-08", "0.01",
// "1", "100"), at most about eight labels whatever the range, with unlabelled
// ticks at the other decades. (gonum's LogTicks with Prec -1 prints inexact
// powers such as 1.0000000000000004e-05 over wide ranges.)
type DecadeTicks struct{}

// Ticks implements plot.Ticker.
func (DecadeTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= 0 || math.IsNaN(min) || math.IsNaN(max) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	step := max1((hi-lo+7)/8, 1)
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		v := math.Pow10(e)
		if v < min*(1-1e-9) || v > max*(1+1e-9) {
			continue
		}
		t := plot.Tick{Value: v}
		if e%step == 0 {
			t.Label = decadeLabel(e)
		}
		ticks = append(ticks, t)
	}
	if len(ticks) < 2 { // less than a decade: fall back to gonum's default
		return plot.LogTicks{Prec: 2}.Ticks(min, max)
	}
	return ticks
}

func max1(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// ShowChart displays c like c.Show, with DecadeTicks on its logarithmic axes.
func ShowChart(c *show.Chart) error {
	if !show.InNotebook() {
		return c.Show()
	}
	p, err := c.Plot()
	if err != nil {
		return err
	}
	if c.LogX {
		p.X.Tick.Marker = DecadeTicks{}
	}
	if c.LogY {
		p.Y.Tick.Marker = DecadeTicks{}
	}
	w, h := c.Width, c.Height
	if w == 0 {
		w = 16 * vg.Centimeter
	}
	if h == 0 {
		h = 9 * vg.Centimeter
	}
	return show.ShowPlot(p, w, h)
}

// decadeLabel formats 10^e exactly: "0.001".."1000", else "1e-08" style.
func decadeLabel(e int) string {
	if e >= -3 && e <= 3 {
		return fmt.Sprintf("%g", math.Pow10(e))
	}
	sign := "+"
	if e < 0 {
		sign, e = "-", -e
	}
	return fmt.Sprintf("1e%s%02d", sign, e)
}
