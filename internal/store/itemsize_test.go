package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
)

// typicalRecord is a cluster record with a full history of typical entries
// (a fast-path failover with its seven timed steps, an alarm refusal).
func typicalRecord() Record {
	steps := []string{"intake", "lock", "assess", "fence", "promote", "reroute", "verify"}
	stepMs := map[string]int64{}
	for _, s := range steps {
		stepMs[s] = 123
	}
	rec := Record{Cluster: "prod", Epoch: 52, Primary: "node2", Version: 99999, UpdatedAt: t0,
		PrimaryLease: &PrimaryLease{Node: "node2", Term: 5, Renewed: t0, Expires: t0, LSN: 1 << 40, SyncStandby: "node1",
			Timeline: 52, Replicas: worstReplicas("node1")[:1]},
		Standby: &StandbyState{Node: "node1", Eligible: true, Reason: "the synchronous standby, confirming commits", Changed: t0}}
	for i := range MaxHistory {
		rec.History = appendHistory(rec.History, HistoryEntry{Epoch: int64(i + 2), Action: "failover",
			Trigger: "fast path: node2 lost node1 (connection refused)", From: "node1", To: "node2", Outcome: OutcomeSucceeded,
			Execution: fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:switchyard-prod-failover:fastpath-prod-node1-t%d-r123456", i),
			Reason:    "primary node1 unreachable from node2 and its heartbeat stale for 12 s; promoted node2 with 0 bytes of lag",
			Committed: true, StartedAt: t0, FinishedAt: t0.Add(time.Duration(i) * time.Hour), Steps: steps, StepMs: stepMs})
	}
	for i := range MaxRoutine {
		rec.History = appendHistory(rec.History, HistoryEntry{Epoch: 52, Action: "failover", Trigger: "alarm switchyard-prod-primary-heartbeat",
			Outcome: OutcomeRefused, Execution: fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:switchyard-prod-failover:alarm-%d", i),
			Reason:    fmt.Sprintf("%c: no failover needed: the primary renewed its lease 1.2 s ago and answers", 'a'+i),
			StartedAt: t0, FinishedAt: t0.Add(time.Duration(100+i) * time.Hour)})
	}
	return rec
}

// What a lease renewal and an agent's read cost: DynamoDB charges a write
// one WRU per started KB of the item written and a consistent read one RRU
// per started 4 KB of the item read. The history lives in its own item,
// so the record item a renewal rewrites (and the agents read every second)
// stays below 1 KB however full the history is; only the rare history
// writes (a failover's end, a rejoin, a pause) write the history item, in
// a transaction (which bills twice the units of both items). The sizes
// measured here are what docs/deploy.md's monthly cost is computed from.
func TestTypicalItemSizes(t *testing.T) {
	ctx := context.Background()
	full := typicalRecord()
	db := newFakeDynamoDB(table)
	db.items["prod"] = marshalRecord(full, nil)
	db.items[HistoryKey("prod")] = marshalHistory(full)
	s := New(db, table)
	s.Now = func() time.Time { return t0 }

	_, err := s.RenewPrimaryLease(ctx, "prod", Renewal{Node: "node2", Now: t0, Duration: 10 * time.Second, LSN: 1 << 41,
		SyncStandby: "node1", Timeline: 52, Replicas: full.PrimaryLease.Replicas})
	if err != nil {
		t.Fatal(err)
	}
	if db.transactions != 0 || len(db.written) != 1 || !slices.Equal(db.reads, []string{"prod"}) {
		t.Fatalf("a renewal read %q and wrote %d items (%d transactions); want one read and one write of the record item",
			db.reads, len(db.written), db.transactions)
	}
	record := itemSize(db.written[0])
	db.reads = nil
	if _, err := s.GetState(ctx, "prod"); err != nil || !slices.Equal(db.reads, []string{"prod"}) {
		t.Fatalf("GetState read %q (%v); want the record item alone", db.reads, err)
	}

	// A history write: the record item and the history item, together.
	db.written = nil
	if _, err := s.AcquireLock(ctx, "prod", execA, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Release(ctx, "prod", execA, HistoryEntry{Action: ActionFailover, Outcome: OutcomeNotNeeded, Reason: "z: primary answers"}); err != nil {
		t.Fatal(err)
	}
	if db.transactions != 1 || len(db.written) != 3 {
		t.Fatalf("acquire and release: %d items written in %d transactions; want 3 in 1", len(db.written), db.transactions)
	}
	history := itemSize(db.written[2])
	fresh := itemSize(marshalRecord(Record{Cluster: "prod", Epoch: 1, Primary: "node1", Version: 1, UpdatedAt: t0}, nil))
	inline := itemSize(marshalRecord(full, full.History))

	t.Logf("record item: %d bytes new, %d bytes as a renewal writes it with %d history entries (%d WRU per renewal, %d RRU per read)",
		fresh, record, len(full.History), units(record, 1024), units(record, 4096))
	t.Logf("history item: %d bytes full (%d WRU, twice that in a transaction; %d RRU per read with the history)",
		history, units(history, 1024), units(history, 4096))
	t.Logf("before the split (history inside the record item): %d bytes, %d WRU per renewal", inline, units(inline, 1024))
	if record > 1024 || fresh > 1024 {
		t.Errorf("the record item is %d bytes (%d new): a renewal costs more than 1 WRU", record, fresh)
	}
	if len(full.History) != MaxHistory+MaxRoutine || history < 20*1024 || history > 48*1024 {
		t.Errorf("%d entries, %d bytes: docs/deploy.md prices the full history item at about 35 KB", len(full.History), history)
	}
	if got := maps.Keys(db.written[0]); slices.Contains(slices.Collect(got), attrHistory) {
		t.Error("the renewal wrote a history attribute into the record item")
	}
}

func units(size, per int) int { return (size + per - 1) / per }
