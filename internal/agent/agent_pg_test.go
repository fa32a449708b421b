package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/store"
)

// The tests below run a real primary/standby pair with real agents. Each
// breaks one rule of the safety core on purpose (docs/safety.md).

func TestPrimaryRenewsLeaseWithEvidenceAndArmsWatchdog(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{})
	rec := tc.steady()
	if rec.Primary != "node1" {
		t.Fatalf("record bootstrapped with primary %q, want the observed primary node1", rec.Primary)
	}
	if rec.PrimaryLease.SyncStandby != "node2" {
		t.Errorf("lease names synchronous standby %q, want node2", rec.PrimaryLease.SyncStandby)
	}
	// The renewal carries what status shows of the members.
	if l := rec.PrimaryLease; l.Timeline != 1 || len(l.Replicas) != 1 || l.Replicas[0].Node != "node2" ||
		l.Replicas[0].State != "streaming" || l.Replicas[0].Sync != "sync" || l.Replicas[0].ReplayLSN == 0 || l.Replicas[0].ReplayLSN > l.LSN {
		t.Errorf("lease timeline %d replicas %+v (LSN %d), want timeline 1 and node2 streaming synchronously", l.Timeline, l.Replicas, l.LSN)
	}
	first := rec.PrimaryLease.Expires
	tc.waitFor("a renewal", 5*time.Second, func() bool {
		r, err := tc.records.Get(context.Background(), tc.cfg.Name)
		return err == nil && r.PrimaryLease.Expires.After(first)
	})
	if armed, timeout := tc.dogs["node1"].state(); !armed || timeout != tc.cfg.WatchdogTimeout() {
		t.Errorf("primary's watchdog armed=%v timeout=%s, want armed with %s", armed, timeout, tc.cfg.WatchdogTimeout())
	}
	if armed, _ := tc.dogs["node2"].state(); armed {
		t.Error("the standby's watchdog is armed; only a writable primary arms it")
	}
	if got := tc.agent("node2").PublishedRole(2); got != 2 { // a standby publishes as standby
		t.Errorf("standby publishes as %v", got)
	}
}

