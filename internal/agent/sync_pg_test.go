package agent_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/store"
)

func (tc *testCluster) record() store.Record {
	tc.t.Helper()
	rec, err := tc.records.Get(context.Background(), tc.cfg.Name)
	if err != nil {
		tc.t.Fatal(err)
	}
	return rec
}

func (tc *testCluster) standbyEligible() bool {
	rec := tc.record()
	return rec.Standby != nil && rec.Standby.Node == "node2" && rec.Standby.Eligible
}

// commitAsync starts a commit on node1 and reports its outcome on the
// returned channel.
func (tc *testCluster) commitAsync(table string, v int) <-chan error {
	conn := tc.connect("node1")
	out := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "INSERT INTO "+table+" VALUES ($1)", v)
		out <- err
	}()
	return out
}

// strict: with the standby gone, commits block (and keep blocking past the
// degrade time), the standby is marked ineligible at once, and the
// waiting commit completes only when the standby is back; the standby is
// eligible again once it is synchronous.
func TestStrictPolicyBlocksCommitsWhileTheStandbyIsGone(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{policy: cluster.SyncStrict})
	tc.steady()
	if _, err := tc.connect("node1").Exec(context.Background(), "CREATE TABLE strict_t (x int)"); err != nil {
		t.Fatal(err)
	}
	if got := tc.nodeMetric("node1", agent.MetricSyncCommitsWaiting); len(got) > 0 {
		t.Errorf("node1 published SyncCommitsWaiting %v with no commit waiting", got)
	}
	tc.replication.Cut(dataplane.Refuse)
	done := tc.commitAsync("strict_t", 1)
	tc.waitFor("the standby marked ineligible", 10*time.Second, func() bool { return !tc.standbyEligible() })
	// Past the degrade time the commit still waits: strict never drops.
	deadline := time.Now().Add(tc.cfg.DegradeAfter() + 2*time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("a commit finished (%v) while the strict policy's standby was gone", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if snap := tc.agent("node1").Snapshot(); snap.SyncNames != "node2" {
		t.Errorf("strict policy: synchronous_standby_names = %q, want node2", snap.SyncNames)
	}
	tc.replication.Heal()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the waiting commit failed after the standby returned: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting commit did not finish after the standby returned")
	}
	tc.waitFor("the standby eligible again", 30*time.Second, tc.standbyEligible)
	// The waiting commit was published, and its end once.
	waiting := tc.nodeMetric("node1", agent.MetricSyncCommitsWaiting)
	if len(waiting) < 2 || !slices.Contains(waiting, 1) || waiting[len(waiting)-1] != 0 || slices.Index(waiting, 0) != len(waiting)-1 {
		t.Errorf("SyncCommitsWaiting published %v, want 1s while the commit waited, then one 0", waiting)
	}
}

// available: the standby is marked ineligible first, then (after the
// degrade time) the primary drops to asynchronous and the waiting commit
// completes; once the standby is back and caught up it is synchronous and
// eligible again.
func TestAvailablePolicyDegradesOnlyAfterMarkingTheStandbyIneligible(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{policy: cluster.SyncAvailable})
	tc.steady()
	if _, err := tc.connect("node1").Exec(context.Background(), "CREATE TABLE avail_t (x int)"); err != nil {
		t.Fatal(err)
	}
	tc.replication.Cut(dataplane.Refuse)
	cut := time.Now()
	done := tc.commitAsync("avail_t", 1)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("commit after degrading: %v", err)
		}
	case <-time.After(tc.cfg.DegradeAfter() + 20*time.Second):
		t.Fatal("the commit still waits long after the degrade time")
	}
	waited := time.Since(cut)
	if waited < tc.cfg.DegradeAfter() {
		t.Errorf("commit completed %s after the cut, before the degrade time %s", waited, tc.cfg.DegradeAfter())
	}
	rec := tc.record()
	if rec.Standby == nil || rec.Standby.Eligible || !rec.Standby.Changed.Before(time.Now()) {
		t.Fatalf("after degrading the record says %+v; the standby must be ineligible", rec.Standby)
	}
	var names string
	if err := tc.connect("node1").QueryRow(context.Background(), "SELECT current_setting('synchronous_standby_names')").Scan(&names); err != nil || names != "" {
		t.Errorf("available policy after degrading: synchronous_standby_names = %q (%v), want empty", names, err)
	}
	tc.replication.Heal()
	tc.waitFor("the standby eligible again after catching up", 30*time.Second, tc.standbyEligible)
	if err := tc.connect("node1").QueryRow(context.Background(), "SELECT current_setting('synchronous_standby_names')").Scan(&names); err != nil || names != "node2" {
		t.Errorf("after catch-up synchronous_standby_names = %q (%v), want node2", names, err)
	}
}
