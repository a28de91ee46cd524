package show

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

func pngConfig(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }

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

// Plot builds the gonum plot, for callers who want to customize it. Its
// legend holds the series and reference lines; Encode and Show draw that
// legend outside the axes (beside or below them), EncodePlot inside.
func (c *Chart) Plot() (*plot.Plot, error) {
	useChartFonts()
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Add(lightGrid())
	if c.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = DecadeTicks{}
	} else {
		p.X.Tick.Marker = CleanTicks{}
	}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = DecadeTicks{}
	} else {
		p.Y.Tick.Marker = CleanTicks{}
	}
	var all plotter.XYs // every drawn point, for the margins
	var drawn []plotter.XYs
	var lines []*plotter.Line
	nth := 0
	for _, s := range c.Series {
		n := min(len(s.X), len(s.Y))
		pts := make(plotter.XYs, 0, n)
		for j := range n {
			x, y := s.X[j], s.Y[j]
			if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) || (c.LogY && y <= 0) || (c.LogX && x <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		if len(pts) == 0 {
			continue
		}
		all = append(all, pts...)
		drawn = append(drawn, pts)
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = Palette[nth%len(Palette)]
		l.Width = vg.Points(1.75)
		nth++
		p.Add(l)
		lines = append(lines, l)
		if s.Points || len(pts) == 1 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			sc.Color = l.Color
			sc.Shape = draw.CircleGlyph{}
			sc.Radius = vg.Points(2.5)
			p.Add(sc)
			if s.Name != "" {
				p.Legend.Add(s.Name, l, sc)
			}
		} else if s.Name != "" {
			p.Legend.Add(s.Name, l)
		}
	}
	c.dashOverlaps(lines, drawn, all)
	x0, x1, y0, y1 := bounds(all)
	for _, h := range c.HLines {
		y0, y1 = math.Min(y0, h.Y), math.Max(y1, h.Y)
	}
	for _, v := range c.VLines {
		x0, x1 = math.Min(x0, v.X), math.Max(x1, v.X)
	}
	if math.IsInf(x0, 1) {
		x0, x1 = 0, 1
	}
	if math.IsInf(y0, 1) {
		y0, y1 = 0, 1
	}
	for i, v := range c.VLines {
		if err := refLine(p, i, v.Name, plotter.XYs{{X: v.X, Y: y0}, {X: v.X, Y: y1}}); err != nil {
			return nil, err
		}
	}
	for i, h := range c.HLines {
		if err := refLine(p, len(c.VLines)+i, h.Name, plotter.XYs{{X: x0, Y: h.Y}, {X: x1, Y: h.Y}}); err != nil {
			return nil, err
		}
	}
	p.X.Min, p.X.Max = pad(x0, x1, c.LogX)
	p.Y.Min, p.Y.Max = pad(y0, y1, c.LogY)
	return p, nil
}

