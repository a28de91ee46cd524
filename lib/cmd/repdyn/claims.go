package main

// `repdyn claims`: which claims of the paper (C1-C7 of shared/THEORY.md, in
// our formal versions) the executed notebooks reproduce.
//
// A notebook cell that reproduces a claim carries the metadata
// {"repdyn": {"claim": "C3"}} and, when it runs, prints one line
//
//	REPDYN-CLAIM C3 PASS | <title> | <check> = <value> <op> <threshold> | ...
//
// followed by the verdict marker (REPDYN-VERDICT PASS/FAIL) of the notebook
// tests. This command reads those cells and their saved outputs. It depends
// on nothing but the notebook format (nbformat 4): it does not import the
// notebook module.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"repdyn/lib/marker"
)

func init() {
	register("claims", "list claims C1-C7 as reproduced, failed or not run, from executed notebooks", runClaims)
}

// claimTitles are the claims of shared/THEORY.md, in a few words.
var claimTitles = []struct{ ID, Title string }{
	{"C1", "nonlinear representations are learned beyond the NTK (lazy) regime"},
	{"C2", "the CMS assumption and the DAA condition"},
	{"C3", "under CMS, DAA is sufficient for global convergence"},
	{"C4", "under CMS, DAA is necessary for global optimality"},
	{"C5", "when increasing network size helps training and when it does not"},
	{"C6", "CMS justifies choosing some model structures over others"},
	{"C7", "aligned training keeps accuracy with a global-convergence guarantee"},
}

const (
	claimMarker   = marker.Claim
	verdictPass   = marker.VerdictPass
	verdictFail   = marker.VerdictFail
	statusPass    = "reproduced"
	statusFail    = "failed"
	statusNotRun  = "not run"
	claimsUsage   = "usage: repdyn claims [-json] [executed notebooks or directories...]"
	defaultNBGlob = "notebooks/*.ipynb"
)

// claimCell is the outcome of one claim cell of one notebook.
type claimCell struct {
	Notebook string   `json:"notebook"`
	Cell     int      `json:"cell"`
	Claim    string   `json:"claim"`
	Status   string   `json:"status"`
	Title    string   `json:"title,omitempty"`
	Numbers  []string `json:"numbers,omitempty"` // "check = value op threshold"
	Reason   string   `json:"reason,omitempty"`  // why failed or not run
}

// claimSummary aggregates the cells of one claim.
type claimSummary struct {
	Claim  string      `json:"claim"`
	Title  string      `json:"title"`
	Status string      `json:"status"`
	Cells  []claimCell `json:"cells"`
}

type nbFile struct {
	Cells []struct {
		CellType       string          `json:"cell_type"`
		ExecutionCount *int            `json:"execution_count"`
		Metadata       json.RawMessage `json:"metadata"`
		Outputs        []struct {
			OutputType string          `json:"output_type"`
			Name       string          `json:"name"`
			Text       json.RawMessage `json:"text"`
			Ename      string          `json:"ename"`
			Evalue     string          `json:"evalue"`
		} `json:"outputs"`
	} `json:"cells"`
}

// nbText decodes nbformat's "string or list of strings".
func nbText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var l []string
	_ = json.Unmarshal(raw, &l)
	return strings.Join(l, "")
}

// cellClaim returns the claim id of a cell's metadata ({"repdyn": {"claim": "C3"}}), or "".
func cellClaim(meta json.RawMessage) string {
	var m struct {
		Repdyn struct {
			Claim string `json:"claim"`
		} `json:"repdyn"`
	}
	if len(meta) == 0 || json.Unmarshal(meta, &m) != nil {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(m.Repdyn.Claim))
}

// readClaimCells returns the claim cells of one notebook file.
func readClaimCells(path string) ([]claimCell, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nb nbFile
	if err := json.Unmarshal(b, &nb); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []claimCell
	for i, c := range nb.Cells {
		id := cellClaim(c.Metadata)
		if c.CellType != "code" || id == "" {
			continue
		}
		cc := claimCell{Notebook: filepath.Base(path), Cell: i, Claim: id}
		var stdout strings.Builder
		var errs []string
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "stream":
				if o.Name == "stdout" {
					stdout.WriteString(nbText(o.Text))
				} else if t := strings.TrimSpace(nbText(o.Text)); t != "" {
					errs = append(errs, lastLine(t))
				}
			case "error":
				errs = append(errs, strings.TrimSpace(o.Ename+": "+o.Evalue))
			}
		}
		parseClaimOutput(&cc, stdout.String(), errs, c.ExecutionCount != nil || len(c.Outputs) > 0)
		out = append(out, cc)
	}
	return out, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// parseClaimOutput fills the status, title, numbers and reason of a cell from
