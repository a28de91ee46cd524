package show

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named curve of a Chart.
type Series struct {
	Name   string
	X, Y   []float64
	Points bool // draw markers at the data points too
}

// Add appends a point.
func (s *Series) Add(x, y float64) { s.X = append(s.X, x); s.Y = append(s.Y, y) }

// HLine is a labelled horizontal reference line (a peak, a threshold).
type HLine struct {
	Name string
	Y    float64
}

// VLine is a labelled vertical reference line (a switch point, an epoch).
type VLine struct {
	Name string
	X    float64
}

// Chart is a line chart drawn with gonum/plot.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []*Series
	HLines                []HLine
	VLines                []VLine
	LogX, LogY            bool
	// Width and Height of the image; 0 means 16cm x 9cm.
	Width, Height vg.Length
}

// NewChart returns an empty chart.
func NewChart(title, xlabel, ylabel string) *Chart {
	return &Chart{Title: title, XLabel: xlabel, YLabel: ylabel}
}

// Line adds (or returns the existing) series with this name.
func (c *Chart) Line(name string) *Series {
	for _, s := range c.Series {
		if s.Name == name {
			return s
		}
	}
	s := &Series{Name: name}
	c.Series = append(c.Series, s)
	return s
}

// Add appends the point (x, y) to the series named name.
func (c *Chart) Add(name string, x, y float64) { c.Line(name).Add(x, y) }

// Plot builds the gonum plot, for callers who want to customize it.
func (c *Chart) Plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Add(plotter.NewGrid())
	if c.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = DecadeTicks{}
	}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = DecadeTicks{}
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	var all plotter.XYs // every drawn point, to place the legend
	for i, s := range c.Series {
		n := min(len(s.X), len(s.Y))
		pts := make(plotter.XYs, 0, n)
		for j := range n {
			x, y := s.X[j], s.Y[j]
			if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(y, 0) || (c.LogY && y <= 0) || (c.LogX && x <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
			all = append(all, plotter.XY{X: x, Y: y})
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		if s.Points || len(pts) == 1 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			sc.Color = l.Color
			sc.Shape = draw.CircleGlyph{}
			p.Add(sc)
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, l)
		}
	}
	if math.IsInf(xmin, 1) {
		xmin, xmax = 0, 1
	}
	p.Legend.Top, p.Legend.Left = c.legendCorner(all)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, q := range all {
		ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
	}
	for _, h := range c.HLines {
		ymin, ymax = math.Min(ymin, h.Y), math.Max(ymax, h.Y)
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 0, 1
	}
	for i, v := range c.VLines {
		if err := refLine(p, i, v.Name, plotter.XYs{{X: v.X, Y: ymin}, {X: v.X, Y: ymax}}); err != nil {
			return nil, err
		}
	}
	for i, h := range c.HLines {
		if err := refLine(p, len(c.VLines)+i, h.Name, plotter.XYs{{X: xmin, Y: h.Y}, {X: xmax, Y: h.Y}}); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// refLine draws the i-th reference line (dashed, a shade of gray) through
// pts, with a legend entry when it has a name.
func refLine(p *plot.Plot, i int, name string, pts plotter.XYs) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = color.Gray{Y: uint8(60 + 40*(i%3))}
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

// legendCorner picks the corner of the plot area with the fewest data
// points (top right on a tie), so the legend does not hide the curves.
func (c *Chart) legendCorner(pts plotter.XYs) (top, left bool) {
	if len(pts) == 0 {
		return true, false
	}
	tr := func(v float64, log bool) float64 {
		if log {
			return math.Log(v)
		}
		return v
	}
	x0, x1 := math.Inf(1), math.Inf(-1)
	y0, y1 := math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		x, y := tr(q.X, c.LogX), tr(q.Y, c.LogY)
		x0, x1 = math.Min(x0, x), math.Max(x1, x)
		y0, y1 = math.Min(y0, y), math.Max(y1, y)
	}
	// The legend box spans about 35% of the width and 30% of the height.
	var count [2][2]int // [top][left]
	for _, q := range pts {
		fx := (tr(q.X, c.LogX) - x0) / math.Max(x1-x0, 1e-300)
		fy := (tr(q.Y, c.LogY) - y0) / math.Max(y1-y0, 1e-300)
		for t := 0; t < 2; t++ {
			for l := 0; l < 2; l++ {
				inX := (l == 1 && fx <= 0.35) || (l == 0 && fx >= 0.65)
				inY := (t == 1 && fy >= 0.7) || (t == 0 && fy <= 0.3)
				if inX && inY {
					count[t][l]++
				}
			}
		}
	}
	best := count[1][0]
	top, left = true, false
	for _, cand := range [][2]int{{1, 1}, {0, 0}, {0, 1}} {
		if n := count[cand[0]][cand[1]]; n < best {
			best, top, left = n, cand[0] == 1, cand[1] == 1
		}
	}
	return top, left
}

func (c *Chart) size() (vg.Length, vg.Length) {
	w, h := c.Width, c.Height
	if w == 0 {
		w = 16 * vg.Centimeter
	}
	if h == 0 {
		h = 9 * vg.Centimeter
	}
	return w, h
}

// Encode renders the chart as "png" or "svg".
func (c *Chart) Encode(format string) ([]byte, error) {
	p, err := c.Plot()
	if err != nil {
		return nil, err
	}
	w, h := c.size()
	return EncodePlot(p, w, h, format)
}

// PNG renders the chart as PNG.
func (c *Chart) PNG() ([]byte, error) { return c.Encode("png") }

// SVG renders the chart as SVG.
func (c *Chart) SVG() ([]byte, error) { return c.Encode("svg") }

// EncodePlot renders any gonum plot as "png" or "svg".
func EncodePlot(p *plot.Plot, w, h vg.Length, format string) ([]byte, error) {
	wt, err := p.WriterTo(w, h, format)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Show displays the chart as a PNG (outside a notebook: a text summary of
// each series).
func (c *Chart) Show() error {
	if !notebook() {
		textf("%s", c.Summary())
		return nil
	}
	b, err := c.PNG()
	if err != nil {
		return err
	}
	rich.png(b)
	return nil
}

// ShowPlot displays any gonum plot as a PNG of the given size.
func ShowPlot(p *plot.Plot, w, h vg.Length) error {
	b, err := EncodePlot(p, w, h, "png")
	if err != nil {
		return err
	}
	PNG(b)
	return nil
}

// Summary describes the chart in text: per series, the number of points and
// the last, minimum and maximum values.
func (c *Chart) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chart %q (%s vs %s)\n", c.Title, c.YLabel, c.XLabel)
	for _, s := range c.Series {
		n := min(len(s.X), len(s.Y))
		if n == 0 {
			fmt.Fprintf(&b, "  %-16s (no points)\n", s.Name)
			continue
		}
		ys := append([]float64(nil), s.Y[:n]...)
		sort.Float64s(ys)
		fmt.Fprintf(&b, "  %-16s %d points, last (%.4g, %.4g), min %.4g, max %.4g\n",
			s.Name, n, s.X[n-1], s.Y[n-1], ys[0], ys[n-1])
	}
	for _, h := range c.HLines {
		fmt.Fprintf(&b, "  %-16s y = %.4g\n", h.Name, h.Y)
	}
	return b.String()
}