// Palette is the colour-blind-safe Okabe-Ito palette (yellow left out: too
// light on white), in the order charts use it.
var Palette = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xff}, // blue
	color.RGBA{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	color.RGBA{0x00, 0x9E, 0x73, 0xff}, // bluish green
	color.RGBA{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	color.RGBA{0xE6, 0x9F, 0x00, 0xff}, // orange
	color.RGBA{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	color.RGBA{0x00, 0x00, 0x00, 0xff}, // black
}

// dashes are the patterns of series drawn over others and of reference
// lines, so that a line hidden under another still shows.
var dashes = [][]vg.Length{
	{vg.Points(6), vg.Points(3)},
	{vg.Points(2), vg.Points(2)},
	{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
	{vg.Points(4), vg.Points(4)},
}

// dashOverlaps gives a dash pattern to every series that runs within 1.5% of
// the axis ranges of an earlier one at all its points (same x values), so
// that overplotted series all show.
func (c *Chart) dashOverlaps(lines []*plotter.Line, drawn []plotter.XYs, all plotter.XYs) {
	x0, x1, y0, y1 := bounds(all)
	tx, ty := transform(c.LogX), transform(c.LogY)
	sx, sy := math.Max(tx(x1)-tx(x0), 1e-300), math.Max(ty(y1)-ty(y0), 1e-300)
	k := 0
	group := make([]int, len(lines)) // series j lies on series group[j]
	for j := range group {
		group[j] = j
	}
	for j := 1; j < len(drawn) && j < len(lines); j++ {
		for i := 0; i < j; i++ {
			a, b := drawn[i], drawn[j]
			if len(a) != len(b) {
				continue
			}
			close := true
			for q := range a {
				if math.Abs(tx(a[q].X)-tx(b[q].X)) > 0.015*sx || math.Abs(ty(a[q].Y)-ty(b[q].Y)) > 0.015*sy {
					close = false
					break
				}
			}
			if close {
				lines[j].Dashes = dashes[k%len(dashes)]
				group[j] = group[i]
				k++
				break
			}
		}
	}
	widenOverlaps(lines, group)
}

// widen the series of each overlapping group from the top down, so that the
// ones underneath show around the dashed ones drawn over them.
func widenOverlaps(lines []*plotter.Line, group []int) {
	above := make([]int, len(lines))
	for j := len(lines) - 1; j >= 0; j-- {
		for i := j + 1; i < len(lines); i++ {
			if group[i] == group[j] {
				above[j]++
			}
		}
		lines[j].Width += vg.Points(1.1 * float64(min(above[j], 3)))
	}
}

func transform(log bool) func(float64) float64 {
	if log {
		return math.Log10
	}
	return func(v float64) float64 { return v }
}

func bounds(pts plotter.XYs) (x0, x1, y0, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, q := range pts {
		x0, x1 = math.Min(x0, q.X), math.Max(x1, q.X)
		y0, y1 = math.Min(y0, q.Y), math.Max(y1, q.Y)
	}
	return x0, x1, y0, y1
}

// pad widens [lo, hi] by 5% on each side (in log10 on a log axis), so that
// no curve touches the frame; a single value gets a range around it.
func pad(lo, hi float64, log bool) (float64, float64) {
	if log {
		a, b := math.Log10(lo), math.Log10(hi)
		if b-a < 1e-12 {
			a, b = a-0.5, b+0.5
		}
		m := 0.05 * (b - a)
		return math.Pow(10, a-m), math.Pow(10, b+m)
	}
	if hi-lo < 1e-12*math.Max(math.Abs(lo), math.Abs(hi)) || hi == lo {
		d := math.Max(math.Abs(lo)*0.1, 1)
		return lo - d, hi + d
	}
	m := 0.05 * (hi - lo)
	return lo - m, hi + m
}

// lightGrid is a thin light-gray grid.
func lightGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	return g
}

var fontOnce sync.Once

// useChartFonts makes gonum/plot draw in Liberation Sans (shipped with
// gonum/plot, so every machine renders the same).
func useChartFonts() {
	fontOnce.Do(func() {
		plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
		plotter.DefaultFont = plot.DefaultFont
	})
}

// refLine draws the i-th reference line (dashed, a shade of gray) through
// pts, with a legend entry when it has a name.
func refLine(p *plot.Plot, i int, name string, pts plotter.XYs) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = color.Gray{Y: uint8(70 + 35*(i%3))}
	l.Width = vg.Points(1.25)
	l.Dashes = dashes[(i+1)%len(dashes)]
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
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

// Scale is the resolution of chart PNGs relative to their display size
// (2: sharp on high-density screens); Show displays them at 1x.
const Scale = 2

// Encode renders the chart as "png" (at Scale times 96 dpi) or "svg", with
// the legend outside the axes: at the right when it is narrow, else below.
func (c *Chart) Encode(format string) ([]byte, error) {
	p, err := c.Plot()
	if err != nil {
		return nil, err
	}
	w, h := c.size()
	leg := p.Legend
	p.Legend = plot.NewLegend() // drawn outside the axes below
	leg.Top, leg.Left = true, true
	leg.Padding = vg.Points(3)
	leg.ThumbnailWidth = vg.Points(28)
	leg.TextStyle.Font.Size = vg.Points(10)
	var legW, legH vg.Length
	n := 0
	for _, name := range legendNames(c) {
		legW = max(legW, leg.TextStyle.Width(name))
		n++
	}
	right := true
	if n > 0 {
		legW += leg.ThumbnailWidth + 3*leg.Padding
		legH = vg.Length(n)*(leg.TextStyle.Height("Xg")+leg.Padding) + leg.Padding
		if legW > 0.3*w || p.Title.TextStyle.Width(p.Title.Text) > w-legW { // a long title needs the full width
			right = false
			h += legH + vg.Points(6)
		}
	}
	var cv vg.CanvasWriterTo
	switch format {
	case "png":
		cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96*Scale))}
	case "svg":
		cv = vgsvg.New(w, h)
	default:
		return nil, fmt.Errorf("show: chart format %q: want png or svg", format)
	}
	dc := draw.New(cv)
	plotC := dc
	switch {
	case n == 0:
	case right:
		plotC = draw.Crop(dc, 0, -legW, 0, 0)
		leg.Draw(draw.Crop(dc, w-legW, 0, vg.Points(24), -vg.Points(24)))
	default:
		plotC = draw.Crop(dc, 0, 0, legH+vg.Points(6), 0)
		legC := draw.Crop(dc, vg.Points(40), 0, 0, 0)
		legC.Max.Y = legC.Min.Y + legH
		leg.Draw(legC)
	}
	// The y label is drawn here, centred on the axis: gonum/plot v0.17
	// centres it at the linear midpoint of the range, which on a log axis
	// sits near the top and shrinks the plot.
	if ylab := p.Y.Label.Text; ylab != "" {
		sty := p.Y.Label.TextStyle
		p.Y.Label.Text = ""
		rot := sty
		rot.Rotation += math.Pi / 2
		x := plotC.Min.X + sty.Height(ylab) - sty.FontExtents().Descent // the rotated text ends at x
		plotC.FillText(rot, vg.Point{X: x, Y: plotC.Center().Y}, ylab)
		plotC = draw.Crop(plotC, sty.Height(ylab)+p.Y.Label.Padding+vg.Points(6), 0, 0, 0)
	}
	p.Draw(plotC)
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// legendNames lists the legend entries Plot makes.
func legendNames(c *Chart) []string {
	var names []string
	for _, s := range c.Series {
		if s.Name != "" && len(s.X) > 0 && len(s.Y) > 0 {
			names = append(names, s.Name)
		}
	}
	for _, v := range c.VLines {
		if v.Name != "" {
			names = append(names, v.Name)
		}
	}
	for _, h := range c.HLines {
		if h.Name != "" {
			names = append(names, h.Name)
		}
	}
	return names
}

