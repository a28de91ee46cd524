"""Release and autograding of the repdyn course by nbgrader's documented rules.

nbgrader is not packaged by Debian and PyPI is not reachable from the machines
this project is built and tested on, so CI cannot run nbgrader itself. This
module applies the same rules to an nbgrader source notebook (schema 3 cell
metadata), so that CI can check what a teacher's `nbgrader generate_assignment`
and `nbgrader autograde` will do with the course in notebooks/course:

  generate (student version), in nbgrader's order:
    LockCells        grade cells: not deletable, not editable; solution cells:
                     not deletable; locked cells: not deletable, not editable
    ClearSolutions   each line range from a line containing "BEGIN SOLUTION"
                     to one containing "END SOLUTION" is replaced by the
                     language's code stub (markdown: "YOUR ANSWER HERE"),
                     indented like the BEGIN line; a solution cell without a
                     region becomes the stub; a region in a non-solution cell,
                     a nested or an unterminated region is an error
    ClearOutput      outputs and execution counts removed
    ClearHiddenTests "BEGIN HIDDEN TESTS" .. "END HIDDEN TESTS" removed (only
                     in grade cells)
    ClearMarkScheme  "BEGIN MARK SCHEME" .. "END MARK SCHEME" removed (only in
                     task cells)
  autograde:
    OverwriteCells   the source of every grade or locked cell of a submission
                     is replaced by the released one (students cannot change
                     tests or setup)
    execute          with the notebook's kernel, errors allowed, per-cell
                     timeout
    grade            a grade code cell scores 0 when its outputs hold an error
                     or any stderr stream, else its points

Delimiters are matched as substrings of each line, as nbgrader does, so prose
that quotes them breaks the release: check_delimiters reports every such line.

Usage (also what a teacher without nbgrader can run):
  python3 course_release.py check SOURCE.ipynb...
  python3 course_release.py generate SOURCE.ipynb OUT.ipynb
  python3 course_release.py autograde SOURCE.ipynb SUBMISSION.ipynb [--timeout S]
"""

import copy
import json
import re
import sys
import time

import nbformat

# nbgrader's ClearSolutions has no stub for Go; notebooks/course/nbgrader_config.py
# sets this one, and it must stay the same there (tested).
CODE_STUBS = {"go": '// YOUR CODE HERE\npanic("not implemented")'}
TEXT_STUB = "YOUR ANSWER HERE"

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
BEGIN_MARK, END_MARK = "BEGIN MARK SCHEME", "END MARK SCHEME"


class ReleaseError(Exception):
    """A source notebook nbgrader would refuse (message names cell and line)."""


def meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution(cell):
    return bool(meta(cell).get("solution", False))


def is_grade(cell):
    return bool(meta(cell).get("grade", False))


def is_task(cell):
    return bool(meta(cell).get("task", False))


def is_locked(cell):
    if "nbgrader" not in cell.get("metadata", {}):
        return False
    if is_solution(cell):
        return False
    if is_grade(cell):
        return True
    return bool(meta(cell).get("locked", False))


def cell_name(i, cell):
    gid = meta(cell).get("grade_id")
    return "cell %d%s" % (i, " (%s)" % gid if gid else "")


def check_delimiters(nb, path="notebook"):
    """Every delimiter line outside the cell type nbgrader allows it in, and
    every nested or unterminated region: a list of one-line problems."""
    problems = []
    rules = [
        (BEGIN_SOLUTION, END_SOLUTION, is_solution, "a solution cell"),
        (BEGIN_HIDDEN, END_HIDDEN, lambda c: is_grade(c) and c.cell_type == "code", "an autograded test cell"),
        (BEGIN_MARK, END_MARK, is_task, "a manually graded task cell"),
    ]
    for i, cell in enumerate(nb.cells):
        lines = cell.source.split("\n")
        for begin, end, allowed, where in rules:
            inside = False
            for k, line in enumerate(lines, 1):
                # nbgrader tests BEGIN first: a line with both counts as BEGIN.
                hit = begin if begin in line else end if end in line else None
                if hit is None:
                    continue
                if not allowed(cell):
                    problems.append("%s: %s line %d: %r outside %s (nbgrader matches it as a substring)"
                                    % (path, cell_name(i, cell), k, hit, where))
                    continue
                if hit == begin:
                    if inside:
                        problems.append("%s: %s line %d: nested %r" % (path, cell_name(i, cell), k, begin))
                    inside = True
                else:
                    if not inside:
                        problems.append("%s: %s line %d: %r without %r" % (path, cell_name(i, cell), k, end, begin))
                    inside = False
            if inside and allowed(cell):
                problems.append("%s: %s: %r region never ends" % (path, cell_name(i, cell), begin))
    return problems


