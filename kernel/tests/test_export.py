"""Export test: outputs of executed notebooks survive `jupyter nbconvert --to pdf`.

Exports without HTML (PDF through LaTeX, plain LaTeX, Markdown) keep a
display's text/plain and drop its text/html. notebook/show publishes text/plain
beside every HTML display (tables as aligned text, verdicts as their table,
the progress bar's last state); this test checks that on executed notebooks:

 1. every display with text/html also has a non-empty text/plain;
 2. `jupyter nbconvert --to pdf` (xelatex, Debian's texlive-xetex) succeeds,
    and every line of every such text/plain is in the PDF's text (pdftotext,
    whitespace-normalized; the first 60 characters of each line, since LaTeX's
    Verbatim does not wrap long lines). Without xelatex (REPDYN_EXPORT=latex)
    it exports `--to latex` and looks for each line's words in the .tex.

    REPDYN_EXPORT_NOTEBOOKS=DIR/executed-00-start-here.ipynb,... \\
      /usr/bin/python3 -m unittest -v test_export

kernel/ci-test.sh runs it on notebooks executed by kernel/notebooks_test.go.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

NOTEBOOKS = [p for p in os.environ.get("REPDYN_EXPORT_NOTEBOOKS", "").split(",") if p]
MODE = os.environ.get("REPDYN_EXPORT") or ("pdf" if shutil.which("xelatex") and shutil.which("pdftotext") else "latex")


def html_displays(nb):
    """(cell index, output) of every display with text/html."""
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("display_data", "execute_result") and "text/html" in out.get("data", {}):
                yield i, out


def text_of(v):
    return "".join(v) if isinstance(v, list) else v


def unwrap(s):
    """s without white space, without the line-wrap marks (␣, ↪) that
    nbconvert's LaTeX template puts where it breaks a long output line, and
    without non-ASCII characters: the template's monospace font has no Greek
    letters (θ, σ, ρ come out as a missing-glyph box), which is a limit of the
    font, not a lost output."""
    return re.sub(r"[\s\u2423\u21aa]+|[^\x00-\x7f]", "", s)


def squash(s):
    return re.sub(r"\s+", " ", s).strip()


class Export(unittest.TestCase):
    def setUp(self):
        if not NOTEBOOKS:
            self.skipTest("REPDYN_EXPORT_NOTEBOOKS is empty")

    def test_plain_beside_html(self):
        for path in NOTEBOOKS:
            with open(path, encoding="utf-8") as f:
                nb = json.load(f)
            n = 0
            for i, out in html_displays(nb):
                n += 1
                plain = text_of(out["data"].get("text/plain", ""))
                self.assertTrue(plain.strip(), "%s: cell %d: a text/html display without text/plain" % (path, i))
            self.assertGreater(n, 0, "%s: no HTML display: not an executed repdyn notebook?" % path)

    def test_export_keeps_plain_text(self):
        for path in NOTEBOOKS:
            with self.subTest(notebook=os.path.basename(path)):
                self._export(path)

    def _export(self, path):
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        tmp = tempfile.mkdtemp(prefix="repdyn-export-")
        self.addCleanup(shutil.rmtree, tmp, True)
        to = "pdf" if MODE == "pdf" else "latex"
        r = subprocess.run(["jupyter", "nbconvert", "--to", to, "--output-dir", tmp, path],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        base = os.path.splitext(os.path.basename(path))[0]
        if to == "pdf":
            out = os.path.join(tmp, base + ".pdf")
            text = subprocess.run(["pdftotext", "-layout", out, "-"], capture_output=True, text=True,
                                  check=True).stdout
            results = os.environ.get("REPDYN_TEST_OUT")
            if results:
                shutil.copy(out, os.path.join(results, base + ".pdf"))
        else:
            with open(os.path.join(tmp, base + ".tex"), encoding="utf-8") as f:
                text = f.read()
        # A line wider than the page wraps in the PDF: nbconvert's LaTeX marks
        # the break with a visible space and an arrow. Compare without them
        # and without white space.
        dense = unwrap(text)
        checked = 0
        for i, out in html_displays(nb):
            for line in text_of(out["data"].get("text/plain", "")).splitlines():
                line = squash(line)
                if not line:
                    continue
                checked += 1
                if to == "pdf":
                    self.assertIn(unwrap(line)[:50], dense, "%s: cell %d: %r is not in the PDF" % (base, i, line))
                else:
                    for word in re.findall(r"[A-Za-z0-9]{3,}", line):
                        self.assertIn(word, text, "%s: cell %d: %r of %r is not in the LaTeX" % (base, i, word, line))
        self.assertGreater(checked, 0)
        print("%s: %d text/plain lines found in the %s export" % (base, checked, to.upper()))


if __name__ == "__main__":
    unittest.main()
