package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"repdyn/lib/cpuinfo"
)

func init() {
	register("version", "print the module version, Go version and compute-kernel level", runVersion)
}

// versionInfo is what `repdyn version` reports.
type versionInfo struct {
	Module   string `json:"module"`   // module path
	Version  string `json:"version"`  // module version ("(devel)" for a source build)
	Revision string `json:"revision"` // VCS commit, "+dirty" if modified ("" if unknown)
	Go       string `json:"go"`       // Go version that built the binary
	Platform string `json:"platform"` // GOOS/GOARCH
	Kernels  string `json:"kernels"`  // compute-kernel level in use (lib/cpuinfo)
	Best     string `json:"best"`     // best level this CPU and build support
	Reason   string `json:"reason,omitempty"`
}

func getVersion() versionInfo {
	c := cpuinfo.Get()
	v := versionInfo{Module: "repdyn", Version: "(unknown)", Go: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, Kernels: c.Selected, Best: c.Best, Reason: c.NoAsmReason}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.Module, v.Version = bi.Main.Path, bi.Main.Version
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			v.Revision = rev[:min(12, len(rev))] + dirty
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	return v
}

const versionUsage = `usage: repdyn version [--json]
       repdyn --version

Prints the module path and version (with the VCS commit when the binary was
built from a git checkout), the Go version that built it, the platform and
the compute-kernel level in use (avx512, avx2+fma or generic; see
REPDYN_NOASM and REPDYN_CPU in the README) with the best level this CPU
supports.

flags:
`

func runVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = flagUsage(fs, stdout, versionUsage, "")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	v := getVersion()
	if *asJSON {
		return emit(stdout, v)
	}
	rev := ""
	if v.Revision != "" {
		rev = " (" + v.Revision + ")"
	}
	reason := ""
	if v.Reason != "" {
		reason = "; " + v.Reason
	}
	_, err := fmt.Fprintf(stdout, "%s %s%s, %s %s, kernels %s (best %s%s)\n", v.Module, v.Version, rev, v.Go, v.Platform, v.Kernels, v.Best, reason)
	return err
}
