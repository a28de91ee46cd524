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
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"repdyn/lib/internal/tempfile"
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

// CacheDir returns the default cache root, or "" when there is none (see
// CacheRoot, which says why).
func CacheDir() string {
	d, _ := CacheRoot()
	return d
}

// CacheRoot returns the default cache root: $REPDYN_DATA if set, else
// os.UserCacheDir()/repdyn/data, else (HOME and XDG_CACHE_HOME both unset)
// .cache/repdyn/data in the home directory the user database gives for this
// user. It never falls back to the shared temporary directory, where
// another user could plant files (or links) before us: with no home
// directory it is an error that says to set REPDYN_DATA.
func CacheRoot() (string, error) {
	if d := os.Getenv("REPDYN_DATA"); d != "" {
		return d, nil
	}
	d, err := UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%w: set REPDYN_DATA to a private directory", err)
	}
	return filepath.Join(d, "repdyn", "data"), nil
}

// UserCacheDir is os.UserCacheDir, except that with HOME and XDG_CACHE_HOME
// both unset it is .cache in the home directory the user database gives
// for this user, and with no such home an error: never the shared,
// world-writable temporary directory. Other per-user caches of repdyn (the
// notebook cache) should use the same rule.
func UserCacheDir() (string, error) {
	if d, err := os.UserCacheDir(); err == nil {
		return d, nil
	}
	home, err := userHome()
	if err != nil {
		return "", fmt.Errorf("data: no cache directory (HOME and XDG_CACHE_HOME are unset, and %v)", err)
	}
	return filepath.Join(home, ".cache"), nil
}

// userHome is the current user's home directory from the user database, if
// it exists.
func userHome() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	if u.HomeDir == "" || u.HomeDir == "/" {
		return "", fmt.Errorf("user %s has no home directory", u.Username)
	}
	if st, err := os.Stat(u.HomeDir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("the home directory %s of user %s does not exist", u.HomeDir, u.Username)
	}
	return u.HomeDir, nil
}

// root is the cache root of these options, or why there is none.
func (o *Options) root() (string, error) {
	if o != nil && o.Dir != "" {
		return o.Dir, nil
	}
	return CacheRoot()
}

