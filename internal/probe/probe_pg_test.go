package probe

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/pgnode"
)

// pgCtlStart is a shell restart command that starts n's PostgreSQL with
// pg_ctl, as the account the harness runs servers as (via setpriv when the
// test runs as root, as an init system would).
func pgCtlStart(n *pgharness.Node) []string {
	cmd := n.Command(context.Background(), "pg_ctl", "-D", n.DataDir, "-l", filepath.Join(n.Dir, "restart.log"),
		"-w", "-t", "60", "start")
	argv := cmd.Args
	argv[0] = cmd.Path
	if a := cmd.SysProcAttr; a != nil && a.Credential != nil {
		argv = append([]string{"setpriv", fmt.Sprintf("--reuid=%d", a.Credential.Uid),
			fmt.Sprintf("--regid=%d", a.Credential.Gid), "--clear-groups", "--"}, argv...)
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return []string{"/bin/sh", "-c", "cd " + shellQuote(n.Dir) + " && exec " + strings.Join(quoted, " ")}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func pgProbeConfig(node string, n *pgharness.Node, restart []string) Config {
	cfg := testConfig()
	cfg.Node = node
	cfg.DSN = n.DSN("postgres", pgharness.Superuser)
	cfg.Interval = 100 * time.Millisecond
	cfg.CheckTimeout = 2 * time.Second
	cfg.Recovery = RecoveryPolicy{FailureThreshold: 2, MaxRestarts: 2, Window: time.Minute, Grace: 2 * time.Second}
	cfg.RestartCommand = restart
	cfg.RestartTimeout = time.Minute
	cfg.Publish.FlushInterval = 100 * time.Millisecond
	return cfg
}

// TestProbeAgainstRealPostgres runs a probe on each node of a real pair.
// The primary is killed and brought back by the restart command (pg_ctl),
// without a single unhealthy heartbeat; the standby is killed with a
// restart command that fails, and is reported unhealthy under its role.
func TestProbeAgainstRealPostgres(t *testing.T) {
	pair := pgharness.StartPairT(t, pgharness.PairOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cwA, cwB := &fakeCloudWatch{}, &fakeCloudWatch{}
	probeA, stopA := startProbe(t, pgProbeConfig("node1", pair.Primary, pgCtlStart(pair.Primary)), Deps{CloudWatch: cwA})
	probeB, stopB := startProbe(t, pgProbeConfig("node2", pair.Standby, []string{"/bin/sh", "-c", "echo 'pg_ctl: no server' >&2; exit 1"}),
		Deps{CloudWatch: cwB})

	waitFor(t, 30*time.Second, "both healthy", func() bool {
		a, b := probeA.Snapshot(), probeB.Snapshot()
		return a.Heartbeat == 1 && a.Role == pgnode.RolePrimary && b.Heartbeat == 1 && b.Role == pgnode.RoleStandby
	})

	t.Run("primary killed and restarted locally", func(t *testing.T) {
		if err := pair.Primary.Kill(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "restart command run", func() bool { return probeA.Snapshot().Restarts >= 1 })
		waitFor(t, 60*time.Second, "healthy again", func() bool {
			s := probeA.Snapshot()
			return s.Healthy && s.Heartbeat == 1 && s.Role == pgnode.RolePrimary
		})
		if s := probeA.Snapshot(); s.Restarts != 1 || s.RestartFailures != 0 {
			t.Fatalf("snapshot %+v, want exactly one successful restart", s)
		}
		// PostgreSQL really is back, as a primary.
		conn, err := pgnode.Connect(ctx, pair.Primary.DSN("postgres", pgharness.Superuser), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if in, err := pgnode.InRecovery(ctx, conn); err != nil || in {
			t.Fatalf("after restart: in recovery %v, %v", in, err)
		}
	})

	t.Run("standby killed, restart fails, reported unhealthy", func(t *testing.T) {
		if err := pair.Standby.Kill(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "declared unhealthy", func() bool { return probeB.Snapshot().Heartbeat == 0 })
		if s := probeB.Snapshot(); s.Restarts != 2 || s.RestartFailures != 2 || s.Role != pgnode.RoleStandby {
			t.Fatalf("snapshot %+v", s)
		}
	})

	stopA()
	stopB()
	a := points(cwA.datums())
	if n := total(a, MetricHeartbeat, byNode1, 0) + total(a, MetricHeartbeat, byPrimary, 0); n != 0 {
		t.Fatalf("primary probe published %v unhealthy heartbeats; local recovery should have hidden the restart", n)
	}
	if total(a, MetricHeartbeat, byPrimary, 1) < 2 {
		t.Fatalf("primary heartbeats: %+v", a)
	}
	var sawLSN bool
	for _, p := range a {
		sawLSN = sawLSN || (p.metric == MetricPrimaryLSN && p.dims == byNode1 && p.value > 0)
	}
	if !sawLSN {
		t.Fatal("no PrimaryLSN under Node=node1")
	}
	b := points(cwB.datums())
	byNode2 := "Cluster=prod;Node=node2;"
	if total(b, MetricHeartbeat, byNode2, 0) < 1 || total(b, MetricHeartbeat, byStandby, 0) < 1 {
		t.Fatalf("standby probe: no Heartbeat 0 under node and role: %+v", b)
	}
	var sawLag bool
	for _, p := range b {
		sawLag = sawLag || (p.metric == MetricReplayLagBytes && p.dims == byStandby)
	}
	if !sawLag {
		t.Fatal("no ReplayLagBytes under Role=standby")
	}
}
