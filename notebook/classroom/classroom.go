// Package classroom holds what the graded assignments of the repdyn course
// (notebooks/course, nbgrader source notebooks) share: the student's identity
// and the per-student seeds derived from it, and Grade, the strict verdict
// that an autograded test cell ends with.
//
// nbgrader scores an autograded test cell 0 when its output has an error or
// anything on stderr, and full points otherwise. Grade makes that contract
// explicit: it shows the verdict table, and when a check fails it prints the
// failing checks with their hints (show.Verdicts.Hint) to stderr and ends the
// cell's process with status 1, whatever REPDYN_STRICT says (exploration mode
// applies to lessons, never to grading).
package classroom

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"repdyn/notebook/show"
)

// StudentEnv names the environment variable that overrides the student id
// (a teacher reproducing a student's numbers: `%env REPDYN_STUDENT=alice`).
const StudentEnv = "REPDYN_STUDENT"

// nbgraderDirs are the course-directory folders in which nbgrader keeps one
// folder per student: <course>/<dir>/<student id>/<assignment>/<notebook>.
var nbgraderDirs = map[string]bool{"submitted": true, "autograded": true, "feedback": true}

var idChars = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,128}$`)

// StudentID returns the id of the student whose notebook runs, from, in order:
// REPDYN_STUDENT; the notebook's folder when it lies in an nbgrader course
// layout (submitted/ID/..., autograded/ID/..., feedback/ID/...: this is what
// `nbgrader autograde` runs); JUPYTERHUB_USER (the student working on the hub,
// whose hub name is their nbgrader id); NB_USER; USER. It returns "" when none
// is set. The notebook's folder is GoNB's GONB_DIR (the kernel's working
// directory) or, outside a kernel, the current directory.
func StudentID() string {
	if id := strings.TrimSpace(os.Getenv(StudentEnv)); id != "" {
		return id
	}
	dir := os.Getenv("GONB_DIR")
	if dir == "" {
		dir, _ = os.Getwd()
	}
	if id := idFromPath(dir); id != "" {
		return id
	}
	for _, env := range []string{"JUPYTERHUB_USER", "NB_USER", "USER"} {
		if id := strings.TrimSpace(os.Getenv(env)); id != "" {
			return id
		}
	}
	return ""
}

// idFromPath finds ID in a path .../submitted/ID/ASSIGNMENT[/...].
func idFromPath(dir string) string {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(dir)), "/")
	for i := len(parts) - 3; i >= 0; i-- {
		if nbgraderDirs[parts[i]] && idChars.MatchString(parts[i+1]) {
			return parts[i+1]
		}
	}
	return ""
}

// Welcome prints which student the notebook runs for and where the id came
// from, in one line (the first output of every assignment's setup cell).
func Welcome(assignment string) {
	id := StudentID()
	if id == "" {
		fmt.Printf("%s: no student id found (set %s, or work on the course's JupyterHub): shared seeds\n", assignment, StudentEnv)
		return
	}
	fmt.Printf("%s for student %q: your data and weights come from seeds derived from this id\n", assignment, id)
}

// Seed returns the seed of one exercise for this student: a hash of the
// student id and the exercise name, so two students get different data and
// weights (their numbers cannot be copied) while one student gets the same
// numbers on every run, in the student's session and at autograding.
func Seed(exercise string) uint64 {
	return SeedFor(StudentID(), exercise)
}

// SeedFor is Seed for a given student id.
func SeedFor(student, exercise string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "repdyn-course\x00%s\x00%s", student, exercise)
	s := h.Sum64() & (1<<53 - 1) // exact in a float64, printable everywhere
	if s == 0 {
		s = 1
	}
	return s
}

// exit is os.Exit, replaceable in tests.
var exit = os.Exit

// Grade shows the verdict table of an autograded test cell. When a check
// fails it prints one line per failing check to stderr — the check, its value
// against the threshold, and its hint (the check's Hint) — and ends the
// process with status 1, so nbgrader scores the cell 0.
func Grade(v *show.Verdicts) {
	if v.Show() && len(v.Checks) > 0 {
		return
	}
	show.Flush()
	fmt.Fprint(os.Stderr, Feedback(v))
	exit(1)
}

// Feedback is what Grade prints for a failing table: one line per failing
// check with its hint.
func Feedback(v *show.Verdicts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "not yet: %s\n", v.Title)
	if len(v.Checks) == 0 {
		b.WriteString("  (the test cell made no checks)\n")
	}
	for _, c := range v.Checks {
		if c.Pass() {
			continue
		}
		op := c.Op
		if op == "" {
			op = "<="
		}
		fmt.Fprintf(&b, "  x %s: %.6g %s %.6g is false", c.Name, c.Value, op, c.Threshold)
		if c.Hint != "" {
			fmt.Fprintf(&b, "; hint: %s", c.Hint)
		}
		b.WriteString("\n")
	}
	return b.String()
}
