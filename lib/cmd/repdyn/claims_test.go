package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const claimsNB = `{"cells": [
 {"cell_type": "markdown", "metadata": {}, "source": "# x"},
 {"cell_type": "code", "execution_count": 3, "metadata": {"repdyn": {"verdict": true, "claim": "C3"}},
  "outputs": [{"output_type": "stream", "name": "stdout", "text": ["REPDYN-CLAIM C3 PASS | suff | final loss = 1e-20 <= 1e-06 | rho = 1e-15 <= 1e-09\n", "REPDYN-VERDICT PASS: suff (2/2 checks)\n"]}],
  "source": "%%"},
 {"cell_type": "code", "execution_count": 4, "metadata": {"repdyn": {"claim": "C5"}},
  "outputs": [{"output_type": "stream", "name": "stdout", "text": "REPDYN-CLAIM C5 FAIL | size | rank = 3 >= 20 (FAILED)\nREPDYN-VERDICT FAIL: size\n"},
              {"output_type": "stream", "name": "stderr", "text": "REPDYN-VERDICT FAIL: size\n"}],
  "source": "%%"},
 {"cell_type": "code", "execution_count": null, "metadata": {"repdyn": {"claim": "C1"}}, "outputs": [], "source": "%%"},
 {"cell_type": "code", "execution_count": 5, "metadata": {"repdyn": {"claim": "C4"}},
  "outputs": [{"output_type": "error", "ename": "panic", "evalue": "boom", "traceback": []}], "source": "%%"}
], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`

func TestClaims(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "01-x.ipynb"), []byte(claimsNB), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := runClaims([]string{dir}, &out)
	if err == nil || !strings.Contains(err.Error(), "failed") {
		t.Errorf("want an error for the failed claims, got %v", err)
	}
	s := out.String()
	for _, want := range []string{
		"C1  not run", "C2  not run", "C3  reproduced", "final loss = 1e-20 <= 1e-06",
		"C4  failed", "reason: panic: boom", "C5  failed", "rank = 3 >= 20 (FAILED)", "C7  not run",
		"1 reproduced, 2 failed, 4 not run",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	out.Reset()
	if err := runClaims([]string{"-json", dir}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"status": "reproduced"`) {
		t.Errorf("json: %s", out.String())
	}
}