def check_metadata(nb, path="notebook"):
    """nbgrader's CheckCellMetadata, the parts that matter here: unique
    grade_ids on every nbgrader cell, points on grade and task cells, grade
    cells that are code (autograded) or solution/task (manual)."""
    problems, seen = [], {}
    for i, cell in enumerate(nb.cells):
        m = meta(cell)
        if not m:
            continue
        gid = m.get("grade_id")
        if not gid:
            problems.append("%s: cell %d: nbgrader cell without grade_id" % (path, i))
        elif gid in seen:
            problems.append("%s: cells %d and %d share grade_id %r" % (path, seen[gid], i, gid))
        else:
            seen[gid] = i
        if m.get("schema_version") != 3:
            problems.append("%s: %s: schema_version %r, want 3" % (path, cell_name(i, cell), m.get("schema_version")))
        if is_grade(cell) or is_task(cell):
            pts = m.get("points")
            if not isinstance(pts, (int, float)) or pts <= 0:
                problems.append("%s: %s: points %r, want > 0" % (path, cell_name(i, cell), pts))
        if is_task(cell) and (is_grade(cell) or is_solution(cell)):
            problems.append("%s: %s: a task cell cannot be a grade or solution cell" % (path, cell_name(i, cell)))
        if is_task(cell) and cell.cell_type != "markdown":
            problems.append("%s: %s: a task cell must be markdown" % (path, cell_name(i, cell)))
        if not is_task(cell) and cell.cell_type == "markdown" and is_grade(cell) != is_solution(cell):
            problems.append("%s: %s: a markdown grade cell must be a solution cell and the other way round"
                            % (path, cell_name(i, cell)))
    return problems


def _replace_regions(cell, begin, end, stub_lines, what):
    lines = cell.source.split("\n")
    out, inside, replaced = [], False, False
    for line in lines:
        if begin in line:
            if inside:
                raise ReleaseError("nested %r in %s" % (begin, what))
            inside = replaced = True
            if stub_lines is not None:
                indent = re.match(r"\s*", line).group(0)
                out.extend(indent + s for s in stub_lines)
        elif end in line:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError("no %r for %r in %s" % (end, begin, what))
    cell.source = "\n".join(out)
    return replaced


def generate(source_nb, path="notebook"):
    """The student version of an nbgrader source notebook."""
    problems = check_delimiters(source_nb, path) + check_metadata(source_nb, path)
    if problems:
        raise ReleaseError("\n".join(problems))
    nb = copy.deepcopy(source_nb)
    lang = nb.metadata.get("kernelspec", {}).get("language", "python")
    if lang not in CODE_STUBS:
        raise ReleaseError("%s: language %r has no code stub" % (path, lang))
    for i, cell in enumerate(nb.cells):
        what = "%s %s" % (path, cell_name(i, cell))
        # LockCells
        md = cell.setdefault("metadata", {})
        if is_solution(cell):
            md["deletable"] = False
        elif is_grade(cell) or is_locked(cell):
            md["deletable"] = False
            md["editable"] = False
        # ClearSolutions
        stub = CODE_STUBS[lang] if cell.cell_type == "code" else TEXT_STUB
        replaced = _replace_regions(cell, BEGIN_SOLUTION, END_SOLUTION, stub.split("\n"), what)
        if is_solution(cell) and not replaced:
            cell.source = stub
        # ClearOutput
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    for i, cell in enumerate(nb.cells):
        what = "%s %s" % (path, cell_name(i, cell))
        _replace_regions(cell, BEGIN_HIDDEN, END_HIDDEN, None, what)
        _replace_regions(cell, BEGIN_MARK, END_MARK, None, what)
    nb.metadata.pop("celltoolbar", None)
    return nb


