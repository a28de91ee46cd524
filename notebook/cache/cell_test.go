package cache

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"repdyn/lib/cpuinfo"
)

// cellProgram is a GoNB-like main.go: a declaration that computes a cached
// result (CODE is replaced by each test) and a main that reads it.
const cellProgram = `package main

import (
	"fmt"
	"os"

	"repdyn/notebook/cache"
)

func compute() (int, error) {
	return cache.Memo(cache.Default(), "cell/0123456789abcdef", func() (int, error) {
		fmt.Println("computed")
		return CODE, nil
	})
}

func unrelated() int { return 1 }

func main() {
	v, err := compute()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("value", v)
}
`

// cellEnv is a workspace like the one GoNB makes for a cell: its own module,
// the repository and the notebook module in go.work.
type cellEnv struct {
	t     *testing.T
	dir   string
	cache string
}

func newCellEnv(t *testing.T) *cellEnv {
	if testing.Short() {
		t.Skip("builds programs (-short)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module gonb_celltest\n\ngo 1.26.0\n")
	write(t, filepath.Join(dir, "go.work"), "go 1.26.0\n\nuse (\n\t.\n\t"+root+"\n\t"+filepath.Join(root, "notebook")+"\n)\n")
	return &cellEnv{t: t, dir: dir, cache: t.TempDir()}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run writes main.go, builds it (with extra build flags) and runs it with
// extra environment variables; it returns the combined output and whether
// the program succeeded.
func (e *cellEnv) run(code string, flags []string, env ...string) (string, bool) {
	e.t.Helper()
	write(e.t, filepath.Join(e.dir, "main.go"), code)
	bin := filepath.Join(e.dir, "cell")
	build := exec.Command("go", append(append([]string{"build", "-o", bin}, flags...), ".")...)
	build.Dir = e.dir
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "GOWORK="+filepath.Join(e.dir, "go.work"))
	if out, err := build.CombinedOutput(); err != nil {
		e.t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "REPDYN_CACHE="+e.cache, "REPDYN_NOCACHE=", "REPDYN_LIB_VERSION=", "REPDYN_CPU=", "REPDYN_NOASM=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func (e *cellEnv) expect(what, code string, computed bool, flags []string, env ...string) {
	e.t.Helper()
	out, ok := e.run(code, flags, env...)
	if !ok {
		e.t.Fatalf("%s: cell failed:\n%s", what, out)
	}
	if got := strings.Contains(out, "computed\n"); got != computed {
		e.t.Fatalf("%s: computed = %v, want %v; output:\n%s", what, got, computed, out)
	}
	if !computed && !strings.Contains(out, "from cache (computed ") {
		e.t.Fatalf("%s: a cached result without the 'from cache' line:\n%s", what, out)
	}
}

func TestMemoKeyCoversCellCode(t *testing.T) {
	e := newCellEnv(t)
	v1 := strings.Replace(cellProgram, "CODE", "41", 1)
	e.expect("first run", v1, true, nil)
	e.expect("same code again", v1, false, nil)
	e.expect("an unrelated declaration edited", strings.Replace(v1, "return 1 }", "return 2 }", 1), false, nil)
	e.expect("main edited (only reads the result)", strings.Replace(v1, `"value", v`, `"the value", v`, 1), false, nil)
	v2 := strings.Replace(cellProgram, "CODE", "42", 1)
	e.expect("the computing code edited", v2, true, nil)
	if out, _ := e.run(v2, nil); !strings.Contains(out, "value 42") {
		t.Fatalf("edited code: %s", out)
	}
	e.expect("REPDYN_NOCACHE=1", v2, true, nil, "REPDYN_NOCACHE=1")
}

func TestMemoKeyCoversKernelLevel(t *testing.T) {
	if cpuinfo.Get().Selected == "generic" {
		t.Skip("this machine runs the portable kernels already")
	}
	e := newCellEnv(t)
	v := strings.Replace(cellProgram, "CODE", "7", 1)
	e.expect("first run", v, true, nil)
	e.expect("REPDYN_NOASM=1", v, true, nil, "REPDYN_NOASM=1")
	e.expect("REPDYN_NOASM=1 again", v, false, nil, "REPDYN_NOASM=1")
	if r := cpuinfo.Get(); r.Best == "avx512" {
		e.expect("REPDYN_CPU=avx2", v, true, nil, "REPDYN_CPU=avx2")
	}
	e.expect("default level again", v, false, nil)
}

func TestMemoKeyCoversModuleVersions(t *testing.T) {
	e := newCellEnv(t)
	dep := filepath.Join(e.dir, "dep")
	os.MkdirAll(dep, 0o755)
	write(t, filepath.Join(dep, "go.mod"), "module example.com/dep\n\ngo 1.26.0\n")
	write(t, filepath.Join(dep, "dep.go"), "// Package dep is a test dependency.\npackage dep\n\n// N is a number.\nconst N = 5\n")
	v := strings.Replace(strings.Replace(cellProgram, "CODE", "dep.N", 1), `"repdyn/notebook/cache"`, "\"example.com/dep\"\n\t\"repdyn/notebook/cache\"", 1)
	mod := func(version string) {
		write(t, filepath.Join(e.dir, "go.mod"), "module gonb_celltest\n\ngo 1.26.0\n\nrequire example.com/dep "+version+"\n\nreplace example.com/dep "+version+" => ./dep\n")
	}
	mod("v1.0.0")
	e.expect("dep v1.0.0", v, true, nil)
	e.expect("dep v1.0.0 again", v, false, nil)
	mod("v1.1.0")
	e.expect("dep v1.1.0", v, true, nil)
}

func TestMemoRefusesUnhashableSources(t *testing.T) {
	e := newCellEnv(t)
	v := strings.Replace(cellProgram, "CODE", "3", 1)
	out, ok := e.run(v, []string{"-trimpath"}, "REPDYN_ROOT="+filepath.Join("..", ".."))
	if ok || strings.Contains(out, "computed\n") || !strings.Contains(out, "cannot hash the calling cell's code") || !strings.Contains(out, "-trimpath") {
		t.Fatalf("-trimpath: want a loud refusal naming the cell's code, got ok=%v:\n%s", ok, out)
	}
	out, ok = e.run(v, nil, "REPDYN_ROOT=/nonexistent/repdyn")
	if ok || strings.Contains(out, "computed\n") || !strings.Contains(out, "cannot hash the lib sources under /nonexistent/repdyn") {
		t.Fatalf("wrong REPDYN_ROOT: want a loud refusal naming the library sources, got ok=%v:\n%s", ok, out)
	}
	e.expect("REPDYN_NOCACHE=1 computes without the cache", v, true, nil, "REPDYN_ROOT=/nonexistent/repdyn", "REPDYN_NOCACHE=1")
}
