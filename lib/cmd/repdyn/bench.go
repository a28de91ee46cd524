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
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintln(stdout, "usage: repdyn bench <target> [flags]\n\ntargets:")
		for _, n := range names {
			fmt.Fprintf(stdout, "  %-8s %s\n", n, benchmarks[n].summary)
		}
		return nil
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		return fmt.Errorf("unknown benchmark %q (have: %s)", args[0], strings.Join(names, ", "))
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
