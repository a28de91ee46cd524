package nbstats

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMeasureAndProblems(t *testing.T) {
	d := t.TempDir()
	long := strings.Repeat("x := 1\n\n", 41)
	a := `{"cells": [{"cell_type": "code", "source": ["func helper() {}\n", "%%\n", "fmt.Println(1)"]},
	 {"cell_type": "markdown", "source": "# title"},
	 {"cell_type": "code", "source": ` + quote(long) + `},
	 {"cell_type": "code", "source": "var _ = fmt.Sprint\nfunc (t T) m() {}\n"}]}`
	b := `{"cells": [{"cell_type": "code", "source": "func helper() {}\nfunc other() {}"}]}`
	os.WriteFile(filepath.Join(d, "a.ipynb"), []byte(a), 0o644)
	os.WriteFile(filepath.Join(d, "b.ipynb"), []byte(b), 0o644)
	nbs, err := Glob(filepath.Join(d, "*.ipynb"))
	if err != nil || len(nbs) != 2 {
		t.Fatal(nbs, err)
	}
	n := nbs[0]
	if len(n.Lines) != 3 || n.Lines[0] != 3 || n.Lines[1] != 41 || n.Lines[2] != 2 || n.Median != 3 || n.Max != 41 || n.MaxCell != 2 {
		t.Fatalf("a: %+v", n)
	}
	all, by := Problems(nbs, Default)
	want := []string{"a.ipynb: cell 2 has 41 non-blank lines", "a.ipynb: cell 3 has a `var _ =` line", "function helper is defined in a.ipynb, b.ipynb"}
	if len(all) != len(want) {
		t.Fatalf("problems %q", all)
	}
	for i, w := range want {
		if !strings.Contains(all[i], w) {
			t.Errorf("problem %d: %q, want %q", i, all[i], w)
		}
	}
	if len(by["a.ipynb"]) != 2 || len(by[""]) != 1 || len(by["b.ipynb"]) != 0 {
		t.Errorf("by notebook: %q", by)
	}
	if !strings.Contains(Table(nbs), "a.ipynb") {
		t.Error(Table(nbs))
	}
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}
