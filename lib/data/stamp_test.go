package data

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// registerFile puts body's real size and checksums into the registry entry
// of dataset/name for the duration of the test and writes body to the
// cache; it returns the entry and the path.
func registerFile(t *testing.T, opts *Options, dataset, name string, body []byte) (File, string) {
	t.Helper()
	s := registry[dataset]
	saved := s.files
	t.Cleanup(func() { s.files = saved })
	s.files = append([]File(nil), s.files...)
	for i := range s.files {
		if s.files[i].Name == name {
			s.files[i].Size, s.files[i].SHA256, s.files[i].MD5, s.files[i].ContentSHA256 = int64(len(body)), sha(body), md(body), ""
			return s.files[i], writeFile(t, CachePath(s.files[i], opts), body)
		}
	}
	t.Fatalf("no file %s in %s", name, dataset)
	return File{}, ""
}

// TestStampCannotVouchForAnotherFile: a .verified stamp made a poisoned
// file load without hashing (probe 6 of issue 17): one replaced with the
// same size and modification time, or stamped by hand.
func TestStampCannotVouchForAnotherFile(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{Dir: dir, Offline: true, NoSystem: true}
	good := []byte(semeionLine(1, 2) + semeionLine(2, 3))
	f, p := registerFile(t, opts, "semeion", "semeion.data", good)
	if _, err := Load("semeion", All, opts); err != nil {
		t.Fatal(err)
	}
	if !stampValid(p, f, opts) {
		t.Fatal("no valid stamp after a verified load")
	}
	st, _ := os.Stat(p)

	// Same size and modification time, other content (a new inode, and
	// the change time moves).
	poison := []byte(semeionLine(7, 2) + semeionLine(2, 3))
	if len(poison) != len(good) {
		t.Fatal("test bug: poison must have the size of the good file")
	}
	time.Sleep(10 * time.Millisecond)
	tmp := p + ".new"
	os.WriteFile(tmp, poison, 0o644)
	os.Chtimes(tmp, st.ModTime(), st.ModTime())
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	_, err := Load("semeion", All, opts)
	wantErr(t, err, "semeion.data", "wrong checksum")

	// Rewritten in place (same inode), mtime set back.
	os.WriteFile(p, good, 0o644)
	if _, err := Load("semeion", All, opts); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(p, poison, 0o644)
	os.Chtimes(p, st.ModTime(), st.ModTime())
	_, err = Load("semeion", All, opts)
	wantErr(t, err, "semeion.data", "wrong checksum")

	// Stamps forged by hand: the format main wrote (path, size, mtime and
	// the expected checksums), and the current format vouching for a
	// poisoned file of another size.
	long := append(append([]byte(nil), poison...), []byte(semeionLine(3, 4))...)
	os.WriteFile(p, long, 0o644)
	now, _ := os.Stat(p)
	abs, _ := filepath.Abs(p)
	old, _ := json.Marshal(map[string]any{"path": abs, "size": now.Size(), "mtime_ns": now.ModTime().UnixNano(), "expected_md5": f.MD5, "expected_sha256": f.SHA256})
	os.WriteFile(stampPath(f, opts), old, 0o644)
	_, err = Load("semeion", All, opts)
	wantErr(t, err, "semeion.data", "wrong length")
	forged, ok := identify(p)
	if !ok {
		t.Fatal("identify")
	}
	forged.FileSHA256, forged.FileMD5, forged.SHA256, forged.MD5, forged.ExpSize = f.SHA256, f.MD5, f.SHA256, f.MD5, f.Size
	b, _ := json.Marshal(forged)
	os.WriteFile(stampPath(f, opts), b, 0o644)
	if stampValid(p, f, opts) {
		t.Fatal("a stamp vouched for a file of the wrong size")
	}
	_, err = Load("semeion", All, opts)
	wantErr(t, err, "semeion.data", "wrong length")

	// A stamp that is a link to /dev/zero is refused, not read forever.
	os.WriteFile(p, good, 0o644)
	os.Remove(stampPath(f, opts))
	if err := os.Symlink("/dev/zero", stampPath(f, opts)); err == nil {
		if stampValid(p, f, opts) {
			t.Fatal("a /dev/zero stamp was valid")
		}
	}
}

// TestCacheRootWithoutHome: with HOME and XDG_CACHE_HOME unset the data
// folder fell back to the world-writable temporary directory.
func TestCacheRootWithoutHome(t *testing.T) {
	t.Setenv("REPDYN_DATA", "")
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	d, err := CacheRoot()
	if err == nil && (d == "" || strings.HasPrefix(d, os.TempDir()) || strings.HasPrefix(d, "/tmp")) {
		t.Fatalf("CacheRoot() = %q, in the shared temporary directory", d)
	}
	if err != nil {
		if !strings.Contains(err.Error(), "REPDYN_DATA") {
			t.Fatalf("error %v does not say what to set", err)
		}
		if _, lerr := Load("mnist", Test, &Options{Offline: true}); lerr == nil || !strings.Contains(lerr.Error(), "REPDYN_DATA") {
			t.Fatalf("Load without a cache root: %v", lerr)
		}
	}
	t.Logf("CacheRoot() = %q, %v", d, err)
	if got := CacheDir(); strings.HasPrefix(got, os.TempDir()) {
		t.Fatalf("CacheDir() = %q", got)
	}
	t.Setenv("REPDYN_DATA", "/srv/data")
	if d, err := CacheRoot(); err != nil || d != "/srv/data" {
		t.Fatalf("REPDYN_DATA: %q %v", d, err)
	}
}
