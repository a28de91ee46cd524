// Package marker owns the machine-readable lines that the verdict cells of
// the repdyn notebooks print to stdout, so that the notebook helpers
// (repdyn/notebook/show, repdyn/notebook/lesson) that write them and the
// tools that read them back from executed notebooks (`repdyn claims`, the
// kernel's notebook tests) agree on one format:
//
//	REPDYN-VERDICT PASS: <title> (3/3 checks)
//	REPDYN-VERDICT FAIL: <title> (2/3 checks): <failed check> (...)
//	REPDYN-CLAIM C3 PASS | <title> | <check> = <value> <op> <threshold> | ...
package marker

import "strings"

const (
	// VerdictPass starts the line of a verdict table whose checks all pass.
	VerdictPass = "REPDYN-VERDICT PASS"
	// VerdictFail starts the line of a verdict table with a failed check.
	VerdictFail = "REPDYN-VERDICT FAIL"
	// Claim starts the line of a cell that reproduces a claim (C1..C7).
	Claim = "REPDYN-CLAIM"
)

// ClaimLine is one claim line: the claim, its result, the verdict title and
// one "name = value op threshold" text per check.
type ClaimLine struct {
	ID     string
	Pass   bool
	Title  string
	Checks []string
}

// String formats the line.
func (c ClaimLine) String() string {
	res := "FAIL"
	if c.Pass {
		res = "PASS"
	}
	return strings.Join(append([]string{Claim + " " + c.ID + " " + res, c.Title}, c.Checks...), " | ")
}

// ParseClaim reads a claim line (ok is false if line is not one).
func ParseClaim(line string) (c ClaimLine, ok bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, Claim+" ") {
		return c, false
	}
	parts := strings.Split(line, " | ")
	head := strings.Fields(parts[0])
	if len(head) >= 2 {
		c.ID = head[1]
	}
	c.Pass = len(head) >= 3 && head[2] == "PASS"
	if len(parts) > 1 {
		c.Title = parts[1]
	}
	if len(parts) > 2 {
		c.Checks = parts[2:]
	}
	return c, true
}

// FindVerdict returns the last verdict line in out (a cell's stdout) and
// whether it passed; found is false if there is none.
func FindVerdict(out string) (line string, pass, found bool) {
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, VerdictPass):
			line, pass, found = l, true, true
		case strings.HasPrefix(l, VerdictFail):
			line, pass, found = l, false, true
		}
	}
	return line, pass, found
}
