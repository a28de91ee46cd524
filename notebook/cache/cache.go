// Package cache keeps results across notebook cells and runs.
//
// Every GoNB cell runs as a new process, so nothing stays in memory between
// cells. A Cache is a content-addressed directory of files. Memo keys a
// result on what its caller passes (configuration, seed, data) and on what
// the cache finds itself (Env): the code of the calling cell that computes
// it, the module and Go versions of the binary, the kernel level
// (REPDYN_NOASM, REPDYN_CPU) and the sources of the library and of the
// notebook helpers. Editing a cell's computation therefore recomputes it; a
// source that cannot be hashed makes Memo refuse instead of keying on a
// constant. A cell whose result comes from the cache says so in one line;
// REPDYN_NOCACHE=1 (also as %env in a cell) recomputes.
//
// The directory is $REPDYN_CACHE, or os.UserCacheDir()/repdyn. Each entry
// stores its length and SHA-256, so a truncated or damaged entry is reported
// by path (and recomputed by Memo) instead of being returned. Writes are
// atomic (temporary file, fsync, rename); the temporary files of writers
// killed mid-write are swept when the cache is opened.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"repdyn/lib/data"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Cache is a directory of content-addressed entries.
type Cache struct {
	Dir string
}

// DefaultDir is $REPDYN_CACHE, else the per-user cache folder
// (data.UserCacheDir: $XDG_CACHE_HOME or ~/.cache, the home from the user
// database when HOME is unset)/repdyn. It is "" when there is no per-user
// folder: a Cache with no folder refuses every read and write with a message
// asking for REPDYN_CACHE, never falling back to the shared, world-writable
// temporary directory.
func DefaultDir() string {
	if d := os.Getenv("REPDYN_CACHE"); d != "" {
		return d
	}
	if d, err := data.UserCacheDir(); err == nil {
		return filepath.Join(d, "repdyn")
	}
	return ""
}

// Default returns the cache in DefaultDir.
func Default() *Cache { return Open(DefaultDir()) }

// Open returns a cache in dir (created on first write). The first Open of a
// directory in a process removes the temporary files that writers killed
// mid-write (kill -9) left behind: those of processes that no longer run,
// and any older than an hour.
func Open(dir string) *Cache {
	if dir != "" {
		sweepOnce(dir)
	}
	return &Cache{Dir: dir}
}

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
	if c.Dir == "" {
		return "", errors.New("cache: no cache folder (no home directory for this user): set REPDYN_CACHE")
	}
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

// An entry on disk is a header line and the payload:
//
//	repdyn-cache 1 <payload length> <payload SHA-256, hex> <unix nanoseconds written>\n<payload>
//
// so that a truncated or damaged entry is detected (and named) instead of
// being returned or decoded.
const entryMagic = "repdyn-cache 1"

// CorruptError reports an entry whose header, length or checksum does not
// match its content.
type CorruptError struct {
	Path   string
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("cache: corrupt entry %s: %s", e.Path, e.Reason)
}

func frame(data []byte, written time.Time) []byte {
	sum := sha256.Sum256(data)
	head := fmt.Sprintf("%s %d %s %d\n", entryMagic, len(data), hex.EncodeToString(sum[:]), written.UnixNano())
	return append([]byte(head), data...)
}

func unframe(p string, b []byte) ([]byte, time.Time, error) {
	head, payload, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return nil, time.Time{}, &CorruptError{p, "no header line"}
	}
	f := strings.Fields(string(head))
	if len(f) != 5 || f[0]+" "+f[1] != entryMagic {
		return nil, time.Time{}, &CorruptError{p, "bad header (not written by this version of repdyn/notebook/cache?)"}
	}
	n, err1 := strconv.Atoi(f[2])
	ns, err2 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil || n < 0 {
		return nil, time.Time{}, &CorruptError{p, "bad header fields"}
	}
	if len(payload) != n {
		return nil, time.Time{}, &CorruptError{p, fmt.Sprintf("length %d, header says %d (truncated?)", len(payload), n)}
	}
	if sum := sha256.Sum256(payload); hex.EncodeToString(sum[:]) != f[3] {
		return nil, time.Time{}, &CorruptError{p, "SHA-256 of the content does not match the header"}
	}
	return payload, time.Unix(0, ns), nil
}

// Get returns the bytes stored under k; ok is false if there are none. A
// truncated or damaged entry is an error (*CorruptError, naming its file).
func (c *Cache) Get(k Key) (data []byte, ok bool, err error) {
	data, _, ok, err = c.get(k)
	return data, ok, err
}

func (c *Cache) get(k Key) (data []byte, written time.Time, ok bool, err error) {
	p, err := c.path(k)
	if err != nil {
		return nil, written, false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, written, false, nil
	}
	if err != nil {
		return nil, written, false, err
	}
	data, written, err = unframe(p, b)
	if err != nil {
		return nil, written, false, err
	}
	return data, written, true, nil
}

// Put stores data under k atomically, with its length and checksum.
func (c *Cache) Put(k Key, data []byte) error {
	p, err := c.path(k)
	if err != nil {
		return err
	}
	return WriteFileAtomic(p, frame(data, time.Now()))
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
	_, ok, err = c.getJSON(k, v)
	return ok, err
}

func (c *Cache) getJSON(k Key, v any) (written time.Time, ok bool, err error) {
	b, written, ok, err := c.get(k)
	if err != nil || !ok {
		return written, false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		p, _ := c.path(k)
		return written, false, &CorruptError{p, "content is not the JSON of the stored type: " + err.Error()}
	}
	return written, true, nil
}

// PutJSON stores v's JSON encoding under k atomically.
func (c *Cache) PutJSON(k Key, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cache: entry %s: %w", k, err)
	}
	return c.Put(k, b)
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
	f, err := os.CreateTemp(dir, tempPrefix(path))
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
