package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"repdyn/lib/cpuinfo"
)

// RunKey is the key of a training run described by a lib/experiment spec:
// its canonical hash (experiment.Spec.Hash), the identity of its data
// (experiment.DataDigest), the library's sources, the Go version and the
// kernel level that runs (REPDYN_NOASM and REPDYN_CPU change the bits).
// The calling cell's source is deliberately not part of it: the spec is the
// whole description of the run, so editing the code around it keeps the
// result, and editing the spec retrains. When the library's sources cannot
// be hashed (and REPDYN_LIB_VERSION is not set), RunKey refuses with an
// error instead of using a constant.
func RunKey(specHash, data string) (Key, error) {
	lib := os.Getenv("REPDYN_LIB_VERSION")
	if lib == "" {
		root := RepoRoot()
		h, err := HashTree(filepath.Join(root, "lib"))
		if err != nil {
			return "", fmt.Errorf("cache: cannot hash the library's sources under %q (%v): set REPDYN_ROOT to the repdyn checkout, or REPDYN_LIB_VERSION", root, err)
		}
		lib = h
	}
	return KeyOf("run", specHash, data, lib, runtime.Version(), runtime.GOARCH, cpuinfo.Get().Selected)
}
