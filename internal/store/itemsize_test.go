package store

import (
	"fmt"
	"testing"
	"time"
)

// What a lease renewal costs: DynamoDB charges a write one WRU per started
// KB of the whole item and a consistent read one RRU per started 4 KB, and
// the history lives in the record's one item. A new cluster's record fits
// in 1 KB; with a full history of typical entries (a fast-path failover
// with its seven timed steps, a coalesced alarm refusal) it is tens of KB,
// so every renewal and every agent read costs that many units
// (docs/deploy.md's monthly cost is computed from these two sizes).
func TestTypicalItemSizes(t *testing.T) {
	steps := []string{"intake", "lock", "assess", "fence", "promote", "reroute", "verify"}
	stepMs := map[string]int64{}
	for _, s := range steps {
		stepMs[s] = 123
	}
	rec := Record{Cluster: "prod", Epoch: 52, Primary: "node2", Version: 99999, UpdatedAt: t0,
		PrimaryLease: &PrimaryLease{Node: "node2", Term: 5, Renewed: t0, Expires: t0, LSN: 1 << 40, SyncStandby: "node1",
			Timeline: 52, Replicas: worstReplicas("node1")[:1]},
		Standby: &StandbyState{Node: "node1", Eligible: true, Reason: "the synchronous standby, confirming commits", Changed: t0}}
	fresh := itemSize(marshal(rec))
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
	full := itemSize(marshal(rec))
	t.Logf("record item: %d bytes new (%d WRU per renewal, %d RRU per read); %d bytes with %d typical history entries (%d WRU, %d RRU)",
		fresh, units(fresh, 1024), units(fresh, 4096), full, len(rec.History), units(full, 1024), units(full, 4096))
	if fresh > 1024 {
		t.Errorf("a new cluster's record is %d bytes: a renewal costs more than 1 WRU", fresh)
	}
	if len(rec.History) != MaxHistory+MaxRoutine || full < 20*1024 || full > 48*1024 {
		t.Errorf("%d entries, %d bytes: docs/deploy.md prices the full record at 35 KB", len(rec.History), full)
	}
}

func units(size, per int) int { return (size + per - 1) / per }