// dir is root without the error, for paths in messages; every entry point
// checks root first.
func (o *Options) dir() string {
	d, _ := o.root()
	return d
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
	if _, err := opts.root(); err != nil {
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
	if _, err := opts.root(); err != nil {
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
		} else if v, err := verifyFileHashes(st.Path, f, st.System); err != nil {
			st.Status, st.Err = err.Error(), err
		} else {
			st.Status = v.how
			writeStamp(st.Path, f, v, opts)
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
	if _, err := opts.root(); err != nil {
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
	root, err := opts.root()
	if err != nil {
		return "", err
	}
	// Temporary files of downloads and stamps a killed process left.
	if removed, _ := tempfile.SweepOnce(filepath.Join(root, f.Dataset)); len(removed) > 0 {
		opts.logf("removed stale temporary files in %s: %v", filepath.Join(root, f.Dataset), removed)
	}
	path, system, exists := locate(s, f, opts)
	if exists {
		if stampValid(path, f, opts) {
			return path, nil
		}
		opts.logf("verifying %s", path)
		v, err := verifyFileHashes(path, f, system)
		if err != nil {
			if system {
				return "", fmt.Errorf("%w (system copy; set NoSystem or place a good copy at %s)", err, CachePath(f, opts))
			}
			return "", fmt.Errorf("%w; delete it to download it again from %s", err, f.URL)
		}
		writeStamp(path, f, v, opts)
		return path, nil
	}
	if opts.offline() {
		return "", missingError(f, opts, path)
	}
	v, err := download(f, path, opts)
	if err != nil {
		return "", err
	}
	writeStamp(path, f, v, opts)
	return path, nil
}

// download fetches f into path atomically, trying f.URL and then each
// mirror: a temporary file in the same directory is written, verified,
// synced and renamed into place. It returns the verification's hashes.
func download(f File, path string, opts *Options) (verdict, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return verdict{}, fmt.Errorf("data: %s: %w", f.Dataset, err)
	}
	var errs []string
	for _, u := range append([]string{f.URL}, f.Mirrors...) {
		v, err := downloadFrom(u, f, path, opts)
		if err == nil {
			return v, nil
		}
		opts.logf("%v", err)
		errs = append(errs, err.Error())
	}
	if len(errs) == 1 {
		return verdict{}, fmt.Errorf("%s (download it by hand and place it at %s, or set REPDYN_DATA)", errs[0], path)
	}
	return verdict{}, fmt.Errorf("data: %s: every location failed:\n  %s\n(download it by hand and place it at %s, or set REPDYN_DATA)", f.Name, strings.Join(errs, "\n  "), path)
}

// MaxUnknownDownload caps a download whose size the registry does not
// record (every registered file has one; this is for files added without).
const MaxUnknownDownload = 4 << 30

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

// downloadFrom fetches url into a temporary file beside path, writing at
// most the size the registry records for f (MaxUnknownDownload if none): a
// body that announces or sends more is abandoned at that point, before
// anything beyond it reaches the disk.
func downloadFrom(url string, f File, path string, opts *Options) (verdict, error) {
	opts.logf("downloading %s -> %s", url, path)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return verdict{}, fmt.Errorf("data: %s: %w", f.Name, err)
	}
	resp, err := opts.client().Do(req)
	if err != nil {
		return verdict{}, fmt.Errorf("data: downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return verdict{}, fmt.Errorf("data: downloading %s: HTTP %s", url, resp.Status)
	}
	limit := f.Size
	if limit <= 0 {
		limit = MaxUnknownDownload
	}
	if resp.ContentLength > limit || (f.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != f.Size) {
		return verdict{}, fmt.Errorf("data: downloading %s: the server announces %d bytes, want %d (not the published file)", url, resp.ContentLength, limit)
	}
	tmp, err := tempfile.Create(filepath.Dir(path), f.Name)
	if err != nil {
		return verdict{}, fmt.Errorf("data: %s: %w", f.Name, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	body := &progress{r: resp.Body, size: limit, next: limit / 10, name: f.Name, opts: opts}
	n, err := io.Copy(tmp, io.LimitReader(body, limit))
	if err != nil {
		return verdict{}, fmt.Errorf("data: downloading %s: %w after %d bytes", url, err, n)
	}
	if m, _ := body.Read(make([]byte, 1)); m > 0 {
		return verdict{}, fmt.Errorf("data: downloading %s: the body is longer than the %d bytes expected; abandoned after writing %d", url, limit, n)
	}
	if err := tmp.Sync(); err != nil {
		return verdict{}, fmt.Errorf("data: %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return verdict{}, fmt.Errorf("data: %s: %w", tmpName, err)
	}
	v, err := verifyFileHashes(tmpName, f, false)
	if err != nil {
		return verdict{}, fmt.Errorf("data: downloaded %s is bad: %w", url, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return verdict{}, fmt.Errorf("data: %s: %w", path, err)
	}
	ok = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	opts.logf("downloaded %s (%d bytes, verified)", path, n)
	return v, nil
}

// verdict is the outcome of a verification: how the file was accepted and
// the hashes computed from it (the ones a stamp records).
type verdict struct {
	how     string
	content bool   // accepted by its decompressed content (ContentSHA256)
	sha256  string // of the file
	md5     string // of the file
	csha256 string // of the decompressed content, when content
}

// verifyFile checks size and checksums of the file at path against f and
// returns how it was verified ("ok (sha256+md5)", ...). A file that does not
// match the published size and checksums is still accepted when its
// gzip-decompressed content matches f.ContentSHA256 (a re-compressed copy,
// as Debian ships Fashion-MNIST). system only changes the wording.
func verifyFile(path string, f File, system bool) (string, error) {
	v, err := verifyFileHashes(path, f, system)
	return v.how, err
}

func verifyFileHashes(path string, f File, system bool) (verdict, error) {
	v, perr := verifyPublished(path, f)
	if perr == nil {
		return v, nil
	}
	if f.ContentSHA256 == "" {
		return verdict{}, perr
	}
	h, err := gunzipHash(path)
	if err != nil {
		return verdict{}, fmt.Errorf("%v; and as a re-compressed copy: %w", perr, err)
	}
	if h != f.ContentSHA256 {
		return verdict{}, fmt.Errorf("%v; and as a re-compressed copy: wrong checksum: decompressed content SHA-256 %s, want %s", perr, h, f.ContentSHA256)
	}
	v = verdict{how: "ok (decompressed sha256)", content: true, csha256: h}
	if system {
		v.how = "ok (decompressed sha256, system copy)"
	}
	return v, nil
}

func verifyPublished(path string, f File) (verdict, error) {
	st, err := os.Stat(path)
	if err != nil {
		return verdict{}, fmt.Errorf("data: %s: %w", path, err)
	}
	if f.Size != 0 && st.Size() != f.Size {
		what := "truncated"
		if st.Size() > f.Size {
			what = "too long"
		}
		return verdict{}, fmt.Errorf("data: %s: wrong length (%s): %d bytes, want %d", path, what, st.Size(), f.Size)
	}
	sha, md, err := hashFile(path)
	if err != nil {
		return verdict{}, err
	}
	v := verdict{sha256: sha, md5: md}
	if f.SHA256 == "" && f.MD5 == "" {
		v.how = "ok (no checksum recorded)"
		return v, nil
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
		return verdict{}, fmt.Errorf("data: %s: wrong checksum: %s", path, strings.Join(bad, "; "))
	}
	v.how = "ok (" + strings.Join(used, "+") + ")"
	return v, nil
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
// hundreds of megabytes every time. It vouches only for the file it was
// made from: its size, modification and change times, inode and device
// must all be those of the file now, and the hashes it records (computed
// from the file when it was verified) must be the ones the registry expects
// (and its size the published size). Anything else re-hashes the file;
// `repdyn data verify` always does.
type stamp struct {
	Version int    `json:"version"`
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	fileID
	// What the verification computed from the file.
	FileSHA256    string `json:"file_sha256"`
	FileMD5       string `json:"file_md5"`
	Content       bool   `json:"by_content,omitempty"`
	ContentSHA256 string `json:"content_sha256,omitempty"`
	// What the registry expected then.
	SHA256  string `json:"expected_sha256,omitempty"`
	MD5     string `json:"expected_md5,omitempty"`
	Expect  string `json:"expected_content_sha256,omitempty"`
	ExpSize int64  `json:"expected_size,omitempty"`
}

const stampVersion = 2

// maxStamp bounds the stamp files read.
const maxStamp = 1 << 16

func stampPath(f File, opts *Options) string {
	return filepath.Join(opts.dir(), f.Dataset, "."+f.Name+".verified")
}

// identify describes the file at path as a stamp does (without hashes).
func identify(path string) (stamp, bool) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return stamp{}, false
	}
	abs, _ := filepath.Abs(path)
	return stamp{Version: stampVersion, Path: abs, Size: st.Size(), ModTime: st.ModTime().UnixNano(), fileID: idOf(st)}, true
}

func stampValid(path string, f File, opts *Options) bool {
	now, ok := identify(path)
	if !ok {
		return false
	}
	b, err := readSmall(stampPath(f, opts), maxStamp)
	if err != nil {
		return false
	}
	var got stamp
	if json.Unmarshal(b, &got) != nil {
		return false
	}
	switch {
	case got.Version != stampVersion || got.Path != now.Path || got.Size != now.Size || got.ModTime != now.ModTime || got.fileID != now.fileID:
		return false // another file, or this one changed
	case got.SHA256 != f.SHA256 || got.MD5 != f.MD5 || got.Expect != f.ContentSHA256 || got.ExpSize != f.Size:
		return false // verified against other expectations
	case got.Content:
		return f.ContentSHA256 != "" && got.ContentSHA256 == f.ContentSHA256
	}
	return (f.Size == 0 || now.Size == f.Size) &&
		(f.SHA256 == "" || got.FileSHA256 == f.SHA256) &&
		(f.MD5 == "" || got.FileMD5 == f.MD5)
}

// writeStamp records that the file at path was verified with outcome v
// (written atomically: a temporary file renamed into place).
func writeStamp(path string, f File, v verdict, opts *Options) {
	s, ok := identify(path)
	if !ok {
		return
	}
	s.FileSHA256, s.FileMD5, s.Content, s.ContentSHA256 = v.sha256, v.md5, v.content, v.csha256
	s.SHA256, s.MD5, s.Expect, s.ExpSize = f.SHA256, f.MD5, f.ContentSHA256, f.Size
	b, _ := json.Marshal(s)
	sp := stampPath(f, opts)
	if os.MkdirAll(filepath.Dir(sp), 0o755) != nil {
		return
	}
	writeFileAtomic(sp, b)
}

// readSmall reads a regular file of at most limit bytes (refusing devices,
// FIFOs and larger files).
func readSmall(path string, limit int64) ([]byte, error) {
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	st, err := r.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > limit {
		return nil, fmt.Errorf("data: %s: not a regular file of at most %d bytes", path, limit)
	}
	return io.ReadAll(io.LimitReader(r, limit))
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory (created exclusively, so never through a planted link) and a
// rename.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := tempfile.Create(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr == nil && cerr == nil {
		if werr = os.Rename(tmp.Name(), path); werr == nil {
			return nil
		}
	}
	os.Remove(tmp.Name())
	if werr != nil {
		return werr
	}
	return cerr
}
