package data

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDownloadSizeCap: a 64 MiB body for an 11-byte file was written to
// disk before being rejected (probe 8 of issue 17). The download must stop
// at the recorded size, whether the server announces the length or not.
func TestDownloadSizeCap(t *testing.T) {
	want := []byte("hello world")
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/announced" {
			w.Header().Set("Content-Length", strconv.Itoa(64<<20))
		}
		chunk := make([]byte, 64<<10)
		copy(chunk, want)
		for i := 0; i < 1024; i++ { // 64 MiB in all
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	opts := &Options{Dir: dir}
	for _, path := range []string{"/chunked", "/announced"} {
		sent.Store(0)
		f := File{Dataset: "semeion", Name: "small.data", URL: srv.URL + path, Size: int64(len(want)), SHA256: sha(want)}
		dest := CachePath(f, opts)
		_, err := download(f, dest, opts)
		if err == nil {
			t.Fatalf("%s: a 64 MiB body was accepted for an 11-byte file", path)
		}
		if !strings.Contains(err.Error(), "longer than the 11 bytes") && !strings.Contains(err.Error(), "announces 67108864 bytes, want 11") {
			t.Fatalf("%s: error %v", path, err)
		}
		if !strings.Contains(err.Error(), "longer") == strings.Contains(path, "chunked") {
			t.Fatalf("%s: error %v", path, err)
		}
		if strings.Contains(path, "chunked") && !strings.Contains(err.Error(), "abandoned after writing 11") {
			t.Fatalf("%s: error %v", path, err)
		}
		if sent.Load() >= 64<<20 { // the client read it all
			t.Fatalf("%s: the whole 64 MiB body was read", path)
		}
		if _, err := os.Stat(dest); err == nil {
			t.Fatalf("%s: the file was created", path)
		}
		entries, _ := os.ReadDir(filepath.Dir(dest))
		for _, e := range entries {
			t.Errorf("%s: left behind %s", path, e.Name())
		}
		t.Logf("%s: %v (server wrote %d bytes before the client stopped)", path, err, sent.Load())
	}
}
