package experiment

import (
	"flag"
	"os"
	"strings"
	"testing"
)

// TestTrainJobGrid: the Kubernetes job's shared spec and every line of its
// grid give a valid Spec, the way `repdyn train --spec /config/spec.json
// LINE` reads them.
func TestTrainJobGrid(t *testing.T) {
	b, err := os.ReadFile("../../docker/k8s/train-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string][]string{} // "spec.json: |" and "runs.txt: |" literal blocks
	var cur string
	for _, l := range strings.Split(string(b), "\n") {
		switch t := strings.TrimSpace(l); {
		case t == "spec.json: |" || t == "runs.txt: |":
			cur = strings.TrimSuffix(t, ": |")
		case cur != "" && strings.HasPrefix(l, "    ") && t != "":
			blocks[cur] = append(blocks[cur], t)
		default:
			cur = ""
		}
	}
	if len(blocks["spec.json"]) == 0 || len(blocks["runs.txt"]) == 0 {
		t.Fatalf("train-job.yaml: no spec.json or runs.txt block in its ConfigMap")
	}
	dir := t.TempDir()
	file := dir + "/spec.json"
	if err := os.WriteFile(file, []byte(strings.Join(blocks["spec.json"], "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{}
	for _, line := range blocks["runs.txt"] {
		s := Default()
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		final := Flags(fs, &s)
		if err := fs.Parse(append([]string{"--spec", file}, strings.Fields(line)...)); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		s, err := final()
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if s.Model != "resnet20" || s.Epochs != 30 {
			t.Errorf("%q: the shared spec was not applied: %+v", line, s)
		}
		if prev, dup := hashes[s.Hash()]; dup {
			t.Errorf("%q and %q are the same experiment", prev, line)
		}
		hashes[s.Hash()] = line
	}
}
