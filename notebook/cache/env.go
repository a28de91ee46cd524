package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"repdyn/lib/cpuinfo"
)

// Env is everything a cached result depends on besides the key its caller
// passes: the code of the calling cell, the module versions and Go version
// of the binary, the kernel level the library selected, and the sources of
// the library and of the notebook helpers. Memo mixes it into every key.
type Env struct {
	Cell     string // hash of the calling cell's code (CellSource)
	Modules  string // hash of the dependency versions in debug.ReadBuildInfo
	Go       string // runtime.Version()
	Kernel   string // GOARCH/level selected by lib/internal/cpu (REPDYN_NOASM, REPDYN_CPU)
	Library  string // SourceVersion("lib") (or $REPDYN_LIB_VERSION)
	Notebook string // SourceVersion("notebook")
}

// HashError reports a source the cache cannot hash: it refuses to cache
// rather than key results on a constant.
type HashError struct {
	What string // "the calling cell's code", "the library sources", ...
	Err  error
}

func (e *HashError) Error() string {
	return fmt.Sprintf("cache: cannot hash %s (%v): refusing to cache a result that could be stale; fix the path (REPDYN_ROOT, no -trimpath) or run with REPDYN_NOCACHE=1", e.What, e.Err)
}

func (e *HashError) Unwrap() error { return e.Err }

// CurrentEnv computes the Env of the code that called Memo, skip frames
// above CurrentEnv's caller.
func CurrentEnv(skip int) (Env, error) {
	cell, err := CellSource(skip + 1)
	if err != nil {
		return Env{}, err
	}
	mods, err := moduleVersions()
	if err != nil {
		return Env{}, err
	}
	lib, nb, err := sourceVersions()
	if err != nil {
		return Env{}, err
	}
	return Env{Cell: cell, Modules: mods, Go: runtime.Version(), Kernel: KernelLevel(), Library: lib, Notebook: nb}, nil
}

// KernelLevel is the compute-kernel level in use ("amd64/avx512"): results
// differ in their last bits between levels.
func KernelLevel() string {
	r := cpuinfo.Get()
	return r.Arch + "/" + r.Selected
}

func moduleVersions() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", &HashError{"the module versions", fmt.Errorf("no build information in this binary")}
	}
	return hashBuildInfo(bi), nil
}

