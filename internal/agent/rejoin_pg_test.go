package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/store"
)

// A former primary that diverged (it committed locally while its standby
// was cut off, asynchronous replication) rejoins by itself once a failover
// has made node2 primary and committed: its agent keeps the WAL the rewind
// discards, rewinds it with pg_rewind against node2, starts it as node2's
// streaming standby and says so in the history. The write node2 never had
// is gone from node1 and kept in the saved WAL; node2's writes reach node1.
func TestFormerPrimaryRejoinsAfterDiverging(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true, pgctl: true}) // the host controller
	tc.steady()
	ctx := context.Background()
	conn1 := tc.connect("node1")
	if _, err := conn1.Exec(ctx, "CREATE TABLE rejoin_probe (id int primary key, at text)"); err != nil {
		t.Fatal(err)
	}
	conn2 := tc.connect("node2")
	tc.waitFor("the table on node2", 10*time.Second, func() bool {
		var n int
		return conn2.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = 'rejoin_probe'").Scan(&n) == nil && n == 1
	})
	tc.replication.Cut(dataplane.Refuse)
	if _, err := conn1.Exec(ctx, "INSERT INTO rejoin_probe VALUES (1, 'node1 only'); SELECT pg_switch_wal()"); err != nil {
		t.Fatal(err)
	}

	failOverToNode2(t, tc, conn2)
	if _, err := conn2.Exec(ctx, "INSERT INTO rejoin_probe VALUES (2, 'node2 after the failover')"); err != nil {
		t.Fatal(err)
	}

	tc.waitFor("node1's agent to rejoin it", 60*time.Second, func() bool { return tc.agent("node1").Snapshot().Rejoins == 1 })
	conn1b := tc.connect("node1")
	tc.waitFor("node2's write on node1, streamed", 20*time.Second, func() bool {
		var n int
		return conn1b.QueryRow(ctx, "SELECT count(*) FROM rejoin_probe WHERE id = 2").Scan(&n) == nil && n == 1
	})
	var inRecovery bool
	var diverged, receiver int
	if err := conn1b.QueryRow(ctx, `SELECT pg_is_in_recovery(), (SELECT count(*) FROM rejoin_probe WHERE id = 1),
		(SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming')`).Scan(&inRecovery, &diverged, &receiver); err != nil {
		t.Fatal(err)
	}
	if !inRecovery || diverged != 0 || receiver != 1 {
		t.Errorf("node1 after the rejoin: in recovery %t, diverged row present %d, streaming receivers %d; want a streaming standby without it", inRecovery, diverged, receiver)
	}
	if _, err := os.Stat(filepath.Join(tc.pair.Primary.DataDir, "switchyard.fenced")); err == nil {
		t.Error("the fence marker is still there after the rejoin")
	}

	rec, err := tc.records.Get(ctx, tc.cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	last := rec.History[len(rec.History)-1]
	if last.Action != store.ActionRejoin || last.From != "node1" || last.To != "node2" || last.Outcome != store.OutcomeSucceeded ||
		!strings.Contains(last.Reason, "diverged at") || !strings.Contains(last.Reason, "kept in ") {
		t.Fatalf("last history entry %+v, want node1's rejoin with where the WAL was kept", last)
	}
	keep := last.Reason[strings.Index(last.Reason, "kept in ")+len("kept in "):]
	segs, err := filepath.Glob(filepath.Join(keep, "0000000*"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("kept WAL in %s: %v %v", keep, segs, err)
	}
	// The discarded commit is in the kept WAL: its row text is in a segment.
	found := false
	for _, s := range segs {
		b, err := os.ReadFile(s)
		if err == nil && strings.Contains(string(b), "node1 only") {
			found = true
		}
	}
	if !found {
		t.Errorf("the diverged write is in none of the %d kept segments", len(segs))
	}
	t.Logf("history: %s", last.Reason)
}

// failOverToNode2 takes the steps of a failover from node1 to node2 as the
// state machine does (lock, revoke, fence, grant, promote, commit) and
// checks node1 did not rejoin while the failover held the lock.
func failOverToNode2(t *testing.T, tc *testCluster, conn2 *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	grantNode2(t, tc)
	tc.waitFor("node2 promoted", 15*time.Second, func() bool {
		var in bool
		return conn2.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&in) == nil && !in
	})
	if tc.agent("node1").Snapshot().Rejoins != 0 {
		t.Fatal("node1 rejoined while the failover still held the lock")
	}
	if _, err := tc.records.Commit(ctx, tc.cfg.Name, "exec-1", "node2", store.HistoryEntry{Action: store.ActionFailover,
		From: "node1", Outcome: store.OutcomeSucceeded, StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// With automatic rejoin off, a former primary stays stopped and fenced
// until an operator asks for the rejoin (switchyard rejoin writes the
// request into the record); then its agent rejoins it and the request is
// cleared.
func TestRequestedRejoinWithAutomaticRejoinOff(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true, noAutoRejoin: true})
	tc.steady()
	ctx := context.Background()
	conn2 := tc.connect("node2")
	failOverToNode2(t, tc, conn2)
	// Three loops of node1's agent after the commit: an automatic rejoin
	// would have started in the first (TestFormerPrimaryRejoinsAfterDiverging).
	loops := tc.agent("node1").Snapshot().Loops
	tc.waitFor("three loops of node1's agent after the failover", 10*time.Second, func() bool {
		snap := tc.agent("node1").Snapshot()
		return snap.Loops >= loops+3 && snap.State == agent.StateStopped && strings.Contains(snap.Reason, "needs rejoin")
	})
	if n := tc.agent("node1").Snapshot().Rejoins; n != 0 || tc.pair.Primary.Running() {
		t.Fatalf("with automatic rejoin off node1 rejoined (%d) or runs (%t) unasked", n, tc.pair.Primary.Running())
	}
	if _, err := tc.records.RequestRejoin(ctx, tc.cfg.Name, "node1", "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	tc.waitFor("node1's agent to rejoin it on request", 60*time.Second, func() bool { return tc.agent("node1").Snapshot().Rejoins == 1 })
	rec, err := tc.records.Get(ctx, tc.cfg.Name)
	if err != nil || rec.RejoinRequest != nil || rec.History[len(rec.History)-1].Action != store.ActionRejoin {
		t.Errorf("after the requested rejoin: request %+v, last entry %+v (%v)", rec.RejoinRequest, rec.History[len(rec.History)-1], err)
	}
}
