// Package cache keeps results across notebook cells and runs.
//
// Every GoNB cell runs as a new process, so nothing stays in memory between
// cells. A Cache is a content-addressed directory of files: the key of a
// result is the hash of what determines it (configuration, seed, data
// identity and the library's version), so a later cell, or a re-run of the
// whole notebook, finds the earlier result instead of recomputing it, and
// gets exactly the same numbers.
//
// The directory is $REPDYN_CACHE, or os.UserCacheDir()/repdyn. Writes are
// atomic (temporary file, fsync, rename), so an interrupted cell never leaves
// a half-written entry.
package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Cache is a directory of content-addressed entries.
type Cache struct {
	Dir string
}

// DefaultDir is $REPDYN_CACHE, else os.UserCacheDir()/repdyn, else
// $TMPDIR/repdyn-cache.
func DefaultDir() string {
	if d := os.Getenv("REPDYN_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "repdyn")
	}
	return filepath.Join(os.TempDir(), "repdyn-cache")
}

// Default returns the cache in DefaultDir.
func Default() *Cache { return &Cache{Dir: DefaultDir()} }

// Open returns a cache in dir (created on first write).
func Open(dir string) *Cache { return &Cache{Dir: dir} }

// Key names an entry: a hex SHA-256, optionally prefixed by a readable
// namespace ("mlp/3f2a...").
type Key string

var nsRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// KeyOf hashes the JSON encoding of parts (maps are encoded with sorted keys
// by encoding/json, so equal values give equal keys). The namespace, if not
// empty, is kept readable in front of the hash.
func KeyOf(namespace string, parts ...any) (Key, error) {
	if namespace != "" && !nsRe.MatchString(namespace) {
		return "", fmt.Errorf("cache: namespace %q: use letters, digits, '.', '_' or '-'", namespace)
	}
	h := sha256.New()
	for i, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			return "", fmt.Errorf("cache: key part %d (%T): %w", i, p, err)
		}
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if namespace == "" {
		return Key(sum), nil
	}
	return Key(namespace + "/" + sum), nil
}

// KeyFor is the key of a training run or computation: the hash of its
// configuration (any JSON-encodable value), seed, data identity (a string
// naming the data: file names and sizes, a subset spec, a hash) and the
// library version (LibraryVersion). It panics if config cannot be encoded
// as JSON, which is a programming error.
func KeyFor(namespace string, config any, seed int64, data string) Key {
	k, err := KeyOf(namespace, config, seed, data, LibraryVersion())
	if err != nil {
		panic(err)
	}
	return k
}

func (c *Cache) path(k Key) (string, error) {
	s := string(k)
	ns, sum, found := strings.Cut(s, "/")
	if !found {
		ns, sum = "", s
	}
	if len(sum) < 8 || strings.ContainsAny(sum, `/\.`) || (ns != "" && !nsRe.MatchString(ns)) {
		return "", fmt.Errorf("cache: malformed key %q", s)
	}
	return filepath.Join(c.Dir, ns, sum[:2], sum), nil
}

// Path returns the file that holds k's entry (it may not exist), for callers
// that write large artifacts themselves with WriteFileAtomic.
func (c *Cache) Path(k Key) (string, error) { return c.path(k) }

// Get returns the bytes stored under k; ok is false if there are none.
func (c *Cache) Get(k Key) (data []byte, ok bool, err error) {
	p, err := c.path(k)
	if err != nil {
		return nil, false, err
	}
	data, err = os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// Put stores data under k atomically.
func (c *Cache) Put(k Key, data []byte) error {
	p, err := c.path(k)
	if err != nil {
		return err
	}
	return WriteFileAtomic(p, data)
}

// Delete removes k's entry (no error if absent).
func (c *Cache) Delete(k Key) error {
	p, err := c.path(k)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// GetJSON decodes k's entry into v; ok is false if there is none.
func (c *Cache) GetJSON(k Key, v any) (ok bool, err error) {
	b, ok, err := c.Get(k)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("cache: entry %s: %w", k, err)
	}
	return true, nil
}

// PutJSON stores v's JSON encoding under k atomically.
func (c *Cache) PutJSON(k Key, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cache: entry %s: %w", k, err)
	}
	return c.Put(k, b)
}

// Memo returns the value stored under k, or computes it with f, stores it and
// returns it. Values go through JSON (float64 and float32 round-trip exactly),
// so the second call returns what the first computed. Errors from f are not
// cached.
func Memo[T any](c *Cache, k Key, f func() (T, error)) (T, error) {
	var v T
	ok, err := c.GetJSON(k, &v)
	if err != nil {
		return v, err
	}
	if ok {
		return v, nil
	}
	v, err = f()
	if err != nil {
		return v, err
	}
	return v, c.PutJSON(k, v)
}

// Has reports whether k has an entry.
func (c *Cache) Has(k Key) bool {
	p, err := c.path(k)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory that is fsynced and renamed over path, then fsyncs the
// directory: readers see the old content or the new one, never a part.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return nil
}

var (
	libOnce    sync.Once
	libVersion string
)

// LibraryVersion identifies the code that computes cached results: the
// REPDYN_LIB_VERSION environment variable if set, else a hash of the
// library's sources (every .go and .s file under lib/, tests excluded) found
// from REPDYN_ROOT or from this package's source location, else "unknown".
// Changing the library thus invalidates the cache.
func LibraryVersion() string {
	libOnce.Do(func() {
		if v := os.Getenv("REPDYN_LIB_VERSION"); v != "" {
			libVersion = v
			return
		}
		libVersion = SourceVersion("lib")
	})
	return libVersion
}

// RepoRoot is the repdyn checkout: $REPDYN_ROOT (the kernel sets it), else
// found from this package's source location.
func RepoRoot() string {
	if root := os.Getenv("REPDYN_ROOT"); root != "" {
		return root
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Join(filepath.Dir(file), "..", "..")
	}
	return ""
}

// SourceVersion hashes the sources (.go and .s, tests excluded) of the given
// directories of the checkout, relative to RepoRoot ("lib", "lib/blas",
// "notebook/lesson"): a narrower version than LibraryVersion for results that
// depend only on those packages. Directories that cannot be read count as
// "unknown".
func SourceVersion(dirs ...string) string {
	root := RepoRoot()
	h := sha256.New()
	for _, d := range dirs {
		v := "unknown"
		if root != "" {
			if hv, err := HashTree(filepath.Join(root, filepath.FromSlash(d))); err == nil {
				v = hv
			}
		}
		fmt.Fprintf(h, "%s=%s\n", d, v)
	}
	return "src-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// HashTree hashes the names and contents of the .go and .s files (not tests)
// under dir.
func HashTree(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != dir && (strings.HasPrefix(n, ".") || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		n := d.Name()
		if (strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go")) || strings.HasSuffix(n, ".s") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("cache: no sources under %s", dir)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
