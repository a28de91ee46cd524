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
	if err := fs.Parse(args); err != nil {
		return err
	}
	glob := "notebooks/*.ipynb"
	if fs.NArg() > 1 {
		return fmt.Errorf("usage: repdyn notebooks [GLOB] (default %s)", glob)
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
	all, _ := nbstats.Problems(nbs, nbstats.Default)
	for _, p := range all {
		fmt.Fprintln(stdout, p)
	}
	if len(all) > 0 {
		return fmt.Errorf("notebooks: %d rule(s) broken", len(all))
	}
	return nil
}
