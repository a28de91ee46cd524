package cache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeys(t *testing.T) {
	a, err := KeyOf("mlp", map[string]int{"b": 2, "a": 1}, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := KeyOf("mlp", map[string]int{"a": 1, "b": 2}, 7)
	c, _ := KeyOf("mlp", map[string]int{"a": 1, "b": 2}, 8)
	if a != b || a == c || !strings.HasPrefix(string(a), "mlp/") {
		t.Fatalf("keys %s %s %s", a, b, c)
	}
	// Boundaries between parts matter.
	x, _ := KeyOf("", "ab", "c")
	y, _ := KeyOf("", "a", "bc")
	if x == y {
		t.Fatal("part boundaries ignored")
	}
	if _, err := KeyOf("bad/ns", 1); err == nil {
		t.Fatal("bad namespace accepted")
	}
	if _, err := KeyOf("", func() {}); err == nil {
		t.Fatal("unencodable part accepted")
	}
	k1 := KeyFor("run", struct{ LR float64 }{0.1}, 1, "data")
	k2 := KeyFor("run", struct{ LR float64 }{0.1}, 2, "data")
	if k1 == k2 {
		t.Fatal("seed ignored")
	}
}

func TestGetPutDelete(t *testing.T) {
	c := Open(t.TempDir())
	k, _ := KeyOf("t", "x")
	if _, ok, err := c.Get(k); ok || err != nil {
		t.Fatalf("empty cache: %v %v", ok, err)
	}
	if err := c.Put(k, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	b, ok, err := c.Get(k)
	if !ok || err != nil || string(b) != "hello" || !c.Has(k) {
		t.Fatalf("get: %q %v %v", b, ok, err)
	}
	if err := c.Put(k, []byte("again")); err != nil {
		t.Fatal(err)
	}
	b, _, _ = c.Get(k)
	if string(b) != "again" {
		t.Fatalf("overwrite: %q", b)
	}
	// No temporary files left behind.
	p, _ := c.Path(k)
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("entries in %s: %d", filepath.Dir(p), len(ents))
	}
	if err := c.Delete(k); err != nil || c.Has(k) {
		t.Fatal("delete failed", err)
	}
	if err := c.Delete(k); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Key{"", "../../etc/passwd", "ns/../x", "a/b/cdefghijk"} {
		if _, _, err := c.Get(bad); err == nil {
			t.Errorf("malformed key %q accepted", bad)
		}
	}
}

type result struct {
	Loss []float64
	W    []float32
	Name string
}

func TestMemo(t *testing.T) {
	c := Open(t.TempDir())
	k := KeyFor("memo", map[string]any{"lr": 0.1}, 42, "synthetic")
	calls := 0
	f := func() (result, error) {
		calls++
		return result{Loss: []float64{0.1, 1.0 / 3}, W: []float32{1.0 / 3, 2e-38}, Name: "r"}, nil
	}
	r1, err := Memo(c, k, f)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Memo(c, k, f)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("f called %d times", calls)
	}
	if r1.Loss[1] != r2.Loss[1] || r1.W[0] != r2.W[0] || r1.W[1] != r2.W[1] {
		t.Fatalf("values changed through the cache: %v %v", r1, r2)
	}
	boom := errors.New("boom")
	k2, _ := KeyOf("memo", "err")
	if _, err := Memo(c, k2, func() (int, error) { return 0, boom }); !errors.Is(err, boom) || c.Has(k2) {
		t.Fatal("error cached or lost", err)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("REPDYN_CACHE", "/some/where")
	if DefaultDir() != "/some/where" || Default().Dir != "/some/where" {
		t.Fatal("REPDYN_CACHE ignored")
	}
	t.Setenv("REPDYN_CACHE", "")
	if !strings.HasSuffix(DefaultDir(), "repdyn") && !strings.HasSuffix(DefaultDir(), "repdyn-cache") {
		t.Fatal(DefaultDir())
	}
}

func TestLibraryVersion(t *testing.T) {
	v := LibraryVersion()
	if v == "" || v == "unknown" {
		t.Fatalf("library version %q (lib/ not found from the source location?)", v)
	}
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, "a.go"), []byte("package a"), 0o644)
	h1, _ := HashTree(d)
	os.WriteFile(filepath.Join(d, "a_test.go"), []byte("package a"), 0o644)
	h2, _ := HashTree(d)
	os.WriteFile(filepath.Join(d, "a.go"), []byte("package a // changed"), 0o644)
	h3, _ := HashTree(d)
	if h1 != h2 || h1 == h3 {
		t.Fatal("HashTree: tests must not count, sources must")
	}
}

func TestSourceVersion(t *testing.T) {
	a, b := SourceVersion("notebook/cache"), SourceVersion("notebook/cache")
	if a != b || a == SourceVersion("notebook/show") || !strings.HasPrefix(a, "src-") {
		t.Fatalf("%s %s", a, b)
	}
	d := t.TempDir()
	os.MkdirAll(filepath.Join(d, "pkg"), 0o755)
	os.WriteFile(filepath.Join(d, "pkg", "a.go"), []byte("package a"), 0o644)
	t.Setenv("REPDYN_ROOT", d)
	v1 := SourceVersion("pkg")
	os.WriteFile(filepath.Join(d, "pkg", "a.go"), []byte("package a // edited"), 0o644)
	if SourceVersion("pkg") == v1 {
		t.Fatal("an edit did not change the version")
	}
}

// TestNoFolderRefuses: a cache with no folder (no home directory and no
// REPDYN_CACHE) refuses to read or write instead of using the current or the
// shared temporary directory.
func TestNoFolderRefuses(t *testing.T) {
	c := Open("")
	err := c.Put(Key("abcdef0123456789"), []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "REPDYN_CACHE") {
		t.Fatalf("Put with no folder: %v, want an error asking for REPDYN_CACHE", err)
	}
	if _, _, err := c.Get(Key("abcdef0123456789")); err == nil {
		t.Fatal("Get with no folder succeeded")
	}
}
