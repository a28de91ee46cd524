package show

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

type capture struct {
	htmls   []string
	updates map[string][]string
	mds     []string
	pngs    [][]byte
	syncs   int
	plains  []string // text/plain parts given by htmlText and updateHTMLText
}

func (c *capture) html(s string) { c.htmls = append(c.htmls, s) }
func (c *capture) updateHTML(id, s string) {
	if c.updates == nil {
		c.updates = map[string][]string{}
	}
	c.updates[id] = append(c.updates[id], s)
}
func (c *capture) markdown(s string) { c.mds = append(c.mds, s) }
func (c *capture) png(b []byte)      { c.pngs = append(c.pngs, b) }
func (c *capture) sync()             { c.syncs++ }

// inNotebook makes the package send rich output to a capture.
func inNotebook(t *testing.T) *capture {
	c := &capture{}
	oldR, oldN := rich, notebook
	rich, notebook = c, func() bool { return true }
	t.Cleanup(func() { rich, notebook = oldR, oldN })
	return c
}

func textOut(t *testing.T) *bytes.Buffer {
	var b bytes.Buffer
	old := Out
	Out = &b
	t.Cleanup(func() { Out = old })
	return &b
}

func TestTableText(t *testing.T) {
	got := TableText([]string{"name", "value"}, [][]any{{"alpha", 1.5}, {"b", 12345678.0}, {"c"}})
	want := "name   value\n-----  ---------\nalpha  1.5\nb      1.235e+07\nc\n"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestTableHTMLEscapes(t *testing.T) {
	h := TableHTML([]string{"a<b"}, [][]any{{"<script>"}})
	if strings.Contains(h, "<script>") || !strings.Contains(h, "&lt;script&gt;") || !strings.Contains(h, "a&lt;b") {
		t.Fatalf("not escaped: %s", h)
	}
}

func TestTextFallback(t *testing.T) {
	out := textOut(t)
	Markdown("# title $x^2$")
	Table([]string{"k"}, [][]any{{1}})
	PNG([]byte{1, 2, 3})
	s := out.String()
	for _, w := range []string{"# title $x^2$", "k\n-\n1\n", "[image/png, 3 bytes]"} {
		if !strings.Contains(s, w) {
			t.Errorf("text output lacks %q:\n%s", w, s)
		}
	}
}

func TestChartPNGAndSVG(t *testing.T) {
	c := NewChart("GEMM", "n", "GFLOP/s")
	for i := 1; i <= 5; i++ {
		c.Add("ours", float64(i*64), float64(i*10))
		c.Add("gonum", float64(i*64), float64(i*5))
	}
	c.HLines = append(c.HLines, HLine{"peak", 60})
	c.LogX = true
	b, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() < 300 {
		t.Fatalf("image too small: %v", img.Bounds())
	}
	svg, err := c.SVG()
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Fatalf("svg: %v %q", err, svg[:min(len(svg), 80)])
	}
	s := c.Summary()
	if !strings.Contains(s, "ours") || !strings.Contains(s, "5 points") || !strings.Contains(s, "peak") {
		t.Fatalf("summary: %s", s)
	}
	cap := inNotebook(t)
	if err := c.Show(); err != nil || len(cap.pngs) != 1 {
		t.Fatalf("Show: %v, %d pngs", err, len(cap.pngs))
	}
}

func TestLiveUpdatesInPlaceAndFinishes(t *testing.T) {
	cap := inNotebook(t)
	l := NewLive("loss", "step", "loss")
	l.Every = 0
	for i := range 3 {
		l.Add("train", float64(i), 1/float64(i+1))
	}
	l.Finish()
	if len(cap.updates) != 1 {
		t.Fatalf("want one display id, got %d", len(cap.updates))
	}
	for _, u := range cap.updates {
		if len(u) != 4 || !strings.Contains(u[3], "data:image/png;base64,") {
			t.Fatalf("updates: %d, last %.80s", len(u), u[len(u)-1])
		}
	}
}

func TestLiveTextSummary(t *testing.T) {
	out := textOut(t)
	l := NewLive("loss", "step", "loss")
	l.Add("train", 1, 0.5)
	l.Finish()
	if !strings.Contains(out.String(), `chart "loss"`) {
		t.Fatalf("got %q", out.String())
	}
}

func TestProgress(t *testing.T) {
	cap := inNotebook(t)
	p := NewProgress("epoch", 10)
	p.Every = 0
	for range 10 {
		p.Inc(M("loss", 0.25))
	}
	p.Done("", M("acc", 0.9))
	if len(cap.updates) != 1 {
		t.Fatalf("want one display id, got %d", len(cap.updates))
	}
	for _, u := range cap.updates {
		last := u[len(u)-1]
		for _, w := range []string{`class="repdyn-progress"`, "100%", "10/10", "loss=0.25", "acc=0.9", "it/s", "done"} {
			if !strings.Contains(last, w) {
				t.Errorf("final bar lacks %q: %s", w, last)
			}
		}
	}
}

