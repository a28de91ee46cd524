package show

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestExploreHeadlessDrawsDefaultOnce(t *testing.T) {
	c := inNotebook(t)
	t.Setenv("REPDYN_HEADLESS", "1")
	calls := []int{}
	start := time.Now()
	err := Explore("width", 1, 64, 8, func(v int) (*Chart, error) {
		calls = append(calls, v)
		ch := NewChart("rank", "i", "σ")
		ch.Add("s", 1, float64(v))
		ch.Add("s", 2, 1)
		return ch, nil
	})
	if err != nil || len(calls) != 1 || calls[0] != 8 {
		t.Fatalf("headless: err %v, draws %v; want one draw of the default 8", err, calls)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("headless Explore waited for a front-end")
	}
	n := 0
	for _, u := range c.updates {
		n += len(u)
		if !strings.Contains(u[0], `data-value="8"`) || !strings.Contains(u[0], "<img width=") {
			t.Fatalf("explore output: %.200s", u[0])
		}
	}
	if n != 1 || len(c.htmls) != 0 {
		t.Fatalf("%d chart updates and %d other outputs; want one chart and no slider", n, len(c.htmls))
	}
	boom := errors.New("boom")
	if err := Explore("w", 0, 1, 0, func(int) (*Chart, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatal("draw error lost:", err)
	}
}
