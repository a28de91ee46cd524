package show

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// DecadeTicks labels a logarithmic axis at powers of ten ("1e-08", "0.01",
// "1", "100"): every decade up to 16 decades, every second (and so on)
// beyond, with unlabelled ticks at the other decades; over two decades or less it also labels 2 and 5
// times each power and marks the other multiples. (gonum's LogTicks with Prec -1 prints inexact
// powers such as 1.0000000000000004e-05 over wide ranges.)
type DecadeTicks struct{}

// Ticks implements plot.Ticker.
func (DecadeTicks) Ticks(vmin, vmax float64) []plot.Tick {
	if vmin <= 0 || vmax <= 0 || math.IsNaN(vmin) || math.IsNaN(vmax) || math.IsInf(vmin, 0) || math.IsInf(vmax, 0) {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(vmin))), int(math.Ceil(math.Log10(vmax)))
	narrow := hi-lo <= 2          // label 1, 2 and 5 times each power of ten
	step := max((hi-lo+15)/16, 1) // every decade up to 16 of them
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		for m := 1; m <= 9; m++ {
			if m > 1 && (!narrow && step > 1) {
				break
			}
			v := float64(m) * math.Pow10(e)
			if v < vmin*(1-1e-9) || v > vmax*(1+1e-9) {
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
	if labelled(ticks) < 3 && vmax/vmin <= 20 {
		// About a decade or less: label every multiple in range (0.6 0.7 ... 2).
		for i := range ticks {
			if m, e := mantissa(ticks[i].Value); ticks[i].Label == "" {
				ticks[i].Label = mantissaLabel(m, e)
			}
		}
	}
	if len(ticks) < 2 {
		return plot.LogTicks{Prec: 2}.Ticks(vmin, vmax)
	}
	return ticks
}

// labelled counts the ticks with a label.
func labelled(ticks []plot.Tick) int {
	n := 0
	for _, t := range ticks {
		if t.Label != "" {
			n++
		}
	}
	return n
}

// mantissa splits a tick value m * 10^e (m = 1..9) into m and e.
func mantissa(v float64) (m, e int) {
	e = int(math.Floor(math.Log10(v) + 1e-9))
	return int(math.Round(v / math.Pow10(e))), e
}

// mantissaLabel formats m * 10^e.
func mantissaLabel(m, e int) string {
	if e >= -3 && e <= 2 {
		return strconv.FormatFloat(float64(m)*math.Pow10(e), 'f', max(-e, 0), 64)
	}
	return fmt.Sprintf("%de%+03d", m, e)
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

// CleanTicks labels a linear axis every 1, 2 or 5 times a power of ten (3 to
// 8 labels, unlabelled ticks between), all labels in one format: the fewest
// decimals that tell them apart ("0.0 0.5 1.0 1.5", never "25.00 / 125"),
// exponents for very large or small values.
type CleanTicks struct{}

// niceTicks returns labelled ticks at multiples of a 1-2-5 step giving 4 to
// 8 labels in [vmin, vmax], with a minor tick halfway between them.
func niceTicks(vmin, vmax float64) []plot.Tick {
	if !(vmax > vmin) || math.IsInf(vmax-vmin, 0) {
		return plot.DefaultTicks{}.Ticks(vmin, vmax)
	}
	span := vmax - vmin
	step := math.Pow10(int(math.Floor(math.Log10(span / 8))))
	for _, m := range []float64{1, 2, 5, 10, 20, 50} {
		if span/(m*step) <= 7 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(vmin/step*2 - 1e-9); k <= math.Floor(vmax/step*2+1e-9); k++ {
		v := k * step / 2
		t := plot.Tick{Value: v}
		if int64(k)%2 == 0 {
			t.Label = "x"
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// Ticks implements plot.Ticker.
func (CleanTicks) Ticks(vmin, vmax float64) []plot.Tick {
	ticks := niceTicks(vmin, vmax)
	var major []float64
	big := 0.0
	for _, t := range ticks {
		if t.Label != "" {
			major = append(major, t.Value)
			big = math.Max(big, math.Abs(t.Value))
		}
	}
	if len(major) == 0 {
		return ticks
	}
	format := func(v float64) string {
		if math.Abs(v) < 1e-12*big {
			return "0"
		}
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	if big < 1e6 && big >= 1e-4 {
		dec := 0
		for ; dec < 8; dec++ {
			ok := true
			for _, v := range major {
				if math.Abs(v-roundTo(v, dec)) > 1e-9*math.Max(big, 1e-300) {
					ok = false
					break
				}
			}
			if ok {
				break
			}
		}
		format = func(v float64) string {
			if math.Abs(v) < 1e-12*big {
				v = 0
			}
			return strconv.FormatFloat(v, 'f', dec, 64)
		}
	}
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = format(ticks[i].Value)
		}
	}
	return ticks
}

func roundTo(v float64, dec int) float64 {
	p := math.Pow10(dec)
	return math.Round(v*p) / p
}
