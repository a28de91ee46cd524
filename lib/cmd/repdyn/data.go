package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"repdyn/lib/data"
)

func init() {
	register("data", "list, fetch and verify datasets (MNIST, CIFAR, SVHN, ...)", runData)
	registerBench("loader", "data loader throughput: crop+flip+normalise batches of synthetic 3x32x32 images", benchLoader)
}

// benchLoader measures how many augmented images per second the data
// loader produces (one JSON line per prefetch setting).
func benchLoader(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench loader", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = flagUsage(fs, stdout, `usage: repdyn bench loader [flags]

Measures the data loader on synthetic 3x32x32 images with random crops,
flips and normalisation: one JSON line per prefetch setting (0 and 4) with
"images_per_s" and "ms".

flags:
`, "")
	n := fs.Int("n", 10000, "images in the synthetic dataset")
	batch := fs.Int("batch", 128, "batch size")
	boundInts(fs, 1, maxBenchDim, "n", "batch")
	epochs := fs.Int("epochs", 2, "epochs per measurement")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *epochs < 1 || *epochs > maxBenchReps {
		return fmt.Errorf("--epochs %d: want 1..%d", *epochs, maxBenchReps)
	}
	if err := benchElements(fmt.Sprintf("--n %d", *n), []int{2, *n, 3, 32, 32}); err != nil {
		return err
	}
	ds, err := data.Synthetic(data.SynthConfig{N: *n, C: 3, H: 32, W: 32, Classes: 10, Noise: 0.2, Seed: 1})
	if err != nil {
		return err
	}
	st := data.ComputeStats(ds)
	for _, pf := range []int{0, 4} {
		l, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: *batch, Shuffle: true, Seed: 1, Prefetch: pf,
			Augment: &data.Augment{Pad: 4, FlipH: true, Norm: &st}})
		if err != nil {
			return err
		}
		start := time.Now()
		images := 0
		for e := 0; e < *epochs; e++ {
			for b, ok := l.Next(); ok; b, ok = l.Next() {
				images += b.B
				l.Recycle(b)
			}
		}
		l.Close()
		sec := time.Since(start).Seconds()
		if err := emit(stdout, map[string]any{"bench": "loader", "prefetch": pf, "batch": *batch, "images": images,
			"ms": sec * 1000, "images_per_s": float64(images) / sec}); err != nil {
			return err
		}
	}
	return nil
}

const dataUsage = `usage: repdyn data <list|fetch|verify> [flags] [name|all]

  list                 the known datasets and where their files are
  fetch  <name|all>    download missing files (verified by checksum)
  verify <name|all>    re-hash every file against its recorded checksum

The cache is $REPDYN_DATA (default: %s).
REPDYN_OFFLINE=1 (or -offline) forbids downloads.
Datasets: %s
`

func runData(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("missing subcommand: list, fetch or verify (see 'repdyn data -h')")
	}
	sub := args[0]
	fs := flag.NewFlagSet("data "+sub, flag.ContinueOnError)
	fs.SetOutput(stdout)
	dir := fs.String("dir", "", "cache directory (default $REPDYN_DATA or the user cache)")
	offline := fs.Bool("offline", false, "do not download; fail naming the missing files")
	quiet := fs.Bool("q", false, "no progress messages")
	if sub == "-h" || sub == "-help" || sub == "help" || sub == "--help" {
		fmt.Fprintf(stdout, dataUsage, data.CacheDir(), strings.Join(data.Names(), ", "))
		fmt.Fprintln(stdout, "\nflags (after the subcommand, before the dataset name):")
		fs.PrintDefaults()
		return nil
	}
	fs.Usage = func() {
		fmt.Fprintf(stdout, dataUsage, data.CacheDir(), strings.Join(data.Names(), ", "))
		fmt.Fprintln(stdout, "\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	opts := &data.Options{Dir: *dir, Offline: *offline}
	if !*quiet {
		opts.Log = stdout
	}
	names := func() ([]string, error) {
		if fs.NArg() != 1 {
			return nil, usagef("data %s: want one dataset name or 'all' (known: %s)", sub, strings.Join(data.Names(), ", "))
		}
		if fs.Arg(0) == "all" {
			return data.Names(), nil
		}
		if _, err := data.Describe(fs.Arg(0)); err != nil {
			return nil, err
		}
		return []string{fs.Arg(0)}, nil
	}
	switch sub {
	case "list":
		return dataList(stdout, opts, fs.Args())
	case "fetch":
		ns, err := names()
		if err != nil {
			return err
		}
		var failed []string
		for _, n := range ns {
			paths, err := data.Fetch(n, opts)
			if err != nil {
				fmt.Fprintf(stdout, "%s: FAILED: %v\n", n, err)
				failed = append(failed, n)
				continue
			}
			for _, p := range paths {
				fmt.Fprintf(stdout, "%s: ok %s\n", n, p)
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("fetch failed for %s", strings.Join(failed, ", "))
		}
		return nil
	case "verify":
		ns, err := names()
		if err != nil {
			return err
		}
		opts.Log = nil
		var bad []string
		for _, n := range ns {
			st, err := data.Verify(n, opts)
			if err != nil {
				return err
			}
			for _, s := range st {
				optional := len(s.Splits) == 1 && s.Splits[0] == data.Extra
				status := s.Status
				if s.Err != nil && !(optional && !s.Exists) {
					bad = append(bad, n+"/"+s.Name)
					status = "BAD: " + status
					if !s.Exists {
						status = "MISSING (get " + s.URL + ")"
					}
				}
				fmt.Fprintf(stdout, "%-14s %-28s %s\n    %s\n", n, s.Name, status, s.Path)
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("%d file(s) missing or bad: %s", len(bad), strings.Join(bad, ", "))
		}
		return nil
	default:
		return usagef("unknown subcommand %q: want list, fetch or verify (see 'repdyn data -h')", sub)
	}
}

func dataList(w io.Writer, opts *data.Options, args []string) error {
	ns := data.Names()
	if len(args) == 1 && args[0] != "all" {
		ns = args
	}
	dir := opts.Dir
	if dir == "" {
		dir = data.CacheDir()
	}
	fmt.Fprintf(w, "cache: %s\n", dir)
	for _, n := range ns {
		desc, err := data.Describe(n)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s: %s\n", n, desc)
		st, err := data.Locate(n, opts)
		if err != nil {
			return err
		}
		for _, s := range st {
			sum := "sha256"
			switch {
			case s.SHA256 != "" && s.MD5 != "":
				sum = "sha256+md5"
			case s.SHA256 == "":
				sum = "md5"
			}
			where := s.Path
			if s.System {
				where += " (system copy)"
			}
			fmt.Fprintf(w, "  %-28s %-22s [%s] %s\n", s.Name, s.Status, sum, where)
		}
	}
	return nil
}
