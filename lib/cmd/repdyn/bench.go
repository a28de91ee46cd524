package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// benchmark is one `repdyn bench <name>` target. Each prints one JSON object
// per line (with at least "gflops" and "ms" where those apply) so that
// scripts can compare runs.
type benchmark struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var benchmarks = map[string]benchmark{}

func registerBench(name, summary string, run func(args []string, stdout io.Writer) error) {
	if _, dup := benchmarks[name]; dup {
		panic("repdyn: benchmark registered twice: " + name)
	}
	benchmarks[name] = benchmark{summary: summary, run: run}
}

func init() {
	register("bench", "measure the compute core and the library (JSON lines)", runBench)
}

func runBench(args []string, stdout io.Writer) error {
	names := make([]string, 0, len(benchmarks))
	for n := range benchmarks {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return usagef("missing target: %s (see 'repdyn bench -h')", strings.Join(names, ", "))
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, "usage: repdyn bench <target> [flags]\n\nEach target prints one JSON object per line (\"gflops\" and \"ms\" where they apply).\n\ntargets:")
		for _, n := range names {
			fmt.Fprintf(stdout, "  %-8s %s\n", n, benchmarks[n].summary)
		}
		fmt.Fprintln(stdout, "\nrun 'repdyn bench <target> -h' for a target's flags")
		return nil
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		return usagef("unknown benchmark %q (have: %s)", args[0], strings.Join(names, ", "))
	}
	return b.run(args[1:], stdout)
}

// emit writes v as one JSON line.
func emit(w io.Writer, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}
