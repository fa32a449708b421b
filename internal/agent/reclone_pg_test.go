package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/store"
)

// noRewind makes pg_rewind genuinely impossible: without wal_log_hints
// (and the harness's initdb enables no data checksums) pg_rewind refuses
// the target, in --dry-run too.
var noRewind = map[string]string{"wal_log_hints": "off"}

// A former primary that diverged and that pg_rewind cannot rewind is
// re-cloned from the new primary with pg_basebackup: it ends up streaming
// from node2 with node2's writes and without its own diverged one, its old
// data directory is kept beside the new one (fenced, with the diverged row
// still in its table's file), and the history says it was a re-clone.
func TestFormerPrimaryReclonedWhenRewindImpossible(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true, extraConfig: noRewind})
	tc.steady()
	ctx := context.Background()
	conn1 := tc.connect("node1")
	if _, err := conn1.Exec(ctx, "CREATE TABLE reclone_probe (id int primary key, at text)"); err != nil {
		t.Fatal(err)
	}
	var relPath string
	if err := conn1.QueryRow(ctx, "SELECT pg_relation_filepath('reclone_probe')").Scan(&relPath); err != nil {
		t.Fatal(err)
	}
	conn2 := tc.connect("node2")
	tc.waitFor("the table on node2", 10*time.Second, func() bool {
		var n int
		return conn2.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = 'reclone_probe'").Scan(&n) == nil && n == 1
	})
	tc.replication.Cut(dataplane.Refuse)
	if _, err := conn1.Exec(ctx, "INSERT INTO reclone_probe VALUES (1, 'node1 only, diverged')"); err != nil {
		t.Fatal(err)
	}

	failOverToNode2(t, tc, conn2)
	if _, err := conn2.Exec(ctx, "INSERT INTO reclone_probe VALUES (2, 'node2 after the failover')"); err != nil {
		t.Fatal(err)
	}

	tc.waitFor("node1's agent to rejoin it by a re-clone", 90*time.Second, func() bool { return tc.agent("node1").Snapshot().Rejoins == 1 })
	conn1b := tc.connect("node1")
	tc.waitFor("node2's write on node1, streamed", 20*time.Second, func() bool {
		var n int
		return conn1b.QueryRow(ctx, "SELECT count(*) FROM reclone_probe WHERE id = 2").Scan(&n) == nil && n == 1
	})
	var inRecovery bool
	var diverged, receiver int
	if err := conn1b.QueryRow(ctx, `SELECT pg_is_in_recovery(), (SELECT count(*) FROM reclone_probe WHERE id = 1),
		(SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming' AND sender_port = $1)`, tc.pair.Standby.Port).
		Scan(&inRecovery, &diverged, &receiver); err != nil {
		t.Fatal(err)
	}
	if !inRecovery || diverged != 0 || receiver != 1 {
		t.Errorf("node1 after the re-clone: in recovery %t, diverged row present %d, receivers streaming from node2 %d; want a streaming standby of node2 without it",
			inRecovery, diverged, receiver)
	}
	dataDir := tc.pair.Primary.DataDir
	if _, err := os.Stat(filepath.Join(dataDir, agent.FenceMarker)); err == nil {
		t.Error("the fence marker is still there after the rejoin")
	}
	if _, err := os.Stat(dataDir + ".reclone"); err == nil {
		t.Error("the clone's temporary directory is still there")
	}

	rec, err := tc.records.Get(ctx, tc.cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	last := rec.History[len(rec.History)-1]
	if last.Action != store.ActionRejoin || last.From != "node1" || last.To != "node2" || last.Outcome != store.OutcomeSucceeded ||
		!slices.Equal(last.Steps, []string{"rewind", "reclone", "start"}) ||
		!strings.Contains(last.Reason, "failed (pg_rewind: error: target server needs to use either data checksums or") ||
		!strings.Contains(last.Reason, "re-cloned with pg_basebackup from "+tc.pair.Standby.Addr()) ||
		!strings.Contains(last.Reason, "; the old data directory is kept at ") {
		t.Fatalf("last history entry %+v, want node1's rejoin by a re-clone, with pg_rewind's error and where the old data directory is", last)
	}
	kept := last.Reason[strings.Index(last.Reason, "kept at ")+len("kept at "):]
	if !strings.HasPrefix(kept, dataDir+".replaced-") {
		t.Fatalf("old data directory kept at %q, want a sibling %s.replaced-<time>", kept, dataDir)
	}
	if snap := tc.agent("node1").Snapshot(); snap.State != agent.StateStandby || !strings.Contains(snap.Reason, kept) {
		t.Errorf("node1's agent: %s %q, want a standby whose reason names %s", snap.State, snap.Reason, kept)
	}
	// The old data directory is whole and fenced; its table's file holds
	// the diverged row (crash recovery before pg_rewind checkpointed it).
	if v, err := os.ReadFile(filepath.Join(kept, "PG_VERSION")); err != nil || strings.TrimSpace(string(v)) == "" {
		t.Errorf("PG_VERSION of the kept data directory: %q %v", v, err)
	}
	if r, err := os.ReadFile(filepath.Join(kept, agent.FenceMarker)); err != nil || !strings.Contains(string(r), "replaced by a re-clone") {
		t.Errorf("fence marker of the kept data directory: %q %v", r, err)
	}
	heap, err := os.ReadFile(filepath.Join(kept, relPath))
	if err != nil || !strings.Contains(string(heap), "node1 only, diverged") {
		t.Errorf("the diverged row is not in %s of the kept data directory (%d bytes, %v)", relPath, len(heap), err)
	}
	t.Logf("history: %s", last.Reason)
}

// With the re-clone turned off (rejoin.noReclone), a former primary that
// pg_rewind cannot rewind stays stopped and fenced, its data directory
// where it was, and the agent's state says why.
func TestFailedRewindWithRecloneOffStaysFenced(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true, noReclone: true, extraConfig: noRewind})
	tc.steady()
	conn2 := tc.connect("node2")
	failOverToNode2(t, tc, conn2)
	var snap agent.Snapshot
	tc.waitFor("node1's rejoin to fail", 30*time.Second, func() bool {
		snap = tc.agent("node1").Snapshot()
		return snap.State == agent.StateStopped && strings.Contains(snap.Reason, "rejoin failed")
	})
	if !strings.Contains(snap.Reason, "wal_log_hints") || !strings.Contains(snap.Reason, "no re-clone: re-clone disabled (rejoin.noReclone)") {
		t.Errorf("node1's agent: %q, want pg_rewind's error and that the re-clone is off", snap.Reason)
	}
	dataDir := tc.pair.Primary.DataDir
	if snap.Rejoins != 0 || tc.pair.Primary.Running() {
		t.Errorf("node1 rejoined (%d) or runs (%t)", snap.Rejoins, tc.pair.Primary.Running())
	}
	if r, err := os.ReadFile(filepath.Join(dataDir, agent.FenceMarker)); err != nil || !strings.Contains(string(r), "rejoin failed") {
		t.Errorf("fence marker: %q %v", r, err)
	}
	if others, _ := filepath.Glob(dataDir + ".re*"); len(others) != 0 {
		t.Errorf("with the re-clone off, %v exist beside the data directory", others)
	}
}
