package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// postmasterAlive decides as pg_ctl status: the pid file must name a live
// process (and here a postgres one).
func TestPostmasterAlive(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "postmaster.pid")
	if alive, known := postmasterAlive(dir); alive || !known {
		t.Errorf("no postmaster.pid: alive %v known %v, want not running", alive, known)
	}
	// A process that has exited (its pid reaped) no longer runs.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	for _, c := range []struct {
		name, content string
		alive         bool
	}{
		{"empty (being written)", "", false},
		{"garbage", "abc\n", false},
		{"an exited process", strconv.Itoa(gone.ProcessState.Pid()) + "\n/data\n", false},
		{"this very process", strconv.Itoa(os.Getpid()) + "\n", false},
		{"a live process that is not postgres", strconv.Itoa(sleeper.Process.Pid) + "\n/data\n", false},
	} {
		if err := os.WriteFile(pidFile, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if alive, known := postmasterAlive(dir); alive != c.alive || !known {
			t.Errorf("%s: alive %v known %v, want alive %v", c.name, alive, known, c.alive)
		}
	}
}
