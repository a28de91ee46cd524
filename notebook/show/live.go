package show

import (
	"fmt"
	"html"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
)

// Live is a chart that is redrawn in place while a loop runs (training
// curves). Inside a notebook each redraw replaces the same output block
// (Jupyter's update_display_data); Finish replaces it one last time with the
// final chart, which is what the saved notebook keeps. Outside a notebook
// Live only prints the final summary.
//
// Redraws are throttled to one per Every (default 500ms), so Add may be
// called at every step.
type Live struct {
	Chart *Chart
	Every time.Duration

	mu       sync.Mutex
	id       string
	last     time.Time
	dirty    bool
	finished bool
}

// NewLive returns a live chart.
func NewLive(title, xlabel, ylabel string) *Live {
	return &Live{Chart: NewChart(title, xlabel, ylabel), Every: 500 * time.Millisecond, id: "repdyn-live-" + gonbui.UniqueId()}
}

// Add appends (x, y) to the named series and redraws if Every has passed.
func (l *Live) Add(series string, x, y float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Chart.Add(series, x, y)
	l.dirty = true
	if time.Since(l.last) >= l.Every {
		l.drawLocked()
	}
}

// Flush redraws now if anything changed.
func (l *Live) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dirty {
		l.drawLocked()
	}
}

func (l *Live) drawLocked() {
	l.last = time.Now()
	l.dirty = false
	if !notebook() {
		return
	}
	b, err := l.Chart.PNG()
	if err != nil {
		rich.updateHTML(l.id, "<pre>chart error: "+html.EscapeString(err.Error())+"</pre>")
		return
	}
	rich.updateHTMLText(l.id, chartImgTag(b, l.Chart.Title), l.Chart.Summary())
}

// Finish draws the final chart (kept in the saved notebook) and, outside a
// notebook, prints its summary. Further Adds are still recorded.
func (l *Live) Finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.finished = true
	if !notebook() {
		textf("%s", l.Chart.Summary())
		return
	}
	l.drawLocked()
}

// Metric is a named value shown next to a progress bar.
type Metric struct {
	Name  string
	Value float64
}

// M is shorthand for a Metric.
func M(name string, v float64) Metric { return Metric{name, v} }

// Progress is a progress bar with rate, elapsed time, ETA and metrics,
// rendered as plain HTML updated in place (no widgets), so it works in
// JupyterLab, the classic Notebook and headless nbconvert runs, and the last
// state stays in the saved notebook. Outside a notebook it prints a text line
// at most every TextEvery (default 10s) and at Done.
type Progress struct {
	Desc      string
	Total     int
	Every     time.Duration // minimum time between HTML redraws (default 200ms)
	TextEvery time.Duration

	mu       sync.Mutex
	id       string
	n        int
	startN   int
	start    time.Time
	last     time.Time
	lastText time.Time
	metrics  []Metric
	status   string
}

// NewProgress starts a progress bar for total steps (total <= 0: unknown).
func NewProgress(desc string, total int) *Progress {
	now := time.Now()
	p := &Progress{Desc: desc, Total: total, Every: 200 * time.Millisecond, TextEvery: 10 * time.Second,
		id: "repdyn-progress-" + gonbui.UniqueId(), start: now, lastText: now}
	p.mu.Lock()
	p.drawLocked()
	p.mu.Unlock()
	return p
}

// Set records that n steps are done, with the current metrics (replacing
// metrics of the same name), and redraws if Every has passed.
func (p *Progress) Set(n int, metrics ...Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	p.mergeLocked(metrics)
	if time.Since(p.last) >= p.Every {
		p.drawLocked()
	}
}

// Inc is Set(n+1, metrics...).
func (p *Progress) Inc(metrics ...Metric) {
	p.mu.Lock()
	n := p.n + 1
	p.mu.Unlock()
	p.Set(n, metrics...)
}

