// Command repdyn is the command-line front end of the repdyn library:
// training, evaluation, export to PyTorch, NTKs, datasets and benchmarks of
// the compute core.
//
// Each subcommand lives in its own file and registers itself in init with
// register; `repdyn help` lists them.
//
// Conventions: `repdyn` alone prints the usage on stderr and exits 2; a
// usage error (unknown command or flag, bad or missing flag value) prints
// one line on stderr and exits 2; `-h` prints a command's full help on
// stdout and exits 0; a run interrupted by SIGINT or SIGTERM exits 130 or
// 143 after writing its checkpoint; any other failure prints one line on
// stderr and exits 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"repdyn/lib/train"
)

// command is one subcommand: run gets the arguments after its name.
type command struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string, stdout io.Writer) error) {
	if _, dup := commands[name]; dup {
		panic("repdyn: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: repdyn <command> [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'repdyn <command> -h' for a command's flags; 'repdyn --version' for the version")
	fmt.Fprintln(w, "exit status: 0 success, 1 failure, 2 usage error, 130/143 interrupted by SIGINT/SIGTERM (checkpoint written)")
}

// usageError is a mistake in how a command was called: exit status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usage error (exit status 2).
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// parseFlags parses args with fs. -h or --help prints fs.Usage (set it to
// the command's full help, on stdout) and returns flag.ErrHelp; a bad flag
// is a one-line usage error naming the command's help. fs.Usage is not
// printed on errors (the flag package would print it).
func parseFlags(fs *flag.FlagSet, args []string) error {
	help, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = help
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		if help != nil {
			help()
		} else {
			fmt.Fprintf(out, "usage of repdyn %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return err
	case err != nil:
		return usagef("%v (see 'repdyn %s -h')", err, fs.Name())
	}
	return nil
}

// flagUsage returns a FlagSet Usage function printing text (the header),
// the flags, and tail.
func flagUsage(fs *flag.FlagSet, w io.Writer, text, tail string) func() {
	return func() {
		fmt.Fprint(w, text)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fmt.Fprint(w, tail)
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if _, ok := commands[args[1]]; ok {
				return run([]string{args[1], "-h"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "repdyn help: unknown command %q (run 'repdyn help' for the list)\n", args[1])
			return 2
		}
		usage(stdout)
		return 0
	case "-version", "--version":
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "repdyn: unknown command %q (run 'repdyn help' for the list)\n", args[0])
		return 2
	}
	err := c.run(args[1:], stdout)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	fmt.Fprintf(stderr, "repdyn %s: %s\n", args[0], msg)
	var sig *train.SignalError
	var ue usageError
	var u interface{ Usage() bool } // experiment.Error: out-of-range spec values
	switch {
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &u) && u.Usage():
		return 2
	case errors.As(err, &sig):
		return sig.ExitCode()
	}
	return 1
}
