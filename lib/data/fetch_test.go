package data

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func md(b []byte) string  { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func TestRegistry(t *testing.T) {
	names := Names()
	want := []string{"cifar10", "cifar100", "fashion-mnist", "kmnist", "mnist", "semeion", "svhn"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("Names() = %v", names)
	}
	for _, n := range names {
		files, _ := Files(n)
		for _, f := range files {
			if f.SHA256 == "" && f.MD5 == "" {
				t.Errorf("%s/%s: no checksum", n, f.Name)
			}
			if f.SHA256 != "" && len(f.SHA256) != 64 || f.MD5 != "" && len(f.MD5) != 32 {
				t.Errorf("%s/%s: malformed checksum", n, f.Name)
			}
			if !strings.HasPrefix(f.URL, "http") || !strings.HasSuffix(f.URL, "/"+f.Name) {
				t.Errorf("%s/%s: URL %s", n, f.Name, f.URL)
			}
		}
	}
	if _, err := Load("nope", Train, nil); err == nil {
		t.Fatal("unknown dataset accepted")
	}
	if _, err := Load("mnist", All, &Options{Dir: t.TempDir(), Offline: true}); err == nil || !strings.Contains(err.Error(), "no split") {
		t.Fatalf("bad split: %v", err)
	}
}

func TestOffline(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("REPDYN_OFFLINE", "1")
	_, err := Load("mnist", Test, &Options{Dir: dir})
	wantErr(t, err, "t10k-images-idx3-ubyte.gz", filepath.Join(dir, "mnist", "t10k-images-idx3-ubyte.gz"),
		"https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz", "missing")
	if !errors.Is(err, ErrOffline) {
		t.Fatalf("error %v is not ErrOffline", err)
	}
	_, err = Fetch("svhn", &Options{Dir: dir, Offline: true})
	wantErr(t, err, "train_32x32.mat", "http://ufldl.stanford.edu/housenumbers/train_32x32.mat")
}

func TestCorruptCacheFile(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{Dir: dir, Offline: true, NoSystem: true}
	// Wrong length.
	p := writeFile(t, filepath.Join(dir, "kmnist", "t10k-labels-idx1-ubyte.gz"), []byte("short"))
	writeFile(t, filepath.Join(dir, "kmnist", "t10k-images-idx3-ubyte.gz"), []byte("short"))
	_, err := Load("kmnist", Test, opts)
	wantErr(t, err, "t10k-images-idx3-ubyte.gz", "wrong length (truncated): 5 bytes, want 3041136", "delete it")
	// Right length, wrong content.
	os.WriteFile(p, make([]byte, 5120), 0o644)
	st, _ := Verify("kmnist", opts)
	var found bool
	for _, s := range st {
		if s.Name == "t10k-labels-idx1-ubyte.gz" {
			found = true
			if s.Err == nil || !strings.Contains(s.Status, "wrong checksum") || !strings.Contains(s.Status, "SHA-256") {
				t.Fatalf("status %q", s.Status)
			}
		}
		if s.Name == "train-images-idx3-ubyte.gz" && s.Status != "missing" {
			t.Fatalf("train images: %q", s.Status)
		}
	}
	if !found {
		t.Fatal("file not reported")
	}
}

func TestVerifyFileAndStamp(t *testing.T) {
	dir := t.TempDir()
	body := []byte("semeion-like content")
	f := File{Dataset: "semeion", Name: "x.data", Size: int64(len(body)), MD5: md(body)}
	p := writeFile(t, filepath.Join(dir, "x.data"), body)
	if how, err := verifyFile(p, f, false); err != nil || how != "ok (md5)" {
		t.Fatalf("%q %v", how, err)
	}
	f.SHA256 = sha(body)
	if how, err := verifyFile(p, f, false); err != nil || how != "ok (sha256+md5)" {
		t.Fatalf("%q %v", how, err)
	}
	f.MD5 = strings.Repeat("0", 32)
	_, err := verifyFile(p, f, false)
	wantErr(t, err, "x.data", "wrong checksum", "MD5")
	// Content hash of a re-compressed system copy.
	raw := []byte("the decompressed data")
	sys := writeFile(t, filepath.Join(dir, "sys.gz"), gz(raw))
	g := File{Dataset: "fashion-mnist", Name: "sys.gz", Size: 999, SHA256: strings.Repeat("1", 64), ContentSHA256: sha(raw)}
	if how, err := verifyFile(sys, g, true); err != nil || !strings.Contains(how, "decompressed") {
		t.Fatalf("%q %v", how, err)
	}
	g.ContentSHA256 = sha([]byte("other"))
	_, err = verifyFile(sys, g, true)
	wantErr(t, err, "sys.gz", "wrong length", "decompressed content SHA-256")
	g.Size = 0
	_, err = verifyFile(sys, g, true)
	wantErr(t, err, "sys.gz", "SHA-256 "+sha(gz(raw)), "decompressed content SHA-256")

	// Stamps: valid after writing, invalid after the file changes.
	opts := &Options{Dir: dir}
	f.MD5 = md(body)
	v, err := verifyFileHashes(p, f, false)
	if err != nil {
		t.Fatal(err)
	}
	writeStamp(p, f, v, opts)
	if !stampValid(p, f, opts) {
		t.Fatal("stamp not valid")
	}
	os.WriteFile(p, append(body, '!'), 0o644)
	if stampValid(p, f, opts) {
		t.Fatal("stamp valid after change")
	}
}

func TestDownload(t *testing.T) {
	good := gz(WriteIDX([]int{3}, []byte{1, 2, 3}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good.gz":
			w.Write(good)
		case "/bad.gz":
			w.Write(good[:len(good)-2])
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	opts := &Options{Dir: dir}
	f := File{Dataset: "mnist", Name: "good.gz", URL: srv.URL + "/good.gz", Size: int64(len(good)), SHA256: sha(good), MD5: md(good)}
	dest := CachePath(f, opts)
	if _, err := download(f, dest, opts); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dest); string(b) != string(good) {
		t.Fatal("downloaded content differs")
	}
	// A bad download leaves nothing behind (and never replaces a good file).
	f2 := f
	f2.Name, f2.URL = "good.gz", srv.URL+"/bad.gz"
	_, err := download(f2, dest, opts)
	wantErr(t, err, "bad.gz", "announces 33 bytes, want 35")
	if b, _ := os.ReadFile(dest); string(b) != string(good) {
		t.Fatal("good file damaged by a failed download")
	}
	f3 := f
	f3.Name, f3.URL = "none.gz", srv.URL+"/none.gz"
	_, err = download(f3, CachePath(f3, opts), opts)
	wantErr(t, err, "404", "place it at")
	// A failing primary location falls back to a mirror.
	f4 := f
	f4.Name, f4.URL, f4.Mirrors = "mirrored.gz", srv.URL+"/none.gz", []string{srv.URL + "/bad.gz", srv.URL + "/good.gz"}
	if _, err := download(f4, CachePath(f4, opts), opts); err != nil {
		t.Fatal(err)
	}
	f4.Mirrors = f4.Mirrors[:1]
	_, err = download(f4, CachePath(f4, opts)+"2", opts)
	wantErr(t, err, "every location failed", "404", "announces 33 bytes")
	entries, _ := os.ReadDir(filepath.Join(dir, "mnist"))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
	if _, err := os.Stat(CachePath(f3, opts)); err == nil {
		t.Fatal("failed download created the file")
	}
}

// TestLoadFromCache loads every format through Load/registry paths with
// crafted files, whose real sizes and checksums it puts in the registry
// for the duration of the test (a stamp cannot vouch for them).
func TestLoadFromCache(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{Dir: dir, Offline: true, NoSystem: true}
	stampAll := func(name string) {
		s := registry[name]
		saved := append([]File(nil), s.files...)
		t.Cleanup(func() { s.files = saved })
		s.files = append([]File(nil), s.files...)
		for i, f := range s.files {
			if b, err := os.ReadFile(CachePath(f, opts)); err == nil {
				s.files[i].Size, s.files[i].SHA256, s.files[i].MD5, s.files[i].ContentSHA256 = int64(len(b)), sha(b), md(b), ""
			}
		}
	}
	// MNIST-style with the real file names and 28x28 images.
	px := make([]byte, 5*28*28)
	writeFile(t, filepath.Join(dir, "mnist", "t10k-images-idx3-ubyte.gz"), gz(WriteIDX([]int{5, 28, 28}, px)))
	writeFile(t, filepath.Join(dir, "mnist", "t10k-labels-idx1-ubyte.gz"), gz(WriteIDX([]int{5}, []byte{0, 1, 2, 3, 9})))
	stampAll("mnist")
	d, err := Load("mnist", Test, opts)
	if err != nil || d.N != 5 || d.Name != "mnist/test" || d.ClassNames[9] != "9" {
		t.Fatalf("%v %v", d, err)
	}
	cifarArchive(t, filepath.Join(dir, "cifar10", "cifar-10-binary.tar.gz"), false, 2, "", false)
	stampAll("cifar10")
	if d, err = Load("cifar10", Train, opts); err != nil || d.N != 10 {
		t.Fatalf("%v %v", d, err)
	}
	svhnMAT(t, filepath.Join(dir, "svhn", "test_32x32.mat"), 4, 32, 32, true, false)
	stampAll("svhn")
	if d, err = Load("svhn", Test, opts); err != nil || d.N != 4 {
		t.Fatalf("%v %v", d, err)
	}
	writeFile(t, filepath.Join(dir, "semeion", "semeion.data"), []byte(semeionLine(1, 2)+semeionLine(2, 3)))
	stampAll("semeion")
	if d, err = Load("semeion", Train, opts); err != nil || d.N != 2 || d.Name != "semeion" {
		t.Fatalf("%v %v", d, err)
	}
	// Wrong image size for the dataset is caught.
	writeFile(t, filepath.Join(dir, "kmnist", "t10k-images-idx3-ubyte.gz"), gz(WriteIDX([]int{1, 27, 28}, make([]byte, 27*28))))
	writeFile(t, filepath.Join(dir, "kmnist", "t10k-labels-idx1-ubyte.gz"), gz(WriteIDX([]int{1}, []byte{0})))
	stampAll("kmnist")
	_, err = Load("kmnist", Test, opts)
	wantErr(t, err, "kmnist", "1x27x28")
}

const fashionDir = "/usr/share/datasets/fashion-mnist"

func TestFashionMNISTSystem(t *testing.T) {
	if _, err := os.Stat(filepath.Join(fashionDir, "t10k-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Fashion-MNIST not installed in %s (apt-get install dataset-fashion-mnist): %v", fashionDir, err)
	}
	opts := &Options{Dir: t.TempDir(), Offline: true}
	st, err := Verify("fashion-mnist", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Err != nil || !s.System {
			t.Fatalf("%s: %s (system %v)", s.Name, s.Status, s.System)
		}
	}
	d, err := Load("fashion-mnist", Test, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 10000 || d.C != 1 || d.H != 28 || d.Classes != 10 || d.ClassNames[9] != "Ankle boot" {
		t.Fatalf("got %v", d)
	}
	for k, c := range d.ClassCounts() {
		if c != 1000 {
			t.Fatalf("class %d has %d test images, want 1000", k, c)
		}
	}
	if testing.Short() {
		return
	}
	tr, err := Load("fashion-mnist", Train, opts)
	if err != nil || tr.N != 60000 {
		t.Fatalf("%v %v", tr, err)
	}
	got, want := ComputeStats(tr), knownStats["fashion-mnist"]
	if d := got.Mean[0] - want.Mean[0]; d > 1e-3 || d < -1e-3 {
		t.Fatalf("mean %v, known %v", got.Mean, want.Mean)
	}
	if d := got.Std[0] - want.Std[0]; d > 1e-3 || d < -1e-3 {
		t.Fatalf("std %v, known %v", got.Std, want.Std)
	}
}
