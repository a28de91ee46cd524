package show

import (
	"fmt"
	"html"
	"math"
	"os"
	"strings"

	"repdyn/lib/marker"
)

// PassMarker and FailMarker start the line that a verdict table prints to
// stdout, in and out of a notebook (their owner is repdyn/lib/marker). The
// repdyn notebook tests look for them in cells marked
// {"repdyn": {"verdict": true}}.
const (
	PassMarker = marker.VerdictPass
	FailMarker = marker.VerdictFail
)

// Check is one theory check: Value compared with Threshold by Op.
type Check struct {
	Name      string
	Value     float64
	Op        string // "<", "<=", ">", ">=" (default "<=")
	Threshold float64
	Note      string
	Hint      string // shown when the check fails: what to change, in one line
}

// Margin is how far the check is from failing, in the value's units:
// positive passes, negative fails (for "<=": Threshold - Value).
func (c Check) Margin() float64 {
	switch c.Op {
	case ">", ">=":
		return c.Value - c.Threshold
	}
	return c.Threshold - c.Value
}

// Pass reports whether the check holds (NaN never passes).
func (c Check) Pass() bool {
	if math.IsNaN(c.Value) || math.IsNaN(c.Threshold) {
		return false
	}
	switch c.Op {
	case "<":
		return c.Value < c.Threshold
	case ">":
		return c.Value > c.Threshold
	case ">=":
		return c.Value >= c.Threshold
	}
	return c.Value <= c.Threshold
}

func (c Check) op() string {
	if c.Op == "" {
		return "<="
	}
	return c.Op
}

// Verdicts is a table of checks: one cell can display it (a demo), print a
// machine-readable PASS/FAIL line (a CI check) and fail the cell (a graded
// test).
type Verdicts struct {
	Title  string
	Checks []Check
}

// NewVerdicts starts a verdict table.
func NewVerdicts(title string) *Verdicts { return &Verdicts{Title: title} }

// Add appends the check "name: value op threshold" and returns v.
func (v *Verdicts) Add(name string, value float64, op string, threshold float64) *Verdicts {
	switch op {
	case "<", "<=", ">", ">=":
	default:
		panic(fmt.Sprintf("show.Verdicts.Add(%q): operator %q: want <, <=, > or >=", name, op))
	}
	v.Checks = append(v.Checks, Check{Name: name, Value: value, Op: op, Threshold: threshold})
	return v
}

// Note sets a note on the last check added.
func (v *Verdicts) Note(note string) *Verdicts {
	if n := len(v.Checks); n > 0 {
		v.Checks[n-1].Note = note
	}
	return v
}

// Hint sets the one-line hint shown with the last check added when it fails
// (what the student can change to make it pass).
func (v *Verdicts) Hint(hint string) *Verdicts {
	if n := len(v.Checks); n > 0 {
		v.Checks[n-1].Hint = hint
	}
	return v
}

// hint is the check's Hint, or a generic one.
func (c Check) hint() string {
	if c.Hint != "" {
		return c.Hint
	}
	return fmt.Sprintf("needs %s %s %.4g (off by %.3g): return the parameters you changed toward their defaults", c.Name, c.op(), c.Threshold, math.Abs(c.Margin()))
}

// Passed reports whether every check passes (and there is at least one).
func (v *Verdicts) Passed() bool {
	for _, c := range v.Checks {
		if !c.Pass() {
			return false
		}
	}
	return len(v.Checks) > 0
}

func (v *Verdicts) failed() []string {
	var names []string
	for _, c := range v.Checks {
		if !c.Pass() {
			names = append(names, fmt.Sprintf("%s (%.4g %s %.4g is false)", c.Name, c.Value, c.op(), c.Threshold))
		}
	}
	if len(v.Checks) == 0 {
		names = append(names, "no checks")
	}
	return names
}

