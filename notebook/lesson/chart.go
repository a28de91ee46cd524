package lesson

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"repdyn/notebook/show"
)

// DecadeTicks labels a logarithmic axis at powers of ten ("1e-08", "0.01",
// "1", "100"), at most about eight labels whatever the range, with unlabelled
// ticks at the other decades; over two decades or less it also labels 2 and 5
// times each power and marks the other multiples. (gonum's LogTicks with Prec -1 prints inexact
// powers such as 1.0000000000000004e-05 over wide ranges.)
type DecadeTicks struct{}

// Ticks implements plot.Ticker.
func (DecadeTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= 0 || math.IsNaN(min) || math.IsNaN(max) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	narrow := hi-lo <= 2 // label 1, 2 and 5 times each power of ten
	step := max1((hi-lo+7)/8, 1)
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		for m := 1; m <= 9; m++ {
			if m > 1 && (!narrow && step > 1) {
				break
			}
			v := float64(m) * math.Pow10(e)
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			switch {
			case m == 1 && e%step == 0:
				t.Label = decadeLabel(e)
			case narrow && (m == 2 || m == 5):
				t.Label = mantissaLabel(m, e)
			}
			ticks = append(ticks, t)
		}
	}
	if len(ticks) < 2 {
		return plot.LogTicks{Prec: 2}.Ticks(min, max)
	}
	return ticks
}

// mantissaLabel formats m * 10^e.
func mantissaLabel(m, e int) string {
	if e >= -3 && e <= 2 {
		return strconv.FormatFloat(float64(m)*math.Pow10(e), 'f', max1(-e, 0), 64)
	}
	return fmt.Sprintf("%de%+03d", m, e)
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
