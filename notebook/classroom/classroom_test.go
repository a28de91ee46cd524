package classroom

import (
	"strings"
	"testing"

	"repdyn/notebook/show"
)

func TestStudentIDFromNbgraderLayout(t *testing.T) {
	t.Setenv(StudentEnv, "")
	t.Setenv("JUPYTERHUB_USER", "hubname")
	for dir, want := range map[string]string{
		"/srv/course/autograded/alice/c3-pl-rate":      "alice",
		"/srv/course/submitted/bob.k/c1-lazy-rich/sub": "bob.k",
		"/srv/course/feedback/carol/c5":                "carol",
		"/home/jovyan/c3-pl-rate":                      "hubname",
		"/srv/course/source/c3-pl-rate":                "hubname",
	} {
		t.Setenv("GONB_DIR", dir)
		if got := StudentID(); got != want {
			t.Errorf("GONB_DIR=%s: StudentID() = %q, want %q", dir, got, want)
		}
	}
	t.Setenv(StudentEnv, "override")
	if got := StudentID(); got != "override" {
		t.Errorf("REPDYN_STUDENT: got %q", got)
	}
}

func TestSeedsDifferPerStudentAndExercise(t *testing.T) {
	a, b := SeedFor("alice", "ex1"), SeedFor("bob", "ex1")
	if a == b {
		t.Fatalf("two students share seed %d", a)
	}
	if SeedFor("alice", "ex1") != a {
		t.Fatal("seed not deterministic")
	}
	if SeedFor("alice", "ex2") == a {
		t.Fatal("two exercises share a seed")
	}
	if a >= 1<<53 || a == 0 {
		t.Fatalf("seed %d out of range", a)
	}
}

func TestGradeFailsWithHints(t *testing.T) {
	code := -1
	exit = func(c int) { code = c }
	defer func() { exit = nil }()
	var out strings.Builder
	show.Out = &out
	defer func() { show.Out = nil }()

	v := show.NewVerdicts("ex").Add("good", 1, "<=", 2).Add("bad", 3, "<=", 2).Hint("divide by ||y||")
	if !strings.Contains(Feedback(v), "bad: 3 <= 2 is false; hint: divide by ||y||") {
		t.Fatalf("feedback: %q", Feedback(v))
	}
	if strings.Contains(Feedback(v), "good") {
		t.Fatalf("feedback names a passing check: %q", Feedback(v))
	}
	Grade(v)
	if code != 1 {
		t.Fatalf("Grade of a failing table: exit %d, want 1", code)
	}
	code = -1
	Grade(show.NewVerdicts("ok").Add("good", 1, "<=", 2))
	if code != -1 {
		t.Fatalf("Grade of a passing table exited %d", code)
	}
	Grade(show.NewVerdicts("empty"))
	if code != 1 {
		t.Fatalf("Grade of an empty table: exit %d, want 1", code)
	}
}
