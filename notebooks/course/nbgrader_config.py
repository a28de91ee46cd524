# nbgrader configuration of the repdyn course (Go notebooks on the repdyn
# kernel). Run nbgrader from this folder: it is the course directory, with the
# source assignments in source/<assignment>/. See TEACHING.md.
c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "repdyn"
c.CourseDirectory.root = "."

# nbgrader has no default stub for Go. The stub goes where a solution region
# was, inside the function body, so a function with results still compiles
# (panic needs no return) and the test cells fail cleanly ("not implemented")
# instead of failing to build. kernel/tests/course_release.py uses the same.
c.ClearSolutions.code_stub = {"go": "// YOUR CODE HERE\npanic(\"not implemented\")"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every cell is compiled; the first build in a fresh container compiles the
# library. 300 s per cell leaves room for a cold build cache. (nbgrader's
# Execute preprocessor has its own timeout trait, default 30 s.)
c.Execute.timeout = 300
c.ExecutePreprocessor.timeout = 300
