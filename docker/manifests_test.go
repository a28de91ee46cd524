package docker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// strict decodes YAML into v, rejecting unknown or misspelled fields.
func strict(t *testing.T, what string, doc []byte, v any) {
	t.Helper()
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatalf("%s: not YAML: %v", what, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// documents splits a multi-document YAML file.
func documents(t *testing.T, path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestTrainJob(t *testing.T) {
	var job *batchv1.Job
	var grid *corev1.ConfigMap
	var pvc *corev1.PersistentVolumeClaim
	for i, doc := range documents(t, "k8s/train-job.yaml") {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("train-job.yaml document %d (%s %s)", i, meta.APIVersion, meta.Kind)
		switch meta.APIVersion + " " + meta.Kind {
		case "batch/v1 Job":
			job = &batchv1.Job{}
			strict(t, what, doc, job)
		case "v1 ConfigMap":
			grid = &corev1.ConfigMap{}
			strict(t, what, doc, grid)
		case "v1 PersistentVolumeClaim":
			pvc = &corev1.PersistentVolumeClaim{}
			strict(t, what, doc, pvc)
		default:
			t.Fatalf("%s: unexpected kind", what)
		}
	}
	if job == nil || grid == nil || pvc == nil {
		t.Fatal("want a Job, a ConfigMap and a PersistentVolumeClaim")
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Error("the Job must be an Indexed Job")
	}
	var runs []string
	sc := bufio.NewScanner(strings.NewReader(grid.Data["runs.txt"]))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			runs = append(runs, l)
		}
	}
	if s.Completions == nil || int(*s.Completions) != len(runs) {
		t.Errorf("completions %v != %d lines of runs.txt", s.Completions, len(runs))
	}
	seen := map[string]bool{}
	for _, r := range runs {
		if seen[r] {
			t.Errorf("duplicate run %q", r)
		}
		seen[r] = true
		for _, flag := range []string{"--dataset ", "--optimizer ", "--seed "} {
			if !strings.Contains(r, flag) {
				t.Errorf("run %q lacks %s", r, flag)
			}
		}
	}
	if s.BackoffLimitPerIndex == nil {
		t.Error("set backoffLimitPerIndex so one bad configuration does not fail the others")
	}
	pod := s.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q: Indexed Jobs with backoffLimitPerIndex need Never", pod.RestartPolicy)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("pods must run as non-root")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	script := strings.Join(append(append([]string{}, c.Command...), c.Args...), " ")
	for _, want := range []string{"JOB_COMPLETION_INDEX", "/config/runs.txt", "repdyn train", "--resume", "--out"} {
		if !strings.Contains(script, want) {
			t.Errorf("container command lacks %q", want)
		}
	}
	if c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Error("set CPU and memory limits")
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	for name := range mounts {
		if _, ok := vols[name]; !ok {
			t.Errorf("volume mount %q has no volume", name)
		}
	}
	if v := vols["grid"]; v.ConfigMap == nil || v.ConfigMap.Name != grid.Name || mounts["grid"] != "/config" {
		t.Error("the grid ConfigMap must be mounted at /config")
	}
	if v := vols["results"]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != pvc.Name {
		t.Error("results must be on the PVC")
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds < 10 {
		t.Error("give repdyn train time to checkpoint on SIGTERM")
	}
	if img := valuesImage(t); c.Image != img {
		t.Errorf("job image %q differs from the z2jh image %q", c.Image, img)
	}
}

// z2jhValues is the part of the Zero to JupyterHub chart's values schema that
// values.yaml uses; decoding is strict, so a misspelled key fails the test.
type z2jhValues struct {
	Singleuser struct {
		Image struct {
			Name       string            `json:"name"`
			Tag        string            `json:"tag"`
			PullPolicy corev1.PullPolicy `json:"pullPolicy"`
		} `json:"image"`
		DefaultURL string `json:"defaultUrl"`
		UID        int64  `json:"uid"`
		FsGid      int64  `json:"fsGid"`
		CPU        struct {
			Guarantee float64 `json:"guarantee"`
			Limit     float64 `json:"limit"`
		} `json:"cpu"`
		Memory struct {
			Guarantee string `json:"guarantee"`
			Limit     string `json:"limit"`
		} `json:"memory"`
		Storage struct {
			Type          string `json:"type"`
			Capacity      string `json:"capacity"`
			HomeMountPath string `json:"homeMountPath"`
		} `json:"storage"`
		ExtraEnv       map[string]string `json:"extraEnv"`
		LifecycleHooks *corev1.Lifecycle `json:"lifecycleHooks"`
		StartTimeout   int               `json:"startTimeout"`
		Cmd            string            `json:"cmd"`
	} `json:"singleuser"`
	Hub struct {
		Config map[string]map[string]any `json:"config"`
		DB     struct {
			Type string `json:"type"`
		} `json:"db"`
	} `json:"hub"`
	Proxy struct {
		Service struct {
			Type corev1.ServiceType `json:"type"`
		} `json:"service"`
	} `json:"proxy"`
	Cull struct {
		Enabled bool `json:"enabled"`
		Timeout int  `json:"timeout"`
		Every   int  `json:"every"`
	} `json:"cull"`
	PrePuller struct {
		Hook struct {
			Enabled bool `json:"enabled"`
		} `json:"hook"`
		Continuous struct {
			Enabled bool `json:"enabled"`
		} `json:"continuous"`
	} `json:"prePuller"`
}

func readValues(t *testing.T) *z2jhValues {
	b, err := os.ReadFile("z2jh/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var v z2jhValues
	strict(t, "z2jh/values.yaml", b, &v)
	return &v
}

func valuesImage(t *testing.T) string {
	v := readValues(t)
	return v.Singleuser.Image.Name + ":" + v.Singleuser.Image.Tag
}

func TestZ2JHValues(t *testing.T) {
	v := readValues(t)
	s := v.Singleuser
	if s.Image.Name == "" || s.Image.Tag == "" || s.Image.Tag == "latest" {
		t.Errorf("pin the image: %q:%q", s.Image.Name, s.Image.Tag)
	}
	if s.UID == 0 {
		t.Error("singleuser must not run as root")
	}
	if !strings.Contains(s.DefaultURL, "00-start-here.ipynb") {
		t.Errorf("defaultUrl %q should open the start notebook", s.DefaultURL)
	}
	if s.LifecycleHooks == nil || s.LifecycleHooks.PostStart == nil || s.LifecycleHooks.PostStart.Exec == nil {
		t.Fatal("postStart hook copying the notebooks is missing")
	}
	if !strings.Contains(strings.Join(s.LifecycleHooks.PostStart.Exec.Command, " "), "/opt/repdyn/notebooks") {
		t.Error("postStart must copy /opt/repdyn/notebooks")
	}
	if s.Cmd != "jupyterhub-singleuser" {
		t.Errorf("cmd %q", s.Cmd)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines into instructions.
	var instrs []string
	var cur strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		tl := strings.TrimSpace(l)
		if cur.Len() == 0 && (tl == "" || strings.HasPrefix(tl, "#")) {
			continue
		}
		if strings.HasSuffix(tl, "\\") {
			cur.WriteString(strings.TrimSuffix(tl, "\\") + " ")
			continue
		}
		cur.WriteString(tl)
		instrs = append(instrs, cur.String())
		cur.Reset()
	}
	has := func(prefix, contains string) bool {
		for _, in := range instrs {
			if strings.HasPrefix(strings.ToUpper(in), prefix) && strings.Contains(in, contains) {
				return true
			}
		}
		return false
	}
	if !strings.HasPrefix(instrs[0], "FROM debian:12") && !strings.HasPrefix(instrs[0], "ARG") {
		t.Errorf("base image: %q, want Debian 12", instrs[0])
	}
	checks := []struct{ prefix, contains, why string }{
		{"FROM", "debian:12", "Debian base"},
		{"RUN", "./install.sh", "uses the same installer as a bare machine"},
		{"RUN", "--no-start", "the installer must not start Jupyter at build time"},
		{"RUN", "jupyterlab==", "pinned JupyterLab"},
		{"RUN", "jupyterhub==", "jupyterhub-singleuser for z2jh"},
		{"RUN", "go${GO_VERSION}", "pinned Go"},
		{"COPY", "/opt/repdyn", "repository in /opt/repdyn (the kernelspec's --go_work and values.yaml use it)"},
		{"ENV", "GOTOOLCHAIN=local", "no toolchain downloads at run time"},
		{"ENV", "GOCACHE=", "a Go build cache shared by build and run time (pre-built library)"},
		{"USER", "", "a USER instruction"},
		{"EXPOSE", "8888", "Jupyter's port"},
		{"CMD", "jupyter", "starts Jupyter"},
	}
	for _, c := range checks {
		if !has(c.prefix, c.contains) {
			t.Errorf("Dockerfile: no %s instruction with %q (%s)", c.prefix, c.contains, c.why)
		}
	}
	last := ""
	for _, in := range instrs {
		if strings.HasPrefix(strings.ToUpper(in), "USER ") {
			last = strings.TrimSpace(in[5:])
		}
		if strings.HasPrefix(strings.ToUpper(in), "ADD ") && strings.Contains(in, "http") {
			t.Errorf("use RUN curl with a pinned version, not ADD URL: %s", in)
		}
	}
	if last == "root" || last == "0" || last == "" {
		t.Errorf("the image must end as a non-root user, got USER %q", last)
	}
	// The installer it calls must exist and support the flags used.
	inst, err := os.ReadFile(filepath.Join("..", "install.sh"))
	if err != nil {
		t.Fatalf("install.sh at the repository root: %v", err)
	}
	for _, flag := range []string{"--no-start", "--system"} {
		if !bytes.Contains(inst, []byte(flag)) {
			t.Errorf("install.sh does not handle %s", flag)
		}
	}
	if _, err := os.Stat("Dockerfile.dockerignore"); err != nil {
		t.Error("Dockerfile.dockerignore keeps node_modules, kernel/bin and .git out of the build context")
	}
}
