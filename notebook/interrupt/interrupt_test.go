package interrupt

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLoopCompletes(t *testing.T) {
	var saved []int
	var ran []int
	err := Loop(context.Background(), 2, 10, 3,
		func(i int) error { ran = append(ran, i); return nil },
		func(next int) error { saved = append(saved, next); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ran) != "[2 3 4 5 6 7 8 9]" || fmt.Sprint(saved) != "[5 8 10]" {
		t.Fatalf("ran %v saved %v", ran, saved)
	}
}

func TestLoopInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var saved []int
	err := Loop(ctx, 0, 100, 0, func(i int) error {
		if i == 4 {
			cancel()
		}
		return nil
	}, func(next int) error { saved = append(saved, next); return nil })
	if !errors.Is(err, ErrInterrupted) || !Interrupted(err) || fmt.Sprint(saved) != "[5]" {
		t.Fatalf("err %v saved %v", err, saved)
	}
	if !strings.Contains(err.Error(), "run again to resume") {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := Loop(context.Background(), 0, 3, 1, func(i int) error { return boom }, func(int) error { return nil }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
}

// state is the checkpoint of the helper process below.
type state struct {
	Next int   `json:"next"`
	Done []int `json:"done"`
}

// TestMain doubles as the "training cell" of TestSignalCheckpointResume: with
// REPDYN_INTERRUPT_HELPER set it runs a slow loop, checkpointing to that file.
func TestMain(m *testing.M) {
	if path := os.Getenv("REPDYN_INTERRUPT_HELPER"); path != "" {
		os.Exit(helper(path))
	}
	os.Exit(m.Run())
}

func helper(path string) int {
	ctx, stop := Context()
	defer stop()
	var st state
	if b, err := os.ReadFile(path); err == nil {
		json.Unmarshal(b, &st)
	}
	fmt.Printf("start %d\n", st.Next)
	err := Loop(ctx, st.Next, 40, 10, func(i int) error {
		time.Sleep(25 * time.Millisecond)
		st.Done = append(st.Done, i)
		if i == st.Done[0] {
			fmt.Println("running")
		}
		return nil
	}, func(next int) error {
		st.Next = next
		b, _ := json.Marshal(st)
		return os.WriteFile(path, b, 0o644)
	})
	if Interrupted(err) {
		fmt.Println("stopped:", err)
		return 3
	}
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("finished")
	return 0
}

func TestSignalCheckpointResume(t *testing.T) {
	ckpt := filepath.Join(t.TempDir(), "ckpt.json")
	run := func(interrupt bool) (string, int) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "REPDYN_INTERRUPT_HELPER="+ckpt)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lines []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if interrupt && sc.Text() == "running" {
				// What GoNB does on Jupyter's interrupt: SIGINT, then a kill ~5 s later.
				cmd.Process.Signal(os.Interrupt)
				go func(p *os.Process) { time.Sleep(5 * time.Second); p.Signal(syscall.SIGKILL) }(cmd.Process)
			}
		}
		cmd.Wait()
		return strings.Join(lines, "\n"), cmd.ProcessState.ExitCode()
	}
	start := time.Now()
	out, code := run(true)
	if code != 3 || !strings.Contains(out, "stopped: interrupted at step") {
		t.Fatalf("first run: exit %d, output:\n%s", code, out)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("interrupted run took %v: must stop well before the 5 s kill", d)
	}
	var st state
	b, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal("no checkpoint:", err)
	}
	json.Unmarshal(b, &st)
	if st.Next <= 0 || st.Next >= 40 {
		t.Fatalf("checkpoint at %d", st.Next)
	}
	out, code = run(false)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("start %d", st.Next)) || !strings.Contains(out, "finished") {
		t.Fatalf("resumed run: exit %d, output:\n%s", code, out)
	}
	b, _ = os.ReadFile(ckpt)
	st = state{}
	json.Unmarshal(b, &st)
	if st.Next != 40 || len(st.Done) != 40 {
		t.Fatalf("after resume: next %d, %d steps done", st.Next, len(st.Done))
	}
	for i, s := range st.Done {
		if s != i {
			t.Fatalf("step %d ran as %d: steps lost or repeated", i, s)
		}
	}
}