// A node that is writable without being the recorded primary fences itself:
// it stops, and a start by hand comes up read-only.
func TestWritableNodeThatIsNotRecordedPrimaryFencesItself(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true, pgctl: true}) // the host controller
	rec := tc.steady()
	// A failover hands the primary role to node2 (as the state machine
	// does with the failover lock): revoke, wait out the lease, grant.
	lockRec, err := tc.records.AcquireLock(context.Background(), tc.cfg.Name, "exec-1", time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.records.RevokePrimaryLease(context.Background(), tc.cfg.Name, "exec-1", lockRec.Epoch, time.Now()); err != nil {
		t.Fatal(err)
	}
	// pg_ctl stop -w returns a poll (100 ms) after the server is gone: wait
	// for the agent to have finished the fence, not only for the process.
	tc.waitFor("node1's agent to fence its PostgreSQL after the revocation", 5*time.Second, func() bool {
		return !tc.pair.Primary.Running() && tc.agent("node1").Snapshot().State == agent.StateStopped
	})
	snap := tc.agent("node1").Snapshot()
	if snap.State != agent.StateStopped || !strings.Contains(snap.Reason, "revoked") || snap.SelfFences != 1 {
		t.Errorf("node1's agent: %+v, want stopped with the revocation as reason", snap)
	}
	if armed, _ := tc.dogs["node1"].state(); armed {
		t.Error("watchdog still armed after a clean self-fence")
	}
	marker, err := os.ReadFile(filepath.Join(tc.pair.Primary.DataDir, agent.FenceMarker))
	if err != nil || !strings.Contains(string(marker), "revoked") {
		t.Errorf("fence marker: %q, %v", marker, err)
	}
	_ = rec
	// Restarted by hand: it must come up read-only and stay so.
	tc.stopAgent("node1")
	if err := tc.pair.Primary.Start(testCtx(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	conn := tc.connect("node1")
	var inRecovery bool
	if err := conn.QueryRow(context.Background(), "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
		t.Fatalf("restarted by hand: in recovery = %v (%v), want a read-only standby", inRecovery, err)
	}
	if _, err := conn.Exec(context.Background(), "CREATE TABLE after_fence (x int)"); err == nil {
		t.Fatal("a fenced node restarted by hand accepted a write")
	}
	// Its agent restarted: it leaves the read-only server alone and never
	// publishes it as primary.
	tc.startAgent("node1")
	tc.waitFor("the restarted agent to see node1 as a standby", 5*time.Second, func() bool {
		return tc.agent("node1").Snapshot().State == agent.StateStandby
	})
}

// Cut off from the record and from its standby, the primary stops
// accepting writes before its lease expires; a session opened before the
// cut cannot commit afterwards.
func TestPrimaryCutOffFromRecordAndStandbyStopsWithinLease(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true})
	tc.steady()
	conn := tc.connect("node1")
	if _, err := conn.Exec(context.Background(), "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if got := tc.nodeMetric("node1", agent.MetricLeaseSecondsLeft); len(got) > 0 {
		t.Errorf("node1 published LeaseSecondsLeft %v while it renewed", got)
	}
	cut := time.Now()
	tc.replication.Cut(dataplane.Refuse)
	heal := tc.partition("node1")
	defer heal()
	lease := tc.cfg.LeaseDuration()
	tc.waitFor("node1 to stop itself", lease+5*time.Second, func() bool { return !tc.pair.Primary.Running() })
	stoppedAfter := time.Since(cut)
	if stoppedAfter > lease {
		t.Errorf("node1 stopped %s after the cut, later than its lease (%s)", stoppedAfter, lease)
	}
	if err := tx.Commit(context.Background()); err == nil {
		t.Fatal("a transaction opened before the cut committed after the self-fence")
	}
	t.Logf("node1 stopped %s after losing the record and its standby (lease %s)", stoppedAfter.Round(time.Millisecond), lease)
	// The dashboard saw the lease run out: values published while the
	// renewals failed, never rising, down to below half the lease.
	left := tc.nodeMetric("node1", agent.MetricLeaseSecondsLeft)
	if len(left) == 0 || left[len(left)-1] >= lease.Seconds()/2 {
		t.Fatalf("LeaseSecondsLeft while renewals failed: %v", left)
	}
	for i := 1; i < len(left); i++ {
		if left[i] > left[i-1] {
			t.Errorf("LeaseSecondsLeft rose without a renewal: %v", left)
		}
	}
}

// Cut off from the record only, with the standby streaming: failsafe keeps
// the healthy pair serving well past the lease.
func TestPrimaryCutOffFromRecordOnlyKeepsServing(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{})
	tc.steady()
	heal := tc.partition("node1")
	defer heal()
	tc.waitFor("failsafe", 3*tc.cfg.LeaseDuration(), func() bool { return tc.agent("node1").Snapshot().Failsafe })
	deadline := time.Now().Add(tc.cfg.LeaseDuration())
	conn := tc.connect("node1")
	if _, err := conn.Exec(context.Background(), "CREATE TABLE failsafe (x int)"); err != nil {
		t.Fatal(err)
	}
	for i := 0; time.Now().Before(deadline); i++ {
		if _, err := conn.Exec(context.Background(), "INSERT INTO failsafe VALUES ($1)", i); err != nil {
			t.Fatalf("write %d in failsafe: %v", i, err)
		}
		time.Sleep(100 * time.Millisecond) // paces the writer; not a synchronisation
	}
	if !tc.pair.Primary.Running() {
		t.Fatal("the primary stopped although its standby streams")
	}
	// Now the standby goes too: failsafe no longer holds.
	tc.replication.Cut(dataplane.Refuse)
	tc.waitFor("node1 to stop once its standby is gone", 10*time.Second, func() bool { return !tc.pair.Primary.Running() })
}

// A revoked lease cannot be renewed, and a renewal by a node that is not the
// recorded primary is refused: the store side of the agent's rules.
func TestStoreRefusesRenewalsThatAreNotThePrimarys(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true})
	tc.steady()
	_, err := tc.records.RenewPrimaryLease(context.Background(), tc.cfg.Name, store.Renewal{Node: "node2", Now: time.Now(), Duration: time.Second})
	var notPrimary *store.ErrNotPrimary
	if !errors.As(err, &notPrimary) {
		t.Fatalf("renewal by node2: %v, want ErrNotPrimary", err)
	}
}
