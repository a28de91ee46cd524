"""The course's release check: every assignment in notebooks/course/source,
released and autograded by nbgrader's rules (course_release.py), with the
repdyn kernel.

For every assignment:
  - no delimiter outside its cell type, metadata nbgrader accepts;
  - the solution (source) version scores full points on every autograded
    cell and no cell fails;
  - the released (student) version: solution regions replaced by the Go stub,
    hidden tests and mark schemes gone, locked cells unchanged, grade cells
    locked; executed, every autograded cell scores 0 and every other code cell
    runs (it compiles around the stubs);
and for one assignment, the nbgrader workflow end to end: a student's
submission in autograded/<id>/<assignment>/ gets that student's seeds (the
printed id) and full points, tampered locked cells are restored, and a
solution that does not compile costs only its own exercise's points.

Needs the kernel in JUPYTER_PATH (kernel/ci-test.sh installs it there) and
Debian's nbformat/nbclient. REPDYN_COURSE=GLOB limits the assignments.
"""

import concurrent.futures
import copy
import fnmatch
import glob
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

import nbformat

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import course_release as cr  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COURSE = os.path.join(ROOT, "notebooks", "course")
TIMEOUT = 300


def assignments():
    paths = sorted(glob.glob(os.path.join(COURSE, "source", "*", "*.ipynb")))
    pat = os.environ.get("REPDYN_COURSE")
    if pat:
        paths = [p for p in paths if fnmatch.fnmatch(os.path.basename(p), pat)]
    return paths


def run(nb, cwd, student="teacher"):
    env = dict(os.environ)
    env.pop("JUPYTERHUB_USER", None)
    env["REPDYN_STUDENT"] = student
    t = time.time()
    return cr.execute(nb, cwd, timeout=TIMEOUT, env=env), time.time() - t


class Static(unittest.TestCase):
    """Checks that need no kernel: delimiters, metadata, the release rules."""

    @classmethod
    def setUpClass(cls):
        cls.sources = {p: nbformat.read(p, as_version=4) for p in assignments()}
        if not cls.sources:
            raise unittest.SkipTest("no assignments match REPDYN_COURSE")
        cls.releases = {p: cr.generate(nb, p) for p, nb in cls.sources.items()}

    def test_config_stub_matches(self):
        from traitlets.config import Config
        c = Config()
        with open(os.path.join(COURSE, "nbgrader_config.py")) as f:
            exec(f.read(), {"get_config": lambda: c})
        self.assertEqual(c.ClearSolutions.code_stub["go"], cr.CODE_STUBS["go"],
                         "nbgrader_config.py's Go code stub differs from the one the release check uses")
        self.assertEqual(c.Execute.timeout, TIMEOUT)

    def test_delimiters_and_metadata(self):
        for p, nb in self.sources.items():
            self.assertEqual(cr.check_delimiters(nb, p) + cr.check_metadata(nb, p), [], p)

    def test_stated_points(self):
        for p, nb in self.sources.items():
            m = re.search(r"(\d+) points: (\d+) autograded, (\d+) graded by hand", nb.cells[0].source)
            self.assertTrue(m, p + ": the intro states the points")
            auto = sum(cr.meta(c)["points"] for c in nb.cells if cr.is_grade(c) and c.cell_type == "code")
            hand = sum(cr.meta(c)["points"] for c in nb.cells if cr.is_task(c) or (cr.is_grade(c) and c.cell_type == "markdown"))
            self.assertEqual((int(m.group(1)), int(m.group(2)), int(m.group(3))), (auto + hand, auto, hand), p)

    def test_delimiter_check_catches_prose(self):
        nb = copy.deepcopy(next(iter(self.sources.values())))
        nb.cells[0].source += "\n\nSolutions sit between `// BEGIN SOLUTION` and the end marker."
        probs = cr.check_delimiters(nb, "x.ipynb")
        self.assertTrue(any("outside a solution cell" in q for q in probs), probs)
        with self.assertRaises(cr.ReleaseError):
            cr.generate(nb, "x.ipynb")

    def test_course_covers_claims(self):
        names = " ".join(os.path.basename(os.path.dirname(p)) for p in self.sources)
        if os.environ.get("REPDYN_COURSE"):
            self.skipTest("subset of assignments")
        for claim in ("c1", "c2", "c3", "c4", "c5", "c7"):
            self.assertRegex(names, r"\b%s-" % claim)

    def test_release_rules(self):
        for p, src in self.sources.items():
            rel = self.releases[p]
            self.assertEqual(len(rel.cells), len(src.cells), p)
            for s, r in zip(src.cells, rel.cells):
                name = "%s %s" % (os.path.basename(p), cr.meta(s).get("grade_id"))
                for delim in (cr.BEGIN_SOLUTION, cr.END_SOLUTION, cr.BEGIN_HIDDEN, cr.END_HIDDEN, cr.BEGIN_MARK, cr.END_MARK):
                    self.assertNotIn(delim, r.source, name)
                if cr.is_solution(s):
                    self.assertTrue("YOUR CODE HERE" in r.source or cr.TEXT_STUB in r.source, name)
                    self.assertIs(r.metadata.get("deletable"), False, name)
                elif cr.is_grade(s) or cr.is_locked(s):
                    self.assertIs(r.metadata.get("editable"), False, name)
                    if cr.BEGIN_HIDDEN not in s.source and cr.BEGIN_MARK not in s.source:
                        self.assertEqual(r.source, s.source, "locked cell changed: " + name)
                if cr.is_grade(s) and s.cell_type == "code":
                    self.assertIn("classroom.Grade(", s.source, name + ": a test cell must end in classroom.Grade")


