package main

import (
	"flag"
	"fmt"
	"io"

	"repdyn/lib/nbstats"
)

func init() {
	register("notebooks", "measure the notebooks' code cells (median <= 20 lines, none over 40, no repeated functions)", runNotebooks)
}

// runNotebooks: repdyn notebooks [GLOB]: the per-notebook table, then every
// broken rule; exit status 1 when there is one.
func runNotebooks(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("notebooks", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = flagUsage(fs, stdout, `usage: repdyn notebooks [flags] [GLOB]

Measures the code cells of the notebooks matching GLOB (default
notebooks/*.ipynb; quote it): per notebook the number of code cells, the
median and the largest non-blank line count, then every broken rule: a
median above --median, a cell above --max, a function defined in two
notebooks, a "var _ =" line. Exit status 1 when a rule is broken.

flags:
`, "")
	lim := nbstats.Default
	fs.Float64Var(&lim.Median, "median", lim.Median, "largest median code-cell length (non-blank lines)")
	fs.IntVar(&lim.Max, "max", lim.Max, "largest code cell (non-blank lines)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	glob := "notebooks/*.ipynb"
	if fs.NArg() > 1 {
		return usagef("at most one GLOB (default %s)", glob)
	}
	if fs.NArg() == 1 {
		glob = fs.Arg(0)
	}
	nbs, err := nbstats.Glob(glob)
	if err != nil {
		return err
	}
	if len(nbs) == 0 {
		return fmt.Errorf("notebooks: no notebooks match %s", glob)
	}
	fmt.Fprint(stdout, nbstats.Table(nbs))
	all, _ := nbstats.Problems(nbs, lim)
	for _, p := range all {
		fmt.Fprintln(stdout, p)
	}
	if len(all) > 0 {
		return fmt.Errorf("notebooks: %d rule(s) broken", len(all))
	}
	return nil
}
