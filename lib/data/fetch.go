package data

import (
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options controls where dataset files are looked for and how they are
// obtained. A nil *Options means the defaults.
type Options struct {
	// Dir is the cache root; "" means CacheDir(). Each dataset has a
	// subdirectory named after it.
	Dir string
	// Offline forbids downloads: a missing file is an error that says where
	// to put it. REPDYN_OFFLINE=1 (or true/yes) in the environment sets it too.
	Offline bool
	// NoSystem skips the system directories (/usr/share/datasets/...).
	NoSystem bool
	// Client does the downloads; nil means a client with a 30-minute timeout.
	Client *http.Client
	// Log receives progress lines (downloads, verification); nil is silent.
	Log io.Writer
}

// CacheDir returns the default cache root: $REPDYN_DATA if set, else
// os.UserCacheDir()/repdyn/data (falling back to the temporary directory).
func CacheDir() string {
	if d := os.Getenv("REPDYN_DATA"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "repdyn", "data")
	}
	return filepath.Join(os.TempDir(), "repdyn-data")
}

func (o *Options) dir() string {
	if o != nil && o.Dir != "" {
		return o.Dir
	}
	return CacheDir()
}

func (o *Options) offline() bool {
	if o != nil && o.Offline {
		return true
	}
	switch strings.ToLower(os.Getenv("REPDYN_OFFLINE")) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func (o *Options) logf(format string, args ...any) {
	if o != nil && o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

func (o *Options) client() *http.Client {
	if o != nil && o.Client != nil {
		return o.Client
	}
	return &http.Client{Timeout: 30 * time.Minute}
}

// CachePath is where file f lives in the cache.
func CachePath(f File, opts *Options) string {
	return filepath.Join(opts.dir(), f.Dataset, f.Name)
}

// ErrOffline is wrapped by the error returned for a missing file when
// downloads are disabled.
var ErrOffline = errors.New("offline mode")

// FileStatus is what Locate and Verify find out about one file.
type FileStatus struct {
	File
	Path   string // where the file is (or would be put, if missing)
	Exists bool
	System bool   // found in a system directory rather than the cache
	Status string // "ok (sha256+md5)" and the like, "missing", "unchecked" or the problem
	Err    error  // non-nil when the file is missing or bad
}

// locate finds f without verifying it: the cache first, then the system
// directories. If it is nowhere, the returned path is its cache path.
func locate(s *spec, f File, opts *Options) (path string, system, exists bool) {
	p := CachePath(f, opts)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p, false, true
	}
	if opts == nil || !opts.NoSystem {
		for _, d := range s.systemDirs {
			sp := filepath.Join(d, f.Name)
			if st, err := os.Stat(sp); err == nil && st.Mode().IsRegular() {
				return sp, true, true
			}
		}
	}
	return p, false, false
}

// Fetch makes sure every file of the named dataset's standard splits (all
// but SVHN's extra) is present and verified, downloading what is missing. It
// returns the files' paths.
func Fetch(name string, opts *Options) ([]string, error) {
	s, err := lookup(name)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range s.files {
		if len(f.Splits) == 1 && f.Splits[0] == Extra {
			continue
		}
		p, err := ensure(s, f, opts)
		if err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// FetchFile makes sure one file is present and verified and returns its path.
func FetchFile(f File, opts *Options) (string, error) {
	s, err := lookup(f.Dataset)
	if err != nil {
		return "", err
	}
	return ensure(s, f, opts)
}

// Verify checks every file of the named dataset (including ones not needed
// by the standard splits, which may be reported missing) against its
// recorded size and checksums, always re-reading the whole file.
func Verify(name string, opts *Options) ([]FileStatus, error) {
	s, err := lookup(name)
	if err != nil {
		return nil, err
	}
	out := make([]FileStatus, 0, len(s.files))
	for _, f := range s.files {
		st := FileStatus{File: f}
		st.Path, st.System, st.Exists = locate(s, f, opts)
		if !st.Exists {
			st.Status = "missing"
			st.Err = fmt.Errorf("data: %s: file %s is missing: run `repdyn data fetch %s`, or download %s and place it at %s",
				f.Dataset, f.Name, f.Dataset, f.URL, st.Path)
		} else if how, err := verifyFile(st.Path, f, st.System); err != nil {
			st.Status, st.Err = err.Error(), err
		} else {
			st.Status = how
			writeStamp(st.Path, f, opts)
		}
		out = append(out, st)
	}
	return out, nil
}

// Locate reports where the files of a dataset are, without reading them.
func Locate(name string, opts *Options) ([]FileStatus, error) {
	s, err := lookup(name)
	if err != nil {
		return nil, err
	}
	out := make([]FileStatus, 0, len(s.files))
	for _, f := range s.files {
		st := FileStatus{File: f}
		st.Path, st.System, st.Exists = locate(s, f, opts)
		switch {
		case !st.Exists:
			st.Status = "missing"
		case stampValid(st.Path, f, opts):
			st.Status = "ok (verified earlier)"
		default:
			st.Status = "unchecked"
		}
		out = append(out, st)
	}
	return out, nil
}

func missingError(f File, opts *Options, path string) error {
	return fmt.Errorf("data: %s: file %s is missing: %w (REPDYN_OFFLINE or Options.Offline): download %s and place it at %s",
		f.Dataset, f.Name, ErrOffline, f.URL, path)
}

// ensure returns the path of a present, verified copy of f, downloading it
// into the cache when it is missing.
func ensure(s *spec, f File, opts *Options) (string, error) {
	path, system, exists := locate(s, f, opts)
	if exists {
		if stampValid(path, f, opts) {
			return path, nil
		}
		opts.logf("verifying %s", path)
		if _, err := verifyFile(path, f, system); err != nil {
			if system {
				return "", fmt.Errorf("%w (system copy; set NoSystem or place a good copy at %s)", err, CachePath(f, opts))
			}
			return "", fmt.Errorf("%w; delete it to download it again from %s", err, f.URL)
		}
		writeStamp(path, f, opts)
		return path, nil
	}
	if opts.offline() {
		return "", missingError(f, opts, path)
	}
	if err := download(f, path, opts); err != nil {
		return "", err
	}
	writeStamp(path, f, opts)
	return path, nil
}

// download fetches f into path atomically, trying f.URL and then each
// mirror: a temporary file in the same directory is written, verified,
// synced and renamed into place.
func download(f File, path string, opts *Options) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("data: %s: %w", f.Dataset, err)
	}
	var errs []string
	for _, u := range append([]string{f.URL}, f.Mirrors...) {
		err := downloadFrom(u, f, path, opts)
		if err == nil {
			return nil
		}
		opts.logf("%v", err)
		errs = append(errs, err.Error())
	}
	if len(errs) == 1 {
		return fmt.Errorf("%s (download it by hand and place it at %s, or set REPDYN_DATA)", errs[0], path)
	}
	return fmt.Errorf("data: %s: every location failed:\n  %s\n(download it by hand and place it at %s, or set REPDYN_DATA)", f.Name, strings.Join(errs, "\n  "), path)
}

// progress logs a download's progress every 10% (when the size is known).
type progress struct {
	r       io.Reader
	n, size int64
	next    int64
	name    string
	opts    *Options
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.size > 0 && p.n >= p.next && p.n < p.size {
		p.opts.logf("  %s: %d%% (%d of %d bytes)", p.name, 100*p.n/p.size, p.n, p.size)
		p.next += p.size / 10
	}
	return n, err
}

func downloadFrom(url string, f File, path string, opts *Options) error {
	opts.logf("downloading %s -> %s", url, path)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("data: %s: %w", f.Name, err)
	}
	resp, err := opts.client().Do(req)
	if err != nil {
		return fmt.Errorf("data: downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("data: downloading %s: HTTP %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+f.Name+".part-*")
	if err != nil {
		return fmt.Errorf("data: %s: %w", f.Name, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	size := f.Size
	if size == 0 {
		size = resp.ContentLength
	}
	body := &progress{r: resp.Body, size: size, next: size / 10, name: f.Name, opts: opts}
	n, err := io.Copy(tmp, body)
	if err != nil {
		return fmt.Errorf("data: downloading %s: %w after %d bytes", url, err, n)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("data: %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("data: %s: %w", tmpName, err)
	}
	if _, err := verifyFile(tmpName, f, false); err != nil {
		return fmt.Errorf("data: downloaded %s is bad: %w", url, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("data: %s: %w", path, err)
	}
	ok = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	opts.logf("downloaded %s (%d bytes, verified)", path, n)
	return nil
}

// verifyFile checks size and checksums of the file at path against f and
// returns how it was verified ("ok (sha256+md5)", ...). A file that does not
// match the published size and checksums is still accepted when its
// gzip-decompressed content matches f.ContentSHA256 (a re-compressed copy,
// as Debian ships Fashion-MNIST). system only changes the wording.
func verifyFile(path string, f File, system bool) (string, error) {
	how, perr := verifyPublished(path, f)
	if perr == nil {
		return how, nil
	}
	if f.ContentSHA256 == "" {
		return "", perr
	}
	h, err := gunzipHash(path)
	if err != nil {
		return "", fmt.Errorf("%v; and as a re-compressed copy: %w", perr, err)
	}
	if h != f.ContentSHA256 {
		return "", fmt.Errorf("%v; and as a re-compressed copy: wrong checksum: decompressed content SHA-256 %s, want %s", perr, h, f.ContentSHA256)
	}
	if system {
		return "ok (decompressed sha256, system copy)", nil
	}
	return "ok (decompressed sha256)", nil
}

func verifyPublished(path string, f File) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("data: %s: %w", path, err)
	}
	if f.Size != 0 && st.Size() != f.Size {
		what := "truncated"
		if st.Size() > f.Size {
			what = "too long"
		}
		return "", fmt.Errorf("data: %s: wrong length (%s): %d bytes, want %d", path, what, st.Size(), f.Size)
	}
	if f.SHA256 == "" && f.MD5 == "" {
		return "ok (no checksum recorded)", nil
	}
	sha, md, err := hashFile(path)
	if err != nil {
		return "", err
	}
	var bad, used []string
	if f.SHA256 != "" {
		used = append(used, "sha256")
		if sha != f.SHA256 {
			bad = append(bad, fmt.Sprintf("SHA-256 %s, want %s", sha, f.SHA256))
		}
	}
	if f.MD5 != "" {
		used = append(used, "md5")
		if md != f.MD5 {
			bad = append(bad, fmt.Sprintf("MD5 %s, want %s", md, f.MD5))
		}
	}
	if len(bad) > 0 {
		return "", fmt.Errorf("data: %s: wrong checksum: %s", path, strings.Join(bad, "; "))
	}
	return "ok (" + strings.Join(used, "+") + ")", nil
}

func hashFile(path string) (sha, md string, err error) {
	r, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("data: %w", err)
	}
	defer r.Close()
	hs, hm := sha256.New(), md5.New()
	if _, err := io.Copy(io.MultiWriter(hs, hm), r); err != nil {
		return "", "", fmt.Errorf("data: reading %s: %w", path, err)
	}
	return hexSum(hs), hexSum(hm), nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func gunzipHash(path string) (string, error) {
	r, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	defer r.Close()
	z, err := gzip.NewReader(r)
	if err != nil {
		return "", fmt.Errorf("data: %s: bad gzip: %w", path, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, z); err != nil {
		return "", fmt.Errorf("data: %s: bad gzip: %w", path, err)
	}
	return hexSum(h), nil
}

// A stamp records that a file was verified, so that loading does not hash
// hundreds of megabytes every time. It is keyed on path, size and
// modification time; `repdyn data verify` always re-hashes.
type stamp struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	SHA256  string `json:"expected_sha256,omitempty"`
	MD5     string `json:"expected_md5,omitempty"`
	Content string `json:"expected_content_sha256,omitempty"`
}

func stampPath(f File, opts *Options) string {
	return filepath.Join(opts.dir(), f.Dataset, "."+f.Name+".verified")
}

func makeStamp(path string, f File) (stamp, bool) {
	st, err := os.Stat(path)
	if err != nil {
		return stamp{}, false
	}
	abs, _ := filepath.Abs(path)
	return stamp{Path: abs, Size: st.Size(), ModTime: st.ModTime().UnixNano(), SHA256: f.SHA256, MD5: f.MD5, Content: f.ContentSHA256}, true
}

func stampValid(path string, f File, opts *Options) bool {
	want, ok := makeStamp(path, f)
	if !ok {
		return false
	}
	b, err := os.ReadFile(stampPath(f, opts))
	if err != nil {
		return false
	}
	var got stamp
	return json.Unmarshal(b, &got) == nil && got == want
}

func writeStamp(path string, f File, opts *Options) {
	s, ok := makeStamp(path, f)
	if !ok {
		return
	}
	b, _ := json.Marshal(s)
	sp := stampPath(f, opts)
	if os.MkdirAll(filepath.Dir(sp), 0o755) != nil {
		return
	}
	tmp := sp + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, sp)
	}
}
