package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// install runs install.sh with args and returns its combined output.
func install(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"install.sh"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stubBinary is an executable standing in for nodeprobe: the test is about
// the installation, not the binary (make agent builds the real ones).
func stubBinary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nodeprobe")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// unitSettings parses a systemd unit file into section → key → values.
func unitSettings(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: cannot parse %q", path, line)
			}
			out[section][k] = append(out[section][k], v)
		}
	}
	return out
}

func TestInstallIntoARootAndVerifyTheUnit(t *testing.T) {
	root := t.TempDir()
	config := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(config, []byte(`{"name":"orders"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := install(t, "--root", root, "--binary", stubBinary(t), "--cluster-config", config)
	if err != nil {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"systemctl mask postgresql.service", "modprobe softdog", "systemctl enable --now switchyard-nodeprobe.service"} {
		if !strings.Contains(out, want) {
			t.Errorf("install.sh does not tell the operator to run %q:\n%s", want, out)
		}
	}
	files := map[string]os.FileMode{
		"/usr/local/bin/nodeprobe":                         0o755,
		"/etc/systemd/system/switchyard-nodeprobe.service": 0o644,
		"/etc/modules-load.d/switchyard-softdog.conf":      0o644,
		"/etc/switchyard/nodeprobe.env":                    0o640,
		"/etc/switchyard/cluster.json":                     0o640,
	}
	for f, mode := range files {
		info, err := os.Stat(filepath.Join(root, f))
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if info.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", f, info.Mode().Perm(), mode)
		}
	}

	unitPath := filepath.Join(root, "etc/systemd/system/switchyard-nodeprobe.service")
	u := unitSettings(t, unitPath)
	want := []struct{ section, key, value string }{
		{"Service", "ExecStart", "/usr/local/bin/nodeprobe"},
		{"Service", "EnvironmentFile", "/etc/switchyard/nodeprobe.env"},
		{"Service", "Restart", "always"},
		// PostgreSQL, started by the agent, survives the agent's restarts.
		{"Service", "KillMode", "process"},
		{"Unit", "Conflicts", "postgresql.service"},
		{"Install", "WantedBy", "multi-user.target"},
	}
	for _, w := range want {
		if got := u[w.section][w.key]; len(got) != 1 || got[0] != w.value {
			t.Errorf("[%s] %s = %v, want %q", w.section, w.key, got, w.value)
		}
	}
	for _, key := range []string{"PrivateTmp", "ProtectSystem", "ProtectHome"} {
		if _, ok := u["Service"][key]; ok {
			t.Errorf("[Service] %s is set: PostgreSQL, started from the service, would inherit the sandbox", key)
		}
	}
	softdog, err := os.ReadFile(filepath.Join(root, "etc/modules-load.d/switchyard-softdog.conf"))
	if err != nil || !strings.Contains("\n"+string(softdog), "\nsoftdog\n") {
		t.Errorf("softdog module file: %q (%v)", softdog, err)
	}
	env, err := os.ReadFile(filepath.Join(root, "etc/switchyard/nodeprobe.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"SWITCHYARD_CLUSTER_CONFIG=/etc/switchyard/cluster.json", "SWITCHYARD_PGDATA=", "SWITCHYARD_WATCHDOG=/dev/watchdog"} {
		if !strings.Contains(string(env), "\n"+v) {
			t.Errorf("nodeprobe.env lacks %s", v)
		}
	}

	// A second run keeps the operator's settings.
	edited := append(env, []byte("SWITCHYARD_LOG_LEVEL=debug\n")...)
	if err := os.WriteFile(filepath.Join(root, "etc/switchyard/nodeprobe.env"), edited, 0o640); err != nil {
		t.Fatal(err)
	}
	if out, err := install(t, "--root", root, "--binary", stubBinary(t)); err != nil || !strings.Contains(out, "kept existing") {
		t.Errorf("second install: %v\n%s", err, out)
	}
	if again, _ := os.ReadFile(filepath.Join(root, "etc/switchyard/nodeprobe.env")); !bytes.Equal(again, edited) {
		t.Error("a second install overwrote nodeprobe.env")
	}

	verifyUnit(t, root, "/etc/systemd/system/switchyard-nodeprobe.service")
}

// verifyUnit runs systemd-analyze verify on the installed unit, inside the
// root (ExecStart is resolved there) with a copy of the host's system units
// (the targets the unit orders itself against). Any message fails.
func verifyUnit(t *testing.T, root, unit string) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed (apt-get install systemd): the unit was checked by content only, not verified by systemd")
		return
	}
	var units string
	for _, dir := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		if _, err := os.Stat(filepath.Join(dir, "multi-user.target")); err == nil {
			units = dir
			break
		}
	}
	if units == "" {
		t.Fatal("systemd-analyze exists but no systemd unit directory with multi-user.target does")
	}
	if err := os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-r", units, filepath.Join(root, "usr/lib/systemd/system")).CombinedOutput(); err != nil {
		t.Fatalf("copying %s: %v\n%s", units, err, out)
	}
	cmd := exec.Command(analyze, "verify", "--root="+root, filepath.Join(root, unit))
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
	t.Logf("systemd-analyze verify %s: clean", unit)
}

func TestInstallRefusesWithoutABinary(t *testing.T) {
	root := t.TempDir()
	out, err := install(t, "--root", root)
	if err == nil || !strings.Contains(out, "--binary is required") {
		t.Errorf("install.sh without --binary: %v\n%s", err, out)
	}
	out, err = install(t, "--root", root, "--binary", filepath.Join(root, "missing"))
	if err == nil || !strings.Contains(out, "is not an executable file") {
		t.Errorf("install.sh with a missing binary: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a refused install wrote %d entries into the root", len(entries))
	}
}