// Summary is the one-line result, starting with PassMarker or FailMarker.
func (v *Verdicts) Summary() string {
	pass := 0
	for _, c := range v.Checks {
		if c.Pass() {
			pass++
		}
	}
	if v.Passed() {
		return fmt.Sprintf("%s: %s (%d/%d checks)", PassMarker, v.Title, pass, len(v.Checks))
	}
	return fmt.Sprintf("%s: %s (%d/%d checks): %s", FailMarker, v.Title, pass, len(v.Checks), strings.Join(v.failed(), "; "))
}

// HTML renders the table; a failed check is a red row with its hint.
func (v *Verdicts) HTML() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<div class="repdyn-verdicts"><b>%s</b><table><thead><tr><th>check</th><th>value</th><th>op</th><th>threshold</th><th>margin</th><th>result</th><th>note</th></tr></thead><tbody>`, html.EscapeString(v.Title))
	for _, c := range v.Checks {
		row, res, note := "<tr>", `<span style="color:#3c9a5f;font-weight:bold">PASS</span>`, html.EscapeString(c.Note)
		if !c.Pass() {
			row = `<tr style="background:#fde2e1;color:#8b1a10">`
			res = `<span style="color:#c0392b;font-weight:bold">FAIL</span>`
			note = strings.TrimPrefix(note+"<br>", "<br>") + "<i>hint: " + html.EscapeString(c.hint()) + "</i>"
		}
		fmt.Fprintf(&b, "%s<td>%s</td><td>%.4g</td><td>%s</td><td>%.4g</td><td>%+.3g</td><td>%s</td><td>%s</td></tr>",
			row, html.EscapeString(c.Name), c.Value, html.EscapeString(c.op()), c.Threshold, c.Margin(), res, note)
	}
	b.WriteString("</tbody></table></div>")
	return b.String()
}

// Text renders the table as text.
func (v *Verdicts) Text() string {
	rows := make([][]any, len(v.Checks))
	for i, c := range v.Checks {
		res, note := "PASS", c.Note
		if !c.Pass() {
			res = "FAIL"
			note = strings.TrimPrefix(note+"; ", "; ") + "hint: " + c.hint()
		}
		rows[i] = []any{c.Name, c.Value, c.op(), c.Threshold, fmt.Sprintf("%+.3g", c.Margin()), res, note}
	}
	return v.Title + "\n" + TableText([]string{"check", "value", "op", "threshold", "margin", "result", "note"}, rows)
}

// Show displays the table (text outside a notebook), prints the Summary line
// to stdout and reports whether every check passed.
func (v *Verdicts) Show() bool {
	if notebook() {
		rich.htmlText(v.HTML(), v.Text())
	} else {
		textf("%s", v.Text())
	}
	// The marker goes to stdout in both cases, so that nbconvert outputs and
	// logs carry it as plain text.
	if notebook() {
		fmt.Println(v.Summary())
	} else {
		textf("%s\n", v.Summary())
	}
	return v.Passed()
}

// exit is os.Exit, replaceable in tests.
var exit = os.Exit

// Strict reports whether REPDYN_STRICT asks failed verdicts to fail their
// cell ("1", "true" or "yes": set by CI and by graded assignments).
func Strict() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("REPDYN_STRICT"))) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// Assert shows the table. If a check failed: under REPDYN_STRICT=1 it prints
// the reason to stderr and ends the process with status 1 (the notebook cell
// fails, and so does a headless nbconvert run), with the failing checks
// named; otherwise (exploration mode) the failed checks are red rows with
// their value, threshold and hint, and the cell goes on.
func (v *Verdicts) Assert() {
	if v.Show() {
		return
	}
	if !Strict() {
		fmt.Println("exploration mode: a check failed (red row above); the cell goes on. REPDYN_STRICT=1 makes it fail.")
		return
	}
	Flush()
	fmt.Fprintf(os.Stderr, "%s\n", v.Summary())
	exit(1)
}

// TB is the part of testing.TB that Require uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Require logs the table and fails the test if a check failed.
func (v *Verdicts) Require(t TB) {
	t.Helper()
	t.Logf("\n%s", v.Text())
	if !v.Passed() {
		t.Fatalf("%s", v.Summary())
	}
}
