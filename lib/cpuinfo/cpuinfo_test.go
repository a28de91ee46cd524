package cpuinfo

import "testing"

func TestGet(t *testing.T) {
	r := Get()
	if r.Selected == "" || r.Best == "" || r.Arch == "" {
		t.Fatalf("incomplete report: %+v", r)
	}
	if r.Threads < 1 || r.GOMAXPROCS < 1 {
		t.Fatalf("bad thread counts: %+v", r)
	}
	prev := SetThreads(1)
	if Get().Threads != 1 {
		t.Fatal("SetThreads(1) not reflected")
	}
	SetThreads(prev)
}