class Course(unittest.TestCase):
    timings = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="repdyn-course-")
        cls.sources = {p: nbformat.read(p, as_version=4) for p in assignments()}
        if not cls.sources:
            raise unittest.SkipTest("no assignments match REPDYN_COURSE")
        cls.releases = {p: cr.generate(nb, p) for p, nb in cls.sources.items()}
        # Execute every solution and every release, two kernels at a time.
        jobs = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for p in cls.sources:
                d = os.path.dirname(p)
                jobs[(p, "solution")] = pool.submit(run, cls.sources[p], d)
                jobs[(p, "release")] = pool.submit(run, cls.releases[p], d)
            cls.executed = {k: f.result() for k, f in jobs.items()}
        for (p, which), (_, secs) in cls.executed.items():
            cls.timings["%s %s" % (os.path.basename(p), which)] = round(secs, 1)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        print("\ncourse execution times (s): %s" % cls.timings, file=sys.stderr)

    def test_solutions_score_full_points(self):
        for p in self.sources:
            nb, _ = self.executed[(p, "solution")]
            for i, c in enumerate(nb.cells):
                self.assertFalse(cr.has_failed(c), "%s cell %d (%s) failed: %s" % (p, i, cr.meta(c).get("grade_id"), cr.errors(c)))
            g = cr.grades(nb)
            self.assertTrue(g, p)
            self.assertEqual(sum(x[1] for x in g), sum(x[2] for x in g), "%s: %s" % (p, g))

    def test_released_stubs_score_zero(self):
        for p in self.sources:
            nb, _ = self.executed[(p, "release")]
            g = cr.grades(nb)
            self.assertEqual(sum(x[1] for x in g), 0, "%s: stubs scored %s" % (p, g))
            for i, c in enumerate(nb.cells):
                if c.cell_type == "code" and not cr.is_grade(c):
                    self.assertFalse(cr.has_failed(c), "%s cell %d (%s) does not run around the stubs: %s"
                                     % (p, i, cr.meta(c).get("grade_id"), cr.errors(c)))
            for i, c in enumerate(nb.cells):
                if cr.is_grade(c) and c.cell_type == "code":
                    err = cr.errors(c)
                    self.assertTrue("not implemented" in err or "not yet" in err,
                                    "%s cell %d: a stub test should fail on the stub or a check: %s" % (p, i, err))

    def test_autograde_workflow(self):
        srcs = [p for p in self.sources if "c4-" in p] or list(self.sources)[:1]
        src = srcs[0]
        name = os.path.basename(os.path.dirname(src))
        release = self.releases[src]
        # The student's submission: solutions filled in (the source's solution
        # cells), and a locked test cell "edited" to pass.
        sub = copy.deepcopy(self.sources[src])
        for c in sub.cells:
            if cr.is_grade(c) and c.cell_type == "code":
                c.source = "%%\n// edited by the student"
                break
        graded = cr.overwrite_locked(release, sub)
        for r, g in zip(release.cells, graded.cells):
            if cr.is_grade(r) and r.cell_type == "code" or cr.is_locked(r):
                self.assertEqual(g.source, r.source)
        folder = os.path.join(self.tmp, "autograded", "alice", name)
        os.makedirs(folder)
        env = dict(os.environ)
        env.pop("REPDYN_STUDENT", None)
        env.pop("JUPYTERHUB_USER", None)
        t = time.time()
        done = cr.execute(graded, folder, timeout=TIMEOUT, env=env)
        self.timings["autograde one submission (%s)" % name] = round(time.time() - t, 1)
        out = "".join(o.get("text", "") for o in done.cells[1].get("outputs", []) if o.output_type == "stream")
        self.assertIn('"alice"', out, "the student id comes from the nbgrader folder: " + out)
        g = cr.grades(done)
        self.assertEqual(sum(x[1] for x in g), sum(x[2] for x in g), g)
        # Alice's numbers are not the teacher's: the printed training points differ.
        def printed(nb):
            return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
                           if o.output_type == "stream" and "step" in o.get("text", ""))
        teacher = printed(self.executed[(src, "solution")][0])
        self.assertTrue(teacher and printed(done) and teacher != printed(done),
                        "per-student seeds: alice's numbers equal the teacher's")

    def test_compile_error_costs_one_exercise(self):
        # c5's exercises are independent of each other (in c4, exercise 2
        # uses exercise 1's function by design).
        srcs = [p for p in self.sources if "c5-" in p]
        if not srcs:
            self.skipTest("needs c5-width-one-chain (REPDYN_COURSE excludes it)")
        src = srcs[0]
        sub = copy.deepcopy(self.sources[src])
        sols = [c for c in sub.cells if cr.is_solution(c) and c.cell_type == "code"]
        self.assertGreaterEqual(len(sols), 2, src)
        broken = sols[0]
        broken.source = re.sub(r"BEGIN SOLUTION", "BEGIN SOLUTION\n\tthis is not Go", broken.source, count=1)
        done, _ = run(cr.overwrite_locked(self.releases[src], sub), os.path.dirname(src))
        g = dict((k, v) for k, v, _ in cr.grades(done))
        ex1 = [k for k in g if k.startswith("ex1")]
        rest = [k for k in g if not k.startswith("ex1")]
        self.assertTrue(ex1 and rest, g)
        self.assertTrue(all(g[k] == 0 for k in ex1), g)
        self.assertTrue(all(g[k] > 0 for k in rest), "a compile error in exercise 1 cost other exercises: %s" % g)


if __name__ == "__main__":
    unittest.main(verbosity=2)