// PNG renders the chart as PNG (Scale times its display resolution).
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

// displayWidth is the width in CSS pixels at which a chart PNG of pixel
// width px is shown.
func displayWidth(png []byte) (w, h int) {
	cfg, err := pngConfig(png)
	if err != nil {
		return 0, 0
	}
	return cfg.Width / Scale, cfg.Height / Scale
}

// chartImgTag is an <img> of a chart PNG at its display size.
func chartImgTag(png []byte, alt string) string {
	w, _ := displayWidth(png)
	return strings.Replace(imgTag(png, alt), "<img ", fmt.Sprintf(`<img width="%d" `, w), 1)
}

// showChartPNG displays a chart PNG as image/png with its display size in
// the output's metadata (Jupyter scales it to 1x).
func showChartPNG(png []byte) {
	w, h := displayWidth(png)
	if s, ok := rich.(interface{ pngSized([]byte, int, int) }); ok && w > 0 {
		s.pngSized(png, w, h)
		return
	}
	rich.png(png)
}

func (gonbSender) pngSized(png []byte, w, h int) {
	gonbui.SendData(&protocol.DisplayData{
		Data:     map[protocol.MIMEType]any{protocol.MIMEImagePNG: png},
		Metadata: map[string]any{string(protocol.MIMEImagePNG): map[string]int{"width": w, "height": h}}, // a type GoNB registers with gob
	})
	gonbui.Sync()
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
	showChartPNG(b)
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
