package docker

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestZ2JHNbgrader checks the classroom part of the z2jh example: an
// nbgrader exchange on a ReadWriteMany volume mounted where nbgrader's
// system-wide config says, a teacher role (the "instructors" group) whose
// server profile gets the course directory, and the course it copies.
func TestZ2JHNbgrader(t *testing.T) {
	v := readValues(t)
	var pvc corev1.PersistentVolumeClaim
	b, err := os.ReadFile("z2jh/nbgrader-exchange.yaml")
	if err != nil {
		t.Fatal(err)
	}
	strict(t, "z2jh/nbgrader-exchange.yaml", b, &pvc)
	if pvc.Kind != "PersistentVolumeClaim" || len(pvc.Spec.AccessModes) != 1 || pvc.Spec.AccessModes[0] != corev1.ReadWriteMany {
		t.Errorf("exchange volume: kind %q, access modes %v: want a ReadWriteMany PersistentVolumeClaim", pvc.Kind, pvc.Spec.AccessModes)
	}
	vol := ""
	for _, x := range v.Singleuser.Storage.ExtraVolumes {
		if x.PersistentVolumeClaim != nil && x.PersistentVolumeClaim.ClaimName == pvc.Name {
			vol = x.Name
		}
	}
	if vol == "" {
		t.Fatalf("no singleuser volume uses the claim %q", pvc.Name)
	}
	mount := ""
	for _, m := range v.Singleuser.Storage.ExtraVolumeMounts {
		if m.Name == vol {
			mount = m.MountPath
		}
	}
	cfg, ok := v.Singleuser.ExtraFiles["nbgrader-config"]
	if !ok || cfg.MountPath != "/etc/jupyter/nbgrader_config.py" {
		t.Fatalf("nbgrader's system-wide config is not mounted at /etc/jupyter/nbgrader_config.py: %+v", cfg)
	}
	if mount == "" || !strings.Contains(cfg.StringData, `c.Exchange.root = "`+mount+`"`) {
		t.Errorf("the exchange is mounted at %q but nbgrader_config.py says %q", mount, cfg.StringData)
	}
	// The config is Python: run it (teacher and student) with a stand-in
	// get_config where python3 is installed.
	if py, err := exec.LookPath("python3"); err == nil {
		prog := "import sys\nclass C(dict):\n    def __getattr__(s, k):\n        return s.setdefault(k, C())\n    def __setattr__(s, k, v):\n        s[k] = v\ncfg = C()\nget_config = lambda: cfg\n" +
			cfg.StringData + "\nprint(cfg['Exchange']['root'], cfg['CourseDirectory'].get('root', '-'))\n"
		for role, want := range map[string]string{"teacher": mount + " /home/jovyan/course", "": mount + " -"} {
			cmd := exec.Command(py, "-c", prog)
			cmd.Env = append(os.Environ(), "REPDYN_ROLE="+role)
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != want {
				t.Errorf("nbgrader_config.py with REPDYN_ROLE=%q: %q (%v), want %q", role, out, err, want)
			}
		}
	}
	// The teacher role.
	groups, _ := v.Hub.Config["JupyterHub"]["load_groups"].(map[string]any)
	if _, ok := groups["instructors"]; !ok {
		t.Error(`hub.config.JupyterHub.load_groups has no "instructors" group`)
	}
	extra := strings.Join(mapValues(v.Hub.ExtraConfig), "\n")
	for _, want := range []string{"c.KubeSpawner.profile_list", `"instructors"`, "REPDYN_ROLE", "/opt/repdyn/notebooks/course"} {
		if !strings.Contains(extra, want) {
			t.Errorf("hub.extraConfig (the teacher profile) lacks %q", want)
		}
	}
	if py, err := exec.LookPath("python3"); err == nil {
		for name, code := range v.Hub.ExtraConfig {
			cmd := exec.Command(py, "-c", "import sys; compile(sys.stdin.read(), 'extraConfig', 'exec')")
			cmd.Stdin = strings.NewReader(code)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("hub.extraConfig.%s is not valid Python: %s", name, out)
			}
		}
	}
	// What the teacher profile copies exists in the repository (the image has
	// it at /opt/repdyn).
	for _, f := range []string{"nbgrader_config.py", "TEACHING.md", "source"} {
		if _, err := os.Stat(filepath.Join("..", "notebooks", "course", f)); err != nil {
			t.Errorf("the course the teacher profile copies: %v", err)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
