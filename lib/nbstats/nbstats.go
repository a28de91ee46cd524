// Package nbstats measures the code cells of the course notebooks
// (notebooks/*.ipynb) against the rules that keep them short lessons: a
// median code cell of at most 20 non-blank lines, no code cell over 40, no
// function defined in more than one notebook (shared code belongs in
// repdyn/notebook/lesson) and no `var _ =` lines (imports kept alive by
// hand). `repdyn notebooks` prints the table; the kernel tests enforce it.
package nbstats

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Limits are the rules.
type Limits struct {
	Median float64 // largest median code-cell length (non-blank lines)
	Max    int     // largest code cell
}

// Default are the course's limits.
var Default = Limits{Median: 20, Max: 40}

// Notebook is the measurement of one notebook.
type Notebook struct {
	Path     string
	Lines    []int            // non-blank lines of each code cell, in order
	Median   float64          // of Lines
	Max      int              // of Lines
	MaxCell  int              // index (among all cells) of the longest code cell
	Funcs    map[string][]int // top-level function name -> cell indexes
	VarBlank []int            // cells with a `var _ =` line
	cellIdx  []int            // cell index of each entry of Lines
}

var (
	funcRe     = regexp.MustCompile(`(?m)^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)`)
	varBlankRe = regexp.MustCompile(`(?m)^\s*var\s+_\s*=`)
)

// Measure reads one notebook file.
func Measure(path string) (*Notebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nb struct {
		Cells []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		return nil, fmt.Errorf("%s: not a notebook: %v", path, err)
	}
	n := &Notebook{Path: path, Funcs: map[string][]int{}}
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		src := text(c.Source)
		lines := 0
		for _, l := range strings.Split(src, "\n") {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		n.Lines = append(n.Lines, lines)
		n.cellIdx = append(n.cellIdx, i)
		if lines > n.Max {
			n.Max, n.MaxCell = lines, i
		}
		for _, m := range funcRe.FindAllStringSubmatch(src, -1) {
			if m[1] != "main" && m[1] != "init" {
				n.Funcs[m[1]] = append(n.Funcs[m[1]], i)
			}
		}
		if varBlankRe.MatchString(src) {
			n.VarBlank = append(n.VarBlank, i)
		}
	}
	n.Median = median(n.Lines)
	return n, nil
}

// text decodes nbformat's "string or list of strings".
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var l []string
	_ = json.Unmarshal(raw, &l)
	return strings.Join(l, "")
}

func median(v []int) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

// Problems lists every rule the notebooks break, one line each, naming the
// notebook (and cell); for each notebook name the lines are in its own
// entry of byNotebook too ("" holds the cross-notebook ones).
func Problems(nbs []*Notebook, lim Limits) (all []string, byNotebook map[string][]string) {
	byNotebook = map[string][]string{}
	add := func(nb, s string) {
		all = append(all, s)
		byNotebook[nb] = append(byNotebook[nb], s)
	}
	where := map[string][]string{}
	for _, n := range nbs {
		name := filepath.Base(n.Path)
		if n.Median > lim.Median {
			add(name, fmt.Sprintf("%s: median code cell %g non-blank lines (limit %g)", name, n.Median, lim.Median))
		}
		for k, l := range n.Lines {
			if l > lim.Max {
				add(name, fmt.Sprintf("%s: cell %d has %d non-blank lines (limit %d)", name, n.cellIdx[k], l, lim.Max))
			}
		}
		for _, c := range n.VarBlank {
			add(name, fmt.Sprintf("%s: cell %d has a `var _ =` line", name, c))
		}
		for f := range n.Funcs {
			where[f] = append(where[f], name)
		}
	}
	var names []string
	for f, nbs := range where {
		if len(nbs) > 1 {
			names = append(names, f)
		}
	}
	sort.Strings(names)
	for _, f := range names {
		sort.Strings(where[f])
		add("", fmt.Sprintf("function %s is defined in %s: put it in repdyn/notebook/lesson", f, strings.Join(where[f], ", ")))
	}
	return all, byNotebook
}

// Table formats the measurements: per notebook the number of code cells,
// the median and largest cell.
func Table(nbs []*Notebook) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-36s %5s %6s %4s\n", "notebook", "cells", "median", "max")
	for _, n := range nbs {
		fmt.Fprintf(&b, "%-36s %5d %6g %4d\n", filepath.Base(n.Path), len(n.Lines), n.Median, n.Max)
	}
	return b.String()
}

// Glob measures the notebooks matching pattern, in name order.
func Glob(pattern string) ([]*Notebook, error) {
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []*Notebook
	for _, p := range paths {
		n, err := Measure(p)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