// Start resets the clock, e.g. when resuming at step n from a checkpoint, so
// that the rate counts only the steps of this run.
func (p *Progress) Start(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	p.start = time.Now().Add(-time.Nanosecond)
	p.startN = n
	p.drawLocked()
}

// Done draws the final state with a status word ("done", "interrupted"...).
func (p *Progress) Done(status string, metrics ...Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mergeLocked(metrics)
	if status == "" {
		status = "done"
	}
	p.status = status
	p.drawLocked()
	if !notebook() {
		textf("%s\n", p.textLocked())
	}
}

func (p *Progress) mergeLocked(ms []Metric) {
outer:
	for _, m := range ms {
		for i := range p.metrics {
			if p.metrics[i].Name == m.Name {
				p.metrics[i].Value = m.Value
				continue outer
			}
		}
		p.metrics = append(p.metrics, m)
	}
}

func fmtDur(d time.Duration) string {
	if d < 0 || d > 1000*time.Hour {
		return "?"
	}
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// stats returns the fraction done, steps per second, elapsed and ETA.
func (p *Progress) statsLocked() (frac, rate float64, elapsed, eta time.Duration) {
	elapsed = time.Since(p.start)
	done := p.n - p.startN
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	eta = -1
	if p.Total > 0 {
		frac = math.Min(1, float64(p.n)/float64(p.Total))
		if rate > 0 {
			eta = time.Duration(float64(p.Total-p.n) / rate * float64(time.Second))
		}
	}
	return
}

func (p *Progress) metricsText() string {
	var parts []string
	for _, m := range p.metrics {
		parts = append(parts, fmt.Sprintf("%s=%.4g", m.Name, m.Value))
	}
	return strings.Join(parts, " ")
}

func (p *Progress) textLocked() string {
	frac, rate, el, eta := p.statsLocked()
	total := "?"
	if p.Total > 0 {
		total = fmt.Sprint(p.Total)
	}
	s := fmt.Sprintf("%s: %3.0f%% %d/%s [%s<%s, %.3g it/s] %s", p.Desc, 100*frac, p.n, total, fmtDur(el), fmtDur(eta), rate, p.metricsText())
	if p.status != "" {
		s += " (" + p.status + ")"
	}
	return strings.TrimSpace(s)
}

// HTML renders the bar's current state.
func (p *Progress) HTML() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.htmlLocked()
}

func (p *Progress) htmlLocked() string {
	frac, rate, el, eta := p.statsLocked()
	color := "#4a90d9"
	switch {
	case p.status == "done":
		color = "#3c9a5f"
	case p.status != "":
		color = "#d98a1c"
	}
	total := "?"
	if p.Total > 0 {
		total = fmt.Sprint(p.Total)
	}
	etaText := fmtDur(eta)
	if p.status != "" {
		etaText = p.status
	}
	return fmt.Sprintf(`<div class="repdyn-progress" data-n="%d" data-total="%d" style="font-family:monospace;font-size:12px;display:flex;align-items:center;gap:8px">`+
		`<span>%s</span>`+
		`<span style="display:inline-block;width:240px;height:12px;background:#e6e6e6;border-radius:3px;overflow:hidden">`+
		`<span class="repdyn-progress-fill" style="display:block;height:100%%;width:%.1f%%;background:%s"></span></span>`+
		`<span>%3.0f%% %d/%s [%s&lt;%s, %.3g it/s]</span><span>%s</span></div>`,
		p.n, p.Total, html.EscapeString(p.Desc), 100*frac, color, 100*frac, p.n, total, fmtDur(el), html.EscapeString(etaText), rate,
		html.EscapeString(p.metricsText()))
}

func (p *Progress) drawLocked() {
	p.last = time.Now()
	if notebook() {
		rich.updateHTMLText(p.id, p.htmlLocked(), p.textLocked())
		return
	}
	if p.status == "" && time.Since(p.lastText) >= p.TextEvery {
		p.lastText = time.Now()
		textf("%s\n", p.textLocked())
	}
}
