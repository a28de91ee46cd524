package show

import (
	"strings"
	"testing"
)

func (c *capture) htmlText(s, plain string) { c.html(s); c.plains = append(c.plains, plain) }
func (c *capture) updateHTMLText(id, s, plain string) {
	c.updateHTML(id, s)
	c.plains = append(c.plains, plain)
}

func TestPlainTextOfHTML(t *testing.T) {
	cases := []struct{ in, want string }{
		{"<b>bold</b> &amp; <i>x&lt;y</i>", "bold & x<y"},
		{"<p>one</p><p>two</p>", "one\ntwo"},
		{`<div>a<br/>b</div><script>alert("x")</script><style>p{}</style>`, "a\nb"},
		{"<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>", "k  v\na  1"},
		{`<img class="c" alt="loss curve" src="data:image/png;base64,AAAA"/>`, "[loss curve]"},
		{"\n\n<p>x</p>\n\n\n\n<p>y</p>\n", "x\n\ny"},
	}
	for _, c := range cases {
		if got := PlainText(c.in); got != c.want {
			t.Errorf("PlainText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Every rich display of the package carries a text/plain form: tables as
// aligned text, verdicts as one line per check, the progress bar's last
// state, the live chart's summary.
func TestDisplaysCarryPlainText(t *testing.T) {
	c := inNotebook(t)
	textOut(t)
	Table([]string{"name", "value"}, [][]any{{"alpha", 1.5}})
	if len(c.plains) != 1 || c.plains[0] != TableText([]string{"name", "value"}, [][]any{{"alpha", 1.5}}) {
		t.Fatalf("table plain text: %q", c.plains)
	}
	v := NewVerdicts("plain").Add("gap", 0.1, "<=", 0.5).Add("rate", 2, ">", 1)
	v.Show()
	got := c.plains[len(c.plains)-1]
	if got != v.Text() || !strings.Contains(got, "plain\n") || strings.Count(got, "PASS") != 2 {
		t.Fatalf("verdict plain text:\n%s", got)
	}
	for _, line := range []string{"gap", "rate"} {
		if !strings.Contains(got, line) {
			t.Errorf("verdict plain text lacks the %q line:\n%s", line, got)
		}
	}
	p := NewProgress("train", 4)
	for range 4 {
		p.Inc(M("loss", 0.25))
	}
	p.Done("")
	last := c.plains[len(c.plains)-1]
	for _, w := range []string{"train:", "100%", "4/4", "loss=0.25", "(done)"} {
		if !strings.Contains(last, w) {
			t.Errorf("progress plain text %q lacks %q", last, w)
		}
	}
	l := NewLive("curve", "step", "loss")
	l.Add("train", 0, 1)
	l.Add("train", 1, 0.5)
	l.Finish()
	if last := c.plains[len(c.plains)-1]; last != l.Chart.Summary() {
		t.Errorf("live chart plain text %q, want its summary %q", last, l.Chart.Summary())
	}
	// Every HTML display so far came with a plain form.
	n := len(c.htmls)
	for _, u := range c.updates {
		n += len(u)
	}
	if n != len(c.plains) {
		t.Errorf("%d HTML displays, %d with text/plain", n, len(c.plains))
	}
}