def overwrite_locked(release_nb, submission_nb):
    """nbgrader's OverwriteCells: grade and locked cells of a submission get
    the released source back (matched by grade_id)."""
    released = {meta(c).get("grade_id"): c for c in release_nb.cells if meta(c).get("grade_id")}
    nb = copy.deepcopy(submission_nb)
    for cell in nb.cells:
        gid = meta(cell).get("grade_id")
        ref = released.get(gid)
        if ref is None:
            continue
        if is_grade(ref) and not is_solution(ref) or is_locked(ref):
            cell.source = ref.source
            cell.cell_type = ref.cell_type
            cell["metadata"]["nbgrader"] = copy.deepcopy(ref.metadata["nbgrader"])
    return nb


def has_failed(cell):
    if cell.cell_type != "code":
        return False
    return any(o.output_type == "error" or (o.output_type == "stream" and o.get("name") == "stderr")
               for o in cell.get("outputs", []))


def grades(executed_nb):
    """[(grade_id, score, max_points)] of the autograded cells, by nbgrader's
    determine_grade (no partial credit: the course's test cells print no
    execute_result)."""
    out = []
    for cell in executed_nb.cells:
        if not is_grade(cell) or cell.cell_type != "code":
            continue
        pts = float(meta(cell)["points"])
        out.append((meta(cell)["grade_id"], 0.0 if has_failed(cell) else pts, pts))
    return out


def errors(cell):
    """The error text of a cell's outputs (errors and stderr), for messages."""
    parts = []
    for o in cell.get("outputs", []):
        if o.output_type == "error":
            parts.append("%s: %s" % (o.get("ename"), o.get("evalue")))
        elif o.output_type == "stream" and o.get("name") == "stderr":
            parts.append(o.get("text", ""))
    return " | ".join(p.strip() for p in parts)[:2000]


def execute(nb, cwd, timeout=300, env=None, kernel_name=None):
    """Runs every cell like nbgrader's Execute preprocessor (errors allowed,
    per-cell timeout) and returns the executed copy."""
    from nbclient import NotebookClient

    nb = copy.deepcopy(nb)
    kw = {}
    if env is not None:
        kw["env"] = env
    client = NotebookClient(nb, timeout=timeout, allow_errors=True,
                            kernel_name=kernel_name or nb.metadata.get("kernelspec", {}).get("name", ""),
                            resources={"metadata": {"path": cwd}})
    client.execute(**kw)
    return nb


def main(argv):
    if len(argv) < 2 or argv[1] not in ("check", "generate", "autograde"):
        print(__doc__.split("Usage", 1)[1], file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "check":
        bad = []
        for p in argv[2:]:
            nb = nbformat.read(p, as_version=4)
            bad += check_delimiters(nb, p) + check_metadata(nb, p)
        for b in bad:
            print(b, file=sys.stderr)
        return 1 if bad else 0
    if cmd == "generate":
        src, dst = argv[2], argv[3]
        try:
            nb = generate(nbformat.read(src, as_version=4), src)
        except ReleaseError as e:
            print("generate: %s" % e, file=sys.stderr)
            return 1
        nbformat.write(nb, dst)
        return 0
    # autograde SOURCE SUBMISSION
    import os
    timeout = 300
    if "--timeout" in argv:
        timeout = int(argv[argv.index("--timeout") + 1])
    src, sub = argv[2], argv[3]
    release = generate(nbformat.read(src, as_version=4), src)
    nb = overwrite_locked(release, nbformat.read(sub, as_version=4))
    t0 = time.time()
    done = execute(nb, os.path.dirname(os.path.abspath(sub)), timeout=timeout)
    total = sum(g[1] for g in grades(done))
    print(json.dumps({"notebook": sub, "score": total, "max": sum(g[2] for g in grades(done)),
                      "cells": [{"grade_id": g, "score": s, "max": m} for g, s, m in grades(done)],
                      "seconds": round(time.time() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