// its stdout, the errors it raised and whether it ran at all.
func parseClaimOutput(cc *claimCell, stdout string, errs []string, ran bool) {
	var claimLine, verdictLine string
	for _, line := range strings.Split(stdout, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, claimMarker+" "):
			claimLine = line
		case strings.HasPrefix(line, verdictPass), strings.HasPrefix(line, verdictFail):
			verdictLine = line
		}
	}
	if c, ok := marker.ParseClaim(claimLine); ok {
		cc.Status = statusFail
		if c.Pass {
			cc.Status = statusPass
		}
		if c.ID != cc.Claim {
			cc.Reason = fmt.Sprintf("cell metadata says %s, its output %s", cc.Claim, c.ID)
			cc.Status = statusFail
		}
		cc.Title, cc.Numbers = c.Title, c.Checks
	} else if verdictLine != "" {
		// A claim cell that printed only the verdict marker.
		if strings.HasPrefix(verdictLine, verdictPass) {
			cc.Status = statusPass
		} else {
			cc.Status = statusFail
		}
		cc.Title = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(verdictLine, verdictPass), verdictFail))
		cc.Title = strings.TrimPrefix(cc.Title, ": ")
	}
	switch {
	case len(errs) > 0:
		cc.Status = statusFail
		if cc.Reason == "" {
			cc.Reason = strings.Join(errs, "; ")
		}
	case cc.Status == "" && ran:
		cc.Status = statusFail
		cc.Reason = "the cell ran but printed no claim or verdict line"
	case cc.Status == "":
		cc.Status = statusNotRun
		cc.Reason = "no outputs (the notebook was not executed)"
	}
	if verdictLine != "" && strings.HasPrefix(verdictLine, verdictFail) {
		cc.Status = statusFail
	}
}

// summarizeClaims aggregates cells per claim: reproduced when at least one
// cell passed and none failed; failed when any failed; else not run.
func summarizeClaims(cells []claimCell) []claimSummary {
	var out []claimSummary
	for _, ct := range claimTitles {
		s := claimSummary{Claim: ct.ID, Title: ct.Title, Status: statusNotRun}
		pass, fail := 0, 0
		for _, c := range cells {
			if c.Claim != ct.ID {
				continue
			}
			s.Cells = append(s.Cells, c)
			switch c.Status {
			case statusPass:
				pass++
			case statusFail:
				fail++
			}
		}
		switch {
		case fail > 0:
			s.Status = statusFail
		case pass > 0:
			s.Status = statusPass
		}
		out = append(out, s)
	}
	return out
}

// notebookArgs expands directories to their *.ipynb files; no arguments
// means notebooks/*.ipynb of the current directory.
func notebookArgs(args []string) ([]string, error) {
	if len(args) == 0 {
		m, err := filepath.Glob(defaultNBGlob)
		if err != nil || len(m) == 0 {
			return nil, errors.New("no notebooks given and none in " + defaultNBGlob + "\n" + claimsUsage)
		}
		return m, nil
	}
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			m, _ := filepath.Glob(filepath.Join(a, "*.ipynb"))
			sort.Strings(m)
			out = append(out, m...)
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

func runClaims(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("claims", flag.ContinueOnError)
	fs.SetOutput(stdout)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stdout, claimsUsage)
		fmt.Fprintln(stdout, "\nReads executed notebooks (e.g. from `jupyter nbconvert --execute` or kernel/ci-test.sh's\n$REPDYN_TEST_OUT) and lists every claim C1-C7 of shared/THEORY.md, in our formal versions,\nas reproduced, failed or not run, with the numbers its cells checked.\nWith no arguments it reads "+defaultNBGlob+". Exits 1 when a claim failed (not with -json).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	paths, err := notebookArgs(fs.Args())
	if err != nil {
		return err
	}
	var cells []claimCell
	for _, p := range paths {
		c, err := readClaimCells(p)
		if err != nil {
			return err
		}
		cells = append(cells, c...)
	}
	sum := summarizeClaims(cells)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	writeClaims(stdout, sum, len(paths))
	for _, s := range sum {
		if s.Status == statusFail {
			return fmt.Errorf("claim %s failed", s.Claim)
		}
	}
	return nil
}

func writeClaims(w io.Writer, sum []claimSummary, notebooks int) {
	fmt.Fprintf(w, "Claims of Kawaguchi, Zhang & Deng (arXiv:2106.14836), in OUR formal versions (shared/THEORY.md),\nfrom %d notebook(s):\n\n", notebooks)
	counts := map[string]int{}
	for _, s := range sum {
		counts[s.Status]++
		fmt.Fprintf(w, "%s  %-10s  %s\n", s.Claim, s.Status, s.Title)
		for _, c := range s.Cells {
			fmt.Fprintf(w, "      %s cell %d: %s", c.Notebook, c.Cell, c.Status)
			if c.Title != "" {
				fmt.Fprintf(w, " (%s)", c.Title)
			}
			fmt.Fprintln(w)
			if c.Reason != "" {
				fmt.Fprintf(w, "        reason: %s\n", c.Reason)
			}
			for _, n := range c.Numbers {
				fmt.Fprintf(w, "        %s\n", n)
			}
		}
	}
	fmt.Fprintf(w, "\n%d reproduced, %d failed, %d not run\n", counts[statusPass], counts[statusFail], counts[statusNotRun])
}