// hashBuildInfo hashes the module path and version (and replacement) of
// every dependency and the build settings (tags, flags).
func hashBuildInfo(bi *debug.BuildInfo) string {
	h := sha256.New()
	fmt.Fprintf(h, "go %s\nmain %s %s\n", bi.GoVersion, bi.Main.Path, bi.Main.Version)
	for _, m := range bi.Deps {
		fmt.Fprintf(h, "dep %s %s %s", m.Path, m.Version, m.Sum)
		if r := m.Replace; r != nil {
			fmt.Fprintf(h, " => %s %s %s", r.Path, r.Version, r.Sum)
		}
		fmt.Fprintln(h)
	}
	for _, s := range bi.Settings {
		if strings.HasPrefix(s.Key, "vcs.") {
			continue // the library sources are hashed themselves
		}
		fmt.Fprintf(h, "set %s=%s\n", s.Key, s.Value)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

var (
	srcOnce       sync.Once
	srcLib, srcNB string
	srcErr        error
)

func sourceVersions() (lib, nb string, err error) {
	srcOnce.Do(func() {
		if v := os.Getenv("REPDYN_LIB_VERSION"); v != "" {
			srcLib, srcNB = v, v
			return
		}
		root := RepoRoot()
		if root == "" {
			srcErr = &HashError{"the library sources", fmt.Errorf("repository root unknown: set REPDYN_ROOT")}
			return
		}
		for _, d := range []struct {
			dir string
			out *string
		}{{"lib", &srcLib}, {"notebook", &srcNB}} {
			v, err := HashTree(filepath.Join(root, d.dir))
			if err != nil {
				srcErr = &HashError{"the " + d.dir + " sources under " + root, err}
				return
			}
			*d.out = v[:16]
		}
	})
	return srcLib, srcNB, srcErr
}

// LibraryVersion identifies the code that computes cached results: the
// REPDYN_LIB_VERSION environment variable if set, else a hash of the
// library's sources (every .go and .s file under lib/, tests excluded) found
// from REPDYN_ROOT or from this package's source location. It panics with a
// *HashError when the sources cannot be read: a constant version would
// keep stale results. (Memo already covers it; KeyFor uses it.)
func LibraryVersion() string {
	lib, _, err := sourceVersions()
	if err != nil {
		panic(err)
	}
	return lib
}

// RepoRoot is the repdyn checkout: $REPDYN_ROOT (the kernel sets it), else
// found from this package's source location ("" if neither is known).
func RepoRoot() string {
	if root := os.Getenv("REPDYN_ROOT"); root != "" {
		return root
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "..", "..")
	}
	return ""
}

// SourceVersion hashes the sources (.go and .s, tests excluded) of the given
// directories of the checkout, relative to RepoRoot ("lib", "lib/blas"). It
// panics with a *HashError when a directory cannot be read.
func SourceVersion(dirs ...string) string {
	root := RepoRoot()
	h := sha256.New()
	for _, d := range dirs {
		hv, err := HashTree(filepath.Join(root, filepath.FromSlash(d)))
		if root == "" || err != nil {
			panic(&HashError{"the sources of " + d, err})
		}
		fmt.Fprintf(h, "%s=%s\n", d, hv)
	}
	return "src-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// CellSource hashes the code of the cell that called it (skip frames above
// CellSource's caller; frames of this package are skipped too). In a GoNB
// cell that is the first function of package main on the stack: its
// declaration and, transitively, every top-level declaration of main.go it
// names (functions, types with their methods, variables, constants; init
// functions always), so that editing what computes a result changes its key
// while a cell that only reads the result shares it. Called from outside
// package main (a test), it hashes the whole file of the first caller
// outside this package. It fails with a *HashError when that file cannot be
// read (a binary built with -trimpath, a deleted temporary directory).
func CellSource(skip int) (string, error) {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(skip+2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var first, mainF *runtime.Frame
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "repdyn/notebook/cache.") && !strings.HasPrefix(f.Function, "runtime.") {
			if first == nil {
				g := f
				first = &g
			}
			if strings.HasPrefix(f.Function, "main.") {
				g := f
				mainF = &g
				break
			}
		}
		if !more {
			break
		}
	}
	if first == nil {
		return "", &HashError{"the calling cell's code", fmt.Errorf("no caller on the stack")}
	}
	fr := first
	if mainF != nil {
		fr = mainF
	}
	if !filepath.IsAbs(fr.File) {
		return "", &HashError{"the calling cell's code", fmt.Errorf("source path %q is not absolute (built with -trimpath?)", fr.File)}
	}
	src, err := os.ReadFile(fr.File)
	if err != nil {
		return "", &HashError{"the calling cell's code", err}
	}
	h := sha256.New()
	if mainF == nil {
		fmt.Fprintf(h, "file %s\n", filepath.Base(fr.File))
		h.Write(src)
		return hex.EncodeToString(h.Sum(nil))[:16], nil
	}
	code, err := reachableDecls(fr.File, src, topLevelName(fr.Function))
	if err != nil {
		return "", &HashError{"the calling cell's code in " + fr.File, err}
	}
	h.Write(code)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// topLevelName turns a runtime function name of package main into the
// name of its top-level declaration: "main.run.func1" -> "run",
// "main.(*T).M" -> "T", "main.g[...]" -> "g".
func topLevelName(fn string) string {
	s := strings.TrimPrefix(fn, "main.")
	if strings.HasPrefix(s, "(") {
		s = strings.TrimLeft(s, "(*")
		s, _, _ = strings.Cut(s, ")")
	}
	s, _, _ = strings.Cut(s, ".")
	s, _, _ = strings.Cut(s, "[")
	return s
}

// reachableDecls returns the source text of the declaration named root and
// of every top-level declaration it reaches by name, in file order.
func reachableDecls(name string, src []byte, root string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	byName := map[string][]int{} // top-level name -> indexes of the declarations it needs
	var always []int
	for i, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			switch {
			case d.Recv != nil && len(d.Recv.List) > 0:
				t := d.Recv.List[0].Type
				for {
					switch x := t.(type) {
					case *ast.StarExpr:
						t = x.X
						continue
					case *ast.IndexExpr:
						t = x.X
						continue
					case *ast.IndexListExpr:
						t = x.X
						continue
					}
					break
				}
				if id, ok := t.(*ast.Ident); ok {
					byName[id.Name] = append(byName[id.Name], i) // a type's methods come with it
				}
			case d.Name.Name == "init":
				always = append(always, i)
			default:
				byName[d.Name.Name] = append(byName[d.Name.Name], i)
			}
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue // imports are covered by the module versions
			}
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					byName[s.Name.Name] = append(byName[s.Name.Name], i)
				case *ast.ValueSpec:
					for _, id := range s.Names {
						byName[id.Name] = append(byName[id.Name], i)
					}
				}
			}
		}
	}
	if _, ok := byName[root]; !ok {
		return nil, fmt.Errorf("no top-level declaration %q", root)
	}
	keep := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		if keep[i] {
			return
		}
		keep[i] = true
		ast.Inspect(f.Decls[i], func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				for _, j := range byName[id.Name] {
					visit(j)
				}
			}
			return true
		})
	}
	for _, j := range byName[root] {
		visit(j)
	}
	for _, j := range always {
		visit(j)
	}
	idx := make([]int, 0, len(keep))
	for i := range keep {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var out []byte
	for _, i := range idx {
		d := f.Decls[i]
		out = append(out, src[fset.Position(d.Pos()).Offset:fset.Position(d.End()).Offset]...)
		out = append(out, '\n')
	}
	return out, nil
}
