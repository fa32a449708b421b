package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
)

// A switchover's revocation is planned; only the revoked primary records
// its clean stop and final position, which survive the round trip and let
// the grant proceed before the lease expires (as a hard fence would), and
// a rejoin entry is written only by a node that is not the primary.
func TestSwitchoverDemotionAndRejoinEntries(t *testing.T) {
	ctx := testCtx(t)
	s, _ := localStore(t)
	const cluster = "orders"
	t0 := time.Date(2026, 12, 5, 4, 0, 0, 0, time.UTC)
	if _, err := s.Init(ctx, cluster, "node1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenewPrimaryLease(ctx, cluster, store.Renewal{Node: "node1", Now: t0, Duration: time.Hour, LSN: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordDemoted(ctx, cluster, "node1", 200, t0); err == nil {
		t.Error("a demotion was recorded without a switchover's revocation")
	}
	// Marking node2 eligible (the agent does once it is the caught-up
	// synchronous standby) names it in the lease's evidence at once.
	if rec, err := s.SetStandbyEligibility(ctx, cluster, "node1", "node2", true, "sync", t0); err != nil || rec.PrimaryLease.SyncStandby != "node2" {
		t.Fatalf("lease after marking node2 eligible: %+v (%v)", rec.PrimaryLease, err)
	}
	lock, err := s.AcquireLock(ctx, cluster, "exec-1", time.Minute, t0)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.RevokeForSwitchover(ctx, cluster, "exec-1", lock.Epoch, t0)
	if err != nil || !rec.PrimaryLease.Planned || !rec.PrimaryLease.Revoked() || rec.PrimaryLease.Demoted() {
		t.Fatalf("revoked for the switchover: %+v (%v)", rec.PrimaryLease, err)
	}
	grant := store.Grant{Holder: "exec-1", Epoch: lock.Epoch, NewPrimary: "node2", Now: t0.Add(time.Second), Duration: 8 * time.Second, ClockMargin: time.Second}
	var notFenced *store.ErrNotFenced
	if _, err := s.GrantPrimary(ctx, cluster, grant); !errors.As(err, &notFenced) {
		t.Fatalf("grant before the demotion, lease valid for an hour: %v, want ErrNotFenced", err)
	}
	if _, err := s.RecordDemoted(ctx, cluster, "node2", 200, t0); err == nil {
		t.Error("node2 recorded node1's demotion")
	}
	if _, err := s.RecordDemoted(ctx, cluster, "node1", 1<<40+7, t0.Add(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, cluster)
	if l := got.PrimaryLease; err != nil || !l.Demoted() || l.FinalLSN != 1<<40+7 || !l.DemotedAt.Equal(t0.Add(500*time.Millisecond)) {
		t.Fatalf("read back %+v (%v)", got.PrimaryLease, err)
	}
	if _, err := s.RecordRejoin(ctx, cluster, "node1", store.HistoryEntry{Outcome: store.OutcomeSucceeded}); err == nil {
		t.Error("the recorded primary wrote a rejoin entry")
	}
	if _, err := s.GrantPrimary(ctx, cluster, grant); err != nil {
		t.Fatalf("grant after the clean stop: %v", err)
	}
	rec, err = s.RecordRejoin(ctx, cluster, "node1", store.HistoryEntry{Outcome: store.OutcomeSucceeded, Reason: "pg_rewind: no rewind required"})
	if err != nil {
		t.Fatal(err)
	}
	last := rec.History[len(rec.History)-1]
	if last.Action != store.ActionRejoin || last.From != "node1" || last.To != "node2" || last.Execution != "agent-node1" || last.Committed {
		t.Errorf("rejoin entry %+v", last)
	}
}
