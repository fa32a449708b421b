package probe

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type step struct {
	at      time.Duration // since start
	healthy bool
	hb      heartbeat
	act     action
}

func run(t *testing.T, r *recovery, steps []step) {
	t.Helper()
	start := time.Unix(10000, 0)
	for i, s := range steps {
		hb, act := r.observe(start.Add(s.at), s.healthy)
		if hb != s.hb || act != s.act {
			t.Fatalf("step %d (t=%s healthy=%v): got heartbeat %d action %d, want %d %d", i, s.at, s.healthy, hb, act, s.hb, s.act)
		}
	}
}

func TestRecoveryRestartsThenGivesUp(t *testing.T) {
	r := &recovery{policy: RecoveryPolicy{FailureThreshold: 2, MaxRestarts: 2, Window: time.Minute, Grace: 5 * time.Second}}
	s := time.Second
	run(t, r, []step{
		{0, true, heartbeatHealthy, actNothing},
		{1 * s, false, heartbeatNone, actNothing},       // one blip: not yet confirmed
		{2 * s, false, heartbeatNone, actRestart},       // confirmed: restart #1
		{3 * s, false, heartbeatNone, actNothing},       // grace
		{6 * s, false, heartbeatNone, actNothing},       // still in grace (4s after)
		{7 * s, false, heartbeatNone, actRestart},       // grace over: restart #2
		{12 * s, false, heartbeatUnhealthy, actNothing}, // budget spent: report
		{13 * s, false, heartbeatUnhealthy, actNothing},
		// Even once the window frees the budget, no restart in the same episode.
		{2 * time.Minute, false, heartbeatUnhealthy, actNothing},
		{2*time.Minute + s, true, heartbeatHealthy, actNothing},
		// A new episode has a fresh budget (the old restarts left the window).
		{2*time.Minute + 2*s, false, heartbeatNone, actNothing},
		{2*time.Minute + 3*s, false, heartbeatNone, actRestart},
	})
}

func TestRecoveryBudgetIsShared(t *testing.T) {
	// A flapping server: each restart "works", but the budget within the
	// window is what counts.
	r := &recovery{policy: RecoveryPolicy{FailureThreshold: 1, MaxRestarts: 2, Window: time.Minute, Grace: time.Second}}
	s := time.Second
	run(t, r, []step{
		{0, false, heartbeatNone, actRestart},
		{2 * s, true, heartbeatHealthy, actNothing},
		{3 * s, false, heartbeatNone, actRestart},
		{5 * s, true, heartbeatHealthy, actNothing},
		{6 * s, false, heartbeatUnhealthy, actNothing}, // third failure within the minute
		{61 * s, true, heartbeatHealthy, actNothing},
		{62 * s, false, heartbeatNone, actRestart}, // the first restart has left the window
	})
	if n := r.restartsInWindow(time.Unix(10000, 0).Add(62 * s)); n != 2 {
		t.Fatalf("restarts in window = %d, want 2", n)
	}
}

func TestRecoveryWithoutRestarts(t *testing.T) {
	r := &recovery{policy: RecoveryPolicy{FailureThreshold: 3}}
	s := time.Second
	run(t, r, []step{
		{0, false, heartbeatNone, actNothing},
		{1 * s, false, heartbeatNone, actNothing},
		{2 * s, false, heartbeatUnhealthy, actNothing},
		{3 * s, true, heartbeatHealthy, actNothing},
		{4 * s, false, heartbeatNone, actNothing},
	})
}

func TestCommandRestarter(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	ok := CommandRestarter{Argv: []string{"/bin/sh", "-c", "echo started > " + marker}}
	if err := ok.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(marker); err != nil || strings.TrimSpace(string(b)) != "started" {
		t.Fatalf("command did not run: %q %v", b, err)
	}

	failing := CommandRestarter{Argv: []string{"/bin/sh", "-c", "echo 'could not start server' >&2; exit 3"}}
	err := failing.Restart(context.Background())
	if err == nil || !strings.Contains(err.Error(), "could not start server") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("failing command: %v", err)
	}

	// A command that outlives its timeout is killed.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := (CommandRestarter{Argv: []string{"sleep", "30"}}).Restart(ctx); err == nil {
		t.Fatal("hung command reported success")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("hung command held Restart for %s", took)
	}

	// A daemon left running with our output pipe open is a success, and
	// Restart does not wait for it.
	start = time.Now()
	pidFile := filepath.Join(dir, "daemon.pid")
	daemon := CommandRestarter{Argv: []string{"/bin/sh", "-c", "sleep 30 & echo $! > " + pidFile + "; echo daemon started"}}
	if err := daemon.Restart(context.Background()); err != nil {
		t.Fatalf("daemonising command: %v", err)
	}
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Restart waited %s for the daemon", took)
	}
	if err := (CommandRestarter{}).Restart(context.Background()); err == nil {
		t.Fatal("empty command accepted")
	}
}