func TestProgressText(t *testing.T) {
	out := textOut(t)
	p := NewProgress("epoch", 4)
	p.Set(2, M("loss", 1))
	p.Done("interrupted")
	s := out.String()
	if !strings.Contains(s, "epoch:  50% 2/4") || !strings.Contains(s, "(interrupted)") {
		t.Fatalf("got %q", s)
	}
}

func TestVerdicts(t *testing.T) {
	out := textOut(t)
	v := NewVerdicts("theory").Add("err", 0.01, "<=", 0.05).Add("rate", 2, ">", 1).Note("ok")
	if !v.Show() {
		t.Fatal("should pass")
	}
	if !strings.Contains(out.String(), PassMarker+": theory (2/2 checks)") {
		t.Fatalf("no pass marker: %s", out.String())
	}
	if m := v.Checks[0].Margin(); m < 0.039 || m > 0.041 {
		t.Fatalf("margin %v", m)
	}
	v.Add("bad", 3, "<", 1)
	if v.Passed() || !strings.Contains(v.Summary(), FailMarker) || !strings.Contains(v.Summary(), "bad (3 < 1 is false)") {
		t.Fatalf("summary: %s", v.Summary())
	}
	code := -1
	old := exit
	exit = func(c int) { code = c }
	defer func() { exit = old }()
	t.Setenv("REPDYN_STRICT", "1")
	v.Assert()
	if code != 1 {
		t.Fatalf("REPDYN_STRICT=1: Assert exit code %d", code)
	}
	// Exploration mode: the cell goes on, the failed row is red with a hint.
	code = -1
	t.Setenv("REPDYN_STRICT", "")
	v.Hint("lower the value")
	v.Assert()
	if code != -1 {
		t.Fatalf("exploration mode: Assert exited with %d", code)
	}
	h := v.HTML()
	if !strings.Contains(h, `<tr style="background:#fde2e1`) || !strings.Contains(h, "hint: lower the value") || strings.Count(h, "#fde2e1") != 1 {
		t.Fatalf("failed row not red with its hint: %s", h)
	}
	if !strings.Contains(v.Text(), "hint: lower the value") || !strings.Contains(NewVerdicts("x").Add("y", 2, "<=", 1).Text(), "hint: needs y <= 1") {
		t.Fatalf("text table without hints: %s", v.Text())
	}
	if NewVerdicts("empty").Passed() {
		t.Fatal("no checks must not pass")
	}
	if (Check{Name: "nan", Value: nan()}).Pass() {
		t.Fatal("NaN passed")
	}
}

func nan() float64 { var z float64; return z / z }

type fakeTB struct{ failed bool }

func (*fakeTB) Helper()                 {}
func (*fakeTB) Logf(string, ...any)     {}
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }

func TestRequire(t *testing.T) {
	f := &fakeTB{}
	NewVerdicts("x").Add("a", 1, ">=", 2).Require(f)
	if !f.failed {
		t.Fatal("Require did not fail")
	}
	NewVerdicts("x").Add("a", 2, ">=", 2).Require(t)
}

func TestImageGrid(t *testing.T) {
	data := make([]float32, 3*1*4*5)
	for i := range data {
		data[i] = float32(i)
	}
	img, err := ImageGrid(data, []int{3, 1, 4, 5}, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 2*11-1 || h != 2*9-1 {
		t.Fatalf("size %dx%d", w, h)
	}
	// First pixel of each tile is its minimum (black), last its maximum.
	if r := img.RGBAAt(0, 0).R; r != 0 {
		t.Fatalf("min pixel %d", r)
	}
	if r := img.RGBAAt(9, 7).R; r != 255 {
		t.Fatalf("max pixel %d", r)
	}
	if _, err := ImageGrid(data, []int{3, 2, 2, 5}, 0, 0); err == nil {
		t.Fatal("2 channels accepted")
	}
	if _, err := ImageGrid(data[:10], []int{2, 5}, 0, 0); err != nil {
		t.Fatal(err)
	}
	rgb := make([]float32, 3*2*2)
	if _, err := ImageGrid(rgb, []int{3, 2, 2}, 0, 0); err != nil {
		t.Fatal(err)
	}
	cap := inNotebook(t)
	if err := Images(data, []int{3, 1, 4, 5}, 0, 3); err != nil || len(cap.pngs) != 1 {
		t.Fatal("Images did not display", err)
	}
}
