package localstack_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/store"
)

// TestSwitchoverUnderWritesLosesNothing: a planned switchover to node2
// (events/switchover.json) while a client writes through the overlay IP
// every 50 ms. node1 stops cleanly and fences itself, nothing is stopped
// on EC2, node2 is promoted only once it has node1's last WAL record, the
// route moves, and node1's agent rejoins it as node2's standby. No
// acknowledged write is lost and the nodes are never both writable.
func TestSwitchoverUnderWritesLosesNothing(t *testing.T) {
	t.Parallel()
	s, m, w := startWriting(t, localstack.Options{Rejoin: true})
	arn := startExecution(t, s, "switchover", readEvent(t, s, "switchover.json"))
	exec := requireSucceeded(t, s, arn)
	rec := clusterRecord(t, s)
	if rec.Primary != "node2" {
		t.Fatalf("record names %s primary after the switchover", rec.Primary)
	}
	node1 := s.Nodes["node1"]
	if st := instanceState(t, s, node1.Instance.ID); st != "running" {
		t.Errorf("node1's instance is %s after a switchover; nothing should stop it", st)
	}
	waitFor(t, time.Minute, "node1's agent to rejoin it as node2's standby", func() bool { return node1.Agent().Snapshot().Rejoins == 1 })
	before := len(w.Stats().Acked)
	ackedSince(t, w, before, 20, 30*time.Second, "writes after the switchover")
	outage := w.Stats().Outage
	acked, lost := writerOutcome(t, s, w, "node2")
	if *lost != 0 {
		t.Errorf("%d acknowledged writes lost", *lost)
	}
	if in, err := inRecovery(node1.PG.DSN(localstack.DatabaseName, pgharness.Superuser)); err != nil || !in {
		t.Errorf("node1 after the switchover: in recovery %v (%v), want node2's standby", in, err)
	}
	rec = clusterRecord(t, s)
	var switched, rejoined *store.HistoryEntry
	for i := range rec.History {
		h := &rec.History[i]
		switch h.Action {
		case store.ActionSwitchover:
			switched = h
		case store.ActionRejoin:
			rejoined = h
		}
	}
	if switched == nil || !switched.Committed || switched.From != "node1" || switched.To != "node2" {
		t.Errorf("history has no committed switchover node1 → node2: %+v", rec.History)
	}
	if rejoined == nil || rejoined.From != "node1" {
		t.Errorf("history has no rejoin of node1: %+v", rec.History)
	}
	fenceSummary := ""
	if exec.Fence != nil {
		fenceSummary = exec.Fence.Summary
	}
	if !strings.Contains(fenceSummary, "stopped cleanly") {
		t.Errorf("Fence: %q, want the clean stop", fenceSummary)
	}
	waitNotice(t, s, 30*time.Second, "switchover node1 -> node2 SUCCEEDED")
	waitNotice(t, s, 30*time.Second, "node1 rejoined as a standby of node2")
	assertCallsAllowed(t, s)
	reportFault(t, m, faultRow{Case: "planned switchover under writes (sync), old primary rejoins",
		Expected: "clean stop, promote after the final WAL, reroute, rejoin; nothing lost; no EC2 stop",
		Observed: fmt.Sprintf("SUCCEEDED; longest write outage %s; node1 rejoined", outage.Round(time.Millisecond)),
		Acked:    acked, Lost: lost})
}
