package docker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
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

// restricted checks a pod against the Pod Security "restricted" profile
// (the parts a manifest controls): non-root, seccomp RuntimeDefault (or
// Localhost), and for every container and init container no privilege
// escalation and all capabilities dropped.
func restricted(t *testing.T, what string, pod corev1.PodSpec) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pods must run as non-root (securityContext.runAsNonRoot)", what)
	}
	if psc != nil && psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		t.Errorf("%s: runAsUser 0", what)
	}
	podSeccomp := psc != nil && psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault
	if !podSeccomp {
		t.Errorf("%s: set the pod's seccompProfile to RuntimeDefault", what)
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("%s: hostPath volume %q is not allowed", what, v.Name)
		}
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Errorf("%s: host namespaces", what)
	}
	for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		sc := c.SecurityContext
		name := what + " container " + c.Name
		if sc == nil {
			t.Errorf("%s: no securityContext", name)
			continue
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: set allowPrivilegeEscalation: false", name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s: privileged", name)
		}
		if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: capabilities must drop ALL and add none", name)
		}
		if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: set seccompProfile RuntimeDefault on the container too", name)
		}
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: set runAsNonRoot", name)
		}
		if c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: set CPU and memory limits", name)
		}
	}
}

// script is a container's command line.
func script(c corev1.Container) string {
	return strings.Join(append(append([]string{}, c.Command...), c.Args...), " ")
}

