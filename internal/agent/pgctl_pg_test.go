package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/pgharness"
)

// hostController is the controller nodeprobe builds on a host, for n's
// data directory: pg_ctl from the harness's binaries, through runuser when
// the test runs as root (as the agent's unit does with --run-as).
func hostController(t *testing.T, n *pgharness.Node) agent.PGCtl {
	t.Helper()
	bin, err := pgharness.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	ctl := agent.PGCtl{BinDir: bin, Data: n.DataDir, LogFile: filepath.Join(n.Dir, "pgctl.log"), Node: n.Name}
	if os.Geteuid() == 0 {
		account, _, err := pgharness.Account()
		if err != nil {
			t.Fatal(err)
		}
		ctl.RunAs = []string{"runuser", "-u", account, "--"}
	}
	return ctl
}

// The controller the agent uses on a host, on a real data directory: it
// starts PostgreSQL and sees it run, stops it at once (sessions end, no
// commit after), sees a crashed postmaster as not running although its
// postmaster.pid is left behind, starts over that, and runs the tools.
func TestPGCtlDrivesARealServer(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 2*time.Minute)
	pair, err := pgharness.StartPair(ctx, pgharness.PairOptions{Sync: false, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pair.Close(); err != nil {
			t.Errorf("closing the pair: %v", err)
		}
	})
	n := pair.Primary
	if err := n.Stop(ctx, pgharness.StopFast); err != nil {
		t.Fatal(err)
	}
	ctl := hostController(t, n)
	t.Cleanup(func() { _ = ctl.StopImmediate(context.Background()) }) // before the pair's cleanup
	if ctl.Running() {
		t.Fatal("Running before any start")
	}
	if err := ctl.StopImmediate(ctx); err != nil {
		t.Errorf("StopImmediate of a stopped server: %v", err)
	}
	if err := ctl.Start(ctx); err != nil {
		t.Fatalf("Start: %v\n%s", err, readFile(ctl.LogFile))
	}
	if !ctl.Running() {
		t.Fatal("not Running after Start")
	}
	conn, err := n.Connect(ctx, "postgres", pgharness.Superuser)
	if err != nil {
		t.Fatalf("connecting after Start: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE pgctl_probe (x int)"); err != nil {
		t.Fatalf("writing after Start: %v", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO pgctl_probe VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := ctl.StopImmediate(ctx); err != nil {
		t.Fatalf("StopImmediate: %v", err)
	}
	if ctl.Running() {
		t.Fatal("Running after StopImmediate")
	}
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("a session open before StopImmediate committed after it")
	}

	// A crashed postmaster leaves postmaster.pid behind.
	if err := ctl.Start(ctx); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	pid := postmasterPID(t, n.DataDir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for ctl.Running() {
		if time.Now().After(deadline) {
			t.Fatalf("still Running 30 s after SIGKILL of postmaster %d", pid)
		}
		time.Sleep(20 * time.Millisecond) // polling the process table, not synchronising
	}
	if _, err := os.Stat(filepath.Join(n.DataDir, "postmaster.pid")); err != nil {
		t.Fatalf("postmaster.pid after the crash: %v (the case under test needs it left behind)", err)
	}
	waitChildrenGone(t, n.DataDir)
	if err := ctl.Start(ctx); err != nil {
		t.Fatalf("Start over a crashed server's postmaster.pid: %v\n%s", err, readFile(ctl.LogFile))
	}
	var count int
	conn2, err := n.Connect(ctx, "postgres", pgharness.Superuser)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn2.QueryRow(ctx, "SELECT count(*) FROM pgctl_probe").Scan(&count); err != nil || count != 0 {
		t.Errorf("after crash recovery: %d rows (%v), want 0 (the insert never committed)", count, err)
	}
	conn2.Close(ctx)

	out, err := ctl.Tool(ctx, "pg_controldata", "-D", n.DataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Database cluster state:               in production") {
		t.Errorf("pg_controldata through the controller: %v\n%s", err, out)
	}
	if err := ctl.StopFast(ctx); err != nil {
		t.Fatalf("StopFast: %v", err)
	}
	if ctl.Running() {
		t.Fatal("Running after StopFast")
	}
	if err := ctl.StopFast(ctx); err != nil {
		t.Errorf("StopFast of a stopped server: %v", err)
	}
}

func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		t.Fatalf("postmaster.pid first line %q", first)
	}
	return pid
}

// waitChildrenGone waits until no backend of the killed postmaster holds
// the data directory's shared memory (they exit on their own once the
// postmaster is gone), as pg_ctl start needs.
func waitChildrenGone(t *testing.T, dataDir string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		busy := false
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == dataDir {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("backends of the killed postmaster still run after 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
