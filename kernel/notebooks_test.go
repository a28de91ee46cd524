package kernel

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"repdyn/lib/marker"
)

const (
	passMarker = marker.VerdictPass
	failMarker = marker.VerdictFail
)

type notebook struct {
	Cells []struct {
		CellType       string          `json:"cell_type"`
		Source         json.RawMessage `json:"source"`
		ExecutionCount *int            `json:"execution_count"`
		Metadata       struct {
			Repdyn struct {
				Verdict bool `json:"verdict"`
			} `json:"repdyn"`
			Execution map[string]string `json:"execution"`
		} `json:"metadata"`
		Outputs []struct {
			OutputType string          `json:"output_type"`
			Name       string          `json:"name"`
			Text       json.RawMessage `json:"text"`
			Ename      string          `json:"ename"`
			Evalue     string          `json:"evalue"`
			Data       map[string]any  `json:"data"`
		} `json:"outputs"`
	} `json:"cells"`
	Metadata struct {
		Kernelspec struct {
			Name string `json:"name"`
		} `json:"kernelspec"`
	} `json:"metadata"`
}

// multiline decodes nbformat's "string or list of strings".
func multiline(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var l []string
	json.Unmarshal(raw, &l)
	return strings.Join(l, "")
}

func readNotebook(t *testing.T, path string) *notebook {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &nb
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// notebookPaths lists notebooks/*.ipynb, or those matching the glob in
// $REPDYN_NOTEBOOKS (e.g. "00-*.ipynb") when it is set.
func notebookPaths(t *testing.T) []string {
	pattern := "*.ipynb"
	if p := os.Getenv("REPDYN_NOTEBOOKS"); p != "" {
		pattern = p
	}
	paths, err := filepath.Glob(filepath.Join(repoRoot(t), "notebooks", pattern))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks found: %v", err)
	}
	sort.Strings(paths)
	return paths
}

// TestNotebooksCommittedClean checks, without Jupyter, that every notebook
// uses the repdyn kernel, has no outputs, and has at least one verdict cell.
func TestNotebooksCommittedClean(t *testing.T) {
	for _, p := range notebookPaths(t) {
		nb := readNotebook(t, p)
		name := filepath.Base(p)
		if nb.Metadata.Kernelspec.Name != "repdyn" {
			t.Errorf("%s: kernelspec %q, want repdyn", name, nb.Metadata.Kernelspec.Name)
		}
		verdicts := 0
		for i, c := range nb.Cells {
			if c.CellType != "code" {
				continue
			}
			if len(c.Outputs) > 0 || c.ExecutionCount != nil {
				t.Errorf("%s: cell %d has outputs: commit notebooks without outputs (Cell > All Output > Clear)", name, i)
			}
			if c.Metadata.Repdyn.Verdict {
				verdicts++
			}
		}
		if verdicts == 0 {
			t.Errorf("%s: no verdict cell (metadata {\"repdyn\": {\"verdict\": true}})", name)
		}
	}
}

// TestNotebooksExecute installs the kernel into a temporary Jupyter path and
// runs every notebook with `jupyter nbconvert --execute`: no cell may fail or
// write to stderr, and every verdict cell must print the PASS marker.
func TestNotebooksExecute(t *testing.T) {
	if os.Getenv("REPDYN_KERNEL_TEST") != "1" {
		t.Skip("needs Jupyter: run kernel/ci-test.sh (sets REPDYN_KERNEL_TEST=1)")
	}
	root := repoRoot(t)
	tmp := t.TempDir()
	jpath := filepath.Join(tmp, "jupyter")
	start := time.Now()
	install := exec.Command("bash", filepath.Join(root, "kernel", "install.sh"), "--data-dir", jpath, "--no-apt", "--quiet")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	t.Logf("kernel installed into %s in %v", jpath, time.Since(start).Round(time.Millisecond))
	for _, p := range notebookPaths(t) {
		name := filepath.Base(p)
		t.Run(strings.TrimSuffix(name, ".ipynb"), func(t *testing.T) {
			outDir := filepath.Join(tmp, "out")
			// --allow-errors: run every cell and always write the executed
			// notebook, so that failures are reported with the cell's output.
			cmd := exec.Command("jupyter", "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
				"--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.kernel_name=repdyn",
				"--output-dir", outDir, "--output", name, p)
			cmd.Dir = filepath.Dir(p)
			cmd.Env = append(os.Environ(),
				"JUPYTER_PATH="+jpath,
				"REPDYN_CACHE="+filepath.Join(tmp, "cache"), // a cold cache: the notebook really trains
				"REPDYN_STRICT=1",                           // a failed verdict fails its cell (no exploration mode)
				"REPDYN_HEADLESS=1",                         // widgets draw their default once (no front-end)
			)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("nbconvert --execute %s: %v\n%s", name, err, tail(string(out), 4000))
			}
			t.Logf("%s executed in %v", name, time.Since(start).Round(time.Millisecond))
			if dir := os.Getenv("REPDYN_TEST_OUT"); dir != "" {
				os.MkdirAll(dir, 0o755)
				if b, err := os.ReadFile(filepath.Join(outDir, name)); err == nil {
					os.WriteFile(filepath.Join(dir, "executed-"+name), b, 0o644)
				}
			}
			checkExecuted(t, readNotebook(t, filepath.Join(outDir, name)), name)
		})
	}
}

func checkExecuted(t *testing.T, nb *notebook, name string) {
	verdicts := 0
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		var stdout, stderr strings.Builder
		failed := false
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "error":
				t.Errorf("%s cell %d: error %s: %s", name, i, o.Ename, o.Evalue)
				failed = true
			case "stream":
				if o.Name == "stderr" {
					stderr.WriteString(multiline(o.Text))
				} else {
					stdout.WriteString(multiline(o.Text))
				}
			}
		}
		if stderr.Len() > 0 {
			t.Errorf("%s cell %d wrote to stderr:\n%s", name, i, tail(stderr.String(), 2000))
		}
		if failed && stdout.Len() > 0 {
			t.Logf("%s cell %d stdout:\n%s", name, i, tail(stdout.String(), 2000))
		}
		if ex := c.Metadata.Execution; ex != nil {
			t0, e0 := time.Parse(time.RFC3339Nano, ex["iopub.execute_input"])
			t1, e1 := time.Parse(time.RFC3339Nano, ex["shell.execute_reply"])
			if e0 == nil && e1 == nil {
				t.Logf("%s cell %d: %v", name, i, t1.Sub(t0).Round(time.Millisecond))
			}
		}
		if !c.Metadata.Repdyn.Verdict {
			continue
		}
		verdicts++
		s := stdout.String()
		switch {
		case strings.Contains(s, failMarker):
			t.Errorf("%s verdict cell %d failed:\n%s", name, i, s)
		case !strings.Contains(s, passMarker):
			t.Errorf("%s verdict cell %d printed no %q:\n%s", name, i, passMarker, s)
		default:
			for _, line := range strings.Split(s, "\n") {
				if strings.HasPrefix(line, passMarker) {
					t.Logf("%s cell %d: %s", name, i, line)
				}
			}
		}
	}
	if verdicts == 0 {
		t.Errorf("%s: no verdict cells", name)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("...%s", s[len(s)-n:])
}
