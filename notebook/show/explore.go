package show

import (
	"fmt"
	"html"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/widgets"
)

// Headless reports whether no front-end can answer widgets: REPDYN_HEADLESS=1
// (set by the CI notebook runs), or not in a notebook at all.
func Headless() bool {
	switch strings.ToLower(os.Getenv("REPDYN_HEADLESS")) {
	case "1", "true", "yes":
		return true
	}
	return !notebook()
}

// exploreIdle is how long an interactive Explore waits for the next move
// before the cell ends (REPDYN_EXPLORE_IDLE seconds, default 120).
func exploreIdle() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("REPDYN_EXPLORE_IDLE")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 120 * time.Second
}

// Explore shows a slider labelled label (integers min..max, starting at
// value) above the chart that draw returns for the slider's value, and
// redraws the chart in place at every move. The caption under the chart
// names the value and the time the redraw took.
//
// Headless (nbconvert, CI with REPDYN_HEADLESS=1, or a front-end that does
// not answer within 5 s) it draws the starting value once and returns.
// Interactive, the cell keeps listening until no move came for
// REPDYN_EXPLORE_IDLE seconds (default 120) or the cell is interrupted (■,
// which ends it without an error); the last chart stays in the notebook.
func Explore(label string, min, max, value int, draw func(v int) (*Chart, error)) error {
	if !notebook() {
		c, err := draw(value)
		if err != nil {
			return err
		}
		textf("%s = %d\n%s", label, value, c.Summary())
		return nil
	}
	id := "repdyn-explore-" + gonbui.UniqueId()
	redraw := func(v int) error {
		t0 := time.Now()
		c, err := draw(v)
		if err != nil {
			return err
		}
		b, err := c.PNG()
		if err != nil {
			return err
		}
		ms := time.Since(t0).Seconds() * 1000
		rich.updateHTML(id, fmt.Sprintf(`<div class="repdyn-explore" data-value="%d" data-ms="%.1f">%s<div style="font:12px sans-serif;color:#555">%s = %d (drawn in %.0f ms)</div></div>`,
			v, ms, chartImgTag(b, c.Title), html.EscapeString(label), v, ms))
		return nil
	}
	if Headless() {
		return redraw(value)
	}
	rich.html(fmt.Sprintf(`<div style="font:13px sans-serif">%s: %d … %d</div>`, html.EscapeString(label), min, max))
	slider := widgets.Slider(min, max, value)
	ready := make(chan struct{})
	go func() { slider.Done(); close(ready) }()
	if err := redraw(value); err != nil {
		return err
	}
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		return nil // no front-end answered: the default stays drawn
	}
	moves := slider.Listen().LatestOnly()
	defer moves.Close()
	stop := make(chan os.Signal, 1) // the notebook's interrupt (■) ends the cell cleanly
	signal.Notify(stop, os.Interrupt)
	defer signal.Stop(stop)
	idle := time.NewTimer(exploreIdle())
	last := value
	for {
		select {
		case v, ok := <-moves.C:
			if !ok {
				return nil
			}
			if v == last {
				continue
			}
			last = v
			if err := redraw(v); err != nil {
				return err
			}
			idle.Reset(exploreIdle())
		case <-idle.C:
			return nil
		case <-stop:
			return nil
		}
	}
}