func envOf(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func TestTrainJob(t *testing.T) {
	var job, dataJob *batchv1.Job
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
			j := &batchv1.Job{}
			strict(t, what, doc, j)
			switch j.Name {
			case "repdyn-train":
				job = j
			case "repdyn-data":
				dataJob = j
			default:
				t.Fatalf("%s: unexpected Job %q", what, j.Name)
			}
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
	if job == nil || dataJob == nil || grid == nil || pvc == nil {
		t.Fatal("want the Jobs repdyn-train and repdyn-data, a ConfigMap and a PersistentVolumeClaim")
	}
	restricted(t, "Job repdyn-train", job.Spec.Template.Spec)
	restricted(t, "Job repdyn-data", dataJob.Spec.Template.Spec)
	// The data pre-fetch: one pod fetches every dataset of the grid into
	// the shared volume and marks each one done.
	dpod := dataJob.Spec.Template.Spec
	if len(dpod.Containers) != 1 {
		t.Fatalf("repdyn-data: want one container")
	}
	fetch := dpod.Containers[0]
	for _, want := range []string{"/config/runs.txt", "--dataset", "repdyn data fetch", ".fetched"} {
		if !strings.Contains(script(fetch), want) {
			t.Errorf("repdyn-data's command lacks %q", want)
		}
	}
	if envOf(fetch)["REPDYN_DATA"] != "/results/datasets" {
		t.Error("repdyn-data must fetch into REPDYN_DATA=/results/datasets")
	}
	if dataJob.Spec.Completions != nil && *dataJob.Spec.Completions != 1 || dataJob.Spec.Parallelism != nil && *dataJob.Spec.Parallelism != 1 {
		t.Error("repdyn-data must be a single pod")
	}
	claims := func(pod corev1.PodSpec) string {
		for _, v := range pod.Volumes {
			if v.PersistentVolumeClaim != nil {
				return v.PersistentVolumeClaim.ClaimName
			}
		}
		return ""
	}
	if claims(dpod) != pvc.Name {
		t.Error("repdyn-data must write to the results PVC")
	}
	// Training pods wait for the data, then train offline.
	tpod := job.Spec.Template.Spec
	if len(tpod.InitContainers) != 1 || !strings.Contains(script(tpod.InitContainers[0]), ".fetched") ||
		!strings.Contains(script(tpod.InitContainers[0]), "/results/datasets") {
		t.Error("training pods need an init container that waits for the datasets' .fetched markers")
	}
	for _, c := range tpod.Containers {
		if e := envOf(c); e["REPDYN_OFFLINE"] != "1" || e["REPDYN_DATA"] != "/results/datasets" {
			t.Errorf("container %s must train with REPDYN_OFFLINE=1 on REPDYN_DATA=/results/datasets (got %v)", c.Name, e)
		}
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
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	for _, want := range []string{"JOB_COMPLETION_INDEX", "/config/runs.txt", "repdyn train", "--resume", "--out"} {
		if !strings.Contains(script(c), want) {
			t.Errorf("container command lacks %q", want)
		}
	}
	mounts := map[string]string{}
	for _, m := range append(append([]corev1.VolumeMount{}, c.VolumeMounts...), pod.InitContainers[0].VolumeMounts...) {
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
	img := valuesImage(t)
	for _, p := range []corev1.PodSpec{pod, dpod} {
		for _, c := range append(append([]corev1.Container{}, p.InitContainers...), p.Containers...) {
			if c.Image != img {
				t.Errorf("container %s: image %q differs from the z2jh image %q", c.Name, c.Image, img)
			}
		}
	}
}

// TestCollectJob checks the results-collection Job and runs its script
// (python3 from the image) on a results folder of three runs.
func TestCollectJob(t *testing.T) {
	docs := documents(t, "k8s/collect-job.yaml")
	if len(docs) != 1 {
		t.Fatalf("collect-job.yaml: want one document, got %d", len(docs))
	}
	var job batchv1.Job
	strict(t, "collect-job.yaml", docs[0], &job)
	restricted(t, "Job repdyn-collect", job.Spec.Template.Spec)
	pod := job.Spec.Template.Spec
	var claim string
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "repdyn-results" {
		t.Errorf("the collector must read the training results PVC, got %q", claim)
	}
	if len(pod.Containers) != 1 || len(pod.Containers[0].Command) != 2 || pod.Containers[0].Command[0] != "python3" || len(pod.Containers[0].Args) != 1 {
		t.Fatal("want one container running python3 -c SCRIPT")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: the collector script is not run")
	}
	dir := t.TempDir()
	epoch := func(e int, acc float64) string {
		return fmt.Sprintf(`{"epoch":%d,"step":%d,"train_loss":%g,"train_acc":0.5,"has_eval":true,"eval_loss":1,"eval_acc":%g,"lr":0.1,"images_per_s":100,"seconds":1,"best":false}`, e, 10*(e+1), 2.0/float64(e+1), acc)
	}
	runs := map[string][]string{
		"cifar10-sgd-s1":        {epoch(0, 0.3), epoch(1, 0.5), epoch(2, 0.45)},
		"fashion-mnist-adam-s2": {epoch(0, 0.8)},
		"empty-run":             {},
	}
	for name, lines := range runs {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "metrics.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "datasets", "cifar10"), 0o755)
	code := strings.ReplaceAll(pod.Containers[0].Args[0], "/results", dir)
	out, err := exec.Command(py, "-c", code).CombinedOutput()
	if err != nil {
		t.Fatalf("collector: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("summary.jsonl line %q: %v", l, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 || rows[0]["run"] != "cifar10-sgd-s1" || rows[0]["epochs"] != 3.0 || rows[0]["best_eval_acc"] != 0.5 ||
		rows[0]["best_epoch"] != 2.0 || rows[0]["final_eval_acc"] != 0.45 || rows[1]["run"] != "fashion-mnist-adam-s2" {
		t.Fatalf("summary %v", rows)
	}
	if csv, err := os.ReadFile(filepath.Join(dir, "summary.csv")); err != nil || !strings.HasPrefix(string(csv), "run,epochs,") || strings.Count(string(csv), "\n") != 3 {
		t.Fatalf("summary.csv %q %v", csv, err)
	}
	// A damaged metrics file fails naming it.
	os.WriteFile(filepath.Join(dir, "cifar10-sgd-s1", "metrics.jsonl"), []byte("{not json\n"), 0o644)
	if out, err := exec.Command(py, "-c", code).CombinedOutput(); err == nil || !strings.Contains(string(out), "cifar10-sgd-s1/metrics.jsonl:1") {
		t.Fatalf("damaged metrics: %v %s", err, out)
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
			Type              string               `json:"type"`
			Capacity          string               `json:"capacity"`
			HomeMountPath     string               `json:"homeMountPath"`
			ExtraVolumes      []corev1.Volume      `json:"extraVolumes"`
			ExtraVolumeMounts []corev1.VolumeMount `json:"extraVolumeMounts"`
		} `json:"storage"`
		ExtraFiles map[string]struct {
			MountPath  string `json:"mountPath"`
			StringData string `json:"stringData"`
		} `json:"extraFiles"`
		ExtraEnv       map[string]string `json:"extraEnv"`
		LifecycleHooks *corev1.Lifecycle `json:"lifecycleHooks"`
		StartTimeout   int               `json:"startTimeout"`
		Cmd            string            `json:"cmd"`
	} `json:"singleuser"`
	Hub struct {
		Config      map[string]map[string]any `json:"config"`
		ExtraConfig map[string]string         `json:"extraConfig"`
		DB          struct {
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
	// A real authenticator: no shared password, no allow_all.
	cfg := v.Hub.Config
	class, _ := cfg["JupyterHub"]["authenticator_class"].(string)
	switch class {
	case "nativeauthenticator.NativeAuthenticator", "native", "github", "oauthenticator.GitHubOAuthenticator":
	default:
		t.Errorf("authenticator_class %q: use NativeAuthenticator or an OAuthenticator, not a shared password", class)
	}
	if _, ok := cfg["DummyAuthenticator"]; ok {
		t.Error("DummyAuthenticator (a shared password) must not be configured")
	}
	for section, kv := range cfg {
		if _, ok := kv["password"]; ok {
			t.Errorf("hub.config.%s sets a password", section)
		}
		if b, ok := kv["allow_all"].(bool); ok && b {
			t.Errorf("hub.config.%s.allow_all is true", section)
		}
		if b, ok := kv["open_signup"].(bool); ok && b {
			t.Errorf("hub.config.%s.open_signup is true: anyone could sign up and run code", section)
		}
	}
	admins, _ := cfg["Authenticator"]["admin_users"].([]any)
	if len(admins) == 0 {
		t.Error("name an admin (hub.config.Authenticator.admin_users) to authorize sign-ups")
	}
	raw, _ := os.ReadFile("z2jh/values.yaml")
	if !strings.Contains(string(raw), "EDIT BEFORE DEPLOYING") {
		t.Error("values.yaml needs the loud comment on authentication")
	}
}

// TestGoChecksums: install.sh and the Dockerfile verify the Go tarball
// against the same published SHA-256 values.
func TestGoChecksums(t *testing.T) {
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := os.ReadFile(filepath.Join("..", "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	hex64 := regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	for _, arch := range []string{"AMD64", "ARM64"} {
		m := regexp.MustCompile(`(?m)^ARG GO_SHA256_` + arch + `=([0-9a-f]{64})$`).FindSubmatch(df)
		if m == nil {
			t.Errorf("Dockerfile: no ARG GO_SHA256_%s with a 64-digit SHA-256", arch)
			continue
		}
		if !bytes.Contains(inst, m[1]) {
			t.Errorf("install.sh does not know the %s SHA-256 %s of the Dockerfile", arch, m[1])
		}
	}
	if n := len(hex64.FindAll(inst, -1)); n < 2 {
		t.Errorf("install.sh records %d Go SHA-256 values, want amd64 and arm64", n)
	}
	for what, b := range map[string][]byte{"Dockerfile": df, "install.sh": inst} {
		if !bytes.Contains(b, []byte("sha256sum -c")) {
			t.Errorf("%s does not check the Go tarball with sha256sum -c", what)
		}
	}
	if !bytes.Contains(inst, []byte("GO_SHA256")) {
		t.Error("install.sh must take GO_SHA256 for other Go versions")
	}
	if bytes.Contains(df, []byte("| tar")) {
		t.Error("Dockerfile pipes the Go download into tar before checking it")
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
		{"RUN", "nbgrader==", "nbgrader for the course (notebooks/course)"},
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
