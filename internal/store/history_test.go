package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// finishRun runs one failover attempt of execution exec at minute i: lock,
// then Commit (to commitTo) or Release with entry.
func finishRun(t *testing.T, s *Store, exec string, i int, entry HistoryEntry, commitTo string) Record {
	t.Helper()
	ctx := context.Background()
	at := t0.Add(time.Duration(i) * time.Minute)
	s.Now = func() time.Time { return at }
	held, err := s.AcquireLock(ctx, "pg", exec, time.Minute, at)
	if err != nil {
		t.Fatalf("%s: %v", exec, err)
	}
	entry.Epoch = held.Epoch
	var rec Record
	if commitTo != "" {
		rec, err = s.Commit(ctx, "pg", exec, commitTo, entry)
	} else {
		rec, err = s.Release(ctx, "pg", exec, entry)
	}
	if err != nil {
		t.Fatalf("%s: %v", exec, err)
	}
	return rec
}

func refusal(i int) HistoryEntry {
	return HistoryEntry{Action: ActionFailover, From: "node2", To: "node1", Outcome: OutcomeRefused,
		Reason: fmt.Sprintf("no healthy standby: node1 is the former primary; its last heartbeat is %ds old", 31*i),
		Steps:  []string{"lease", "assess"}}
}

// The measured case: after a real failover, no standby is left and a
// refusal is recorded every cycle. Hours of refusals are one entry, and the
// failover stays in the history.
func TestRepeatedRefusalsCoalesceAndKeepTheFailover(t *testing.T) {
	s, _ := newTestStore(t)
	finishRun(t, s, "exec-failover", 0, HistoryEntry{Action: ActionFailover, Outcome: OutcomeSucceeded, Reason: "primary lost"}, "node2")
	const refusals = 500
	var rec Record
	for i := 1; i <= refusals; i++ {
		rec = finishRun(t, s, fmt.Sprintf("exec-%d", i), i, refusal(i), "")
	}
	if len(rec.History) != 2 {
		t.Fatalf("history has %d entries, want the failover and one coalesced refusal: %+v", len(rec.History), rec.History)
	}
	change, r := rec.History[0], rec.History[1]
	if change.Execution != "exec-failover" || !change.Committed {
		t.Errorf("first entry %+v, want the committed failover", change)
	}
	if r.Occurrences() != refusals || r.FirstExecution != "exec-1" || r.Execution != fmt.Sprintf("exec-%d", refusals) ||
		r.FirstEpoch != 3 || r.Epoch != 2+refusals || !r.Since().Equal(t0.Add(time.Minute)) ||
		!r.FinishedAt.Equal(t0.Add(refusals*time.Minute)) || !strings.Contains(r.Reason, fmt.Sprint(31*refusals)) {
		t.Errorf("coalesced refusal %+v", r)
	}
	got, err := s.Get(context.Background(), "pg")
	if err != nil {
		t.Fatal(err)
	}
	if g := got.History[1]; g.Count != refusals || g.FirstExecution != "exec-1" || !g.FirstFinishedAt.Equal(r.FirstFinishedAt) {
		t.Errorf("stored coalesced entry %+v", g)
	}
}

// Routine outcomes that do not repeat each other are bounded by MaxRoutine
// and never push out important entries, however many there are.
func TestRoutineOutcomesNeverEvictImportantOnes(t *testing.T) {
	s, _ := newTestStore(t)
	finishRun(t, s, "exec-failover", 0, HistoryEntry{Action: ActionFailover, Outcome: OutcomeSucceeded}, "node2")
	finishRun(t, s, "exec-failed", 1, HistoryEntry{Action: ActionFailover, From: "node2", To: "node1", Outcome: OutcomeFailed, Reason: "fence timed out"}, "")
	finishRun(t, s, "exec-aborted", 2, HistoryEntry{Action: ActionFailover, Outcome: OutcomeAborted}, "")
	var rec Record
	for i := 3; i < 3+4*MaxHistory; i++ {
		e := refusal(i)
		if i%2 == 0 { // alternate kinds so that nothing coalesces
			e.Outcome, e.Reason = OutcomeNotNeeded, "primary node2 is healthy from a second vantage point"
		}
		rec = finishRun(t, s, fmt.Sprintf("exec-%d", i), i, e, "")
	}
	if len(rec.History) != 3+MaxRoutine {
		t.Fatalf("history has %d entries, want 3 important + %d routine", len(rec.History), MaxRoutine)
	}
	for i, want := range []string{"exec-failover", "exec-failed", "exec-aborted"} {
		if rec.History[i].Execution != want {
			t.Errorf("entry %d is %s, want %s", i, rec.History[i].Execution, want)
		}
	}
	last := 3 + 4*MaxHistory - 1
	if got := rec.History[len(rec.History)-1].Execution; got != fmt.Sprintf("exec-%d", last) {
		t.Errorf("newest entry %s, want exec-%d", got, last)
	}
	if got := rec.History[3].Execution; got != fmt.Sprintf("exec-%d", last-MaxRoutine+1) {
		t.Errorf("oldest routine entry %s, want exec-%d", got, last-MaxRoutine+1)
	}
}

func TestOnlySameKindCoalesces(t *testing.T) {
	base := HistoryEntry{Action: ActionFailover, From: "node1", To: "node2", Outcome: OutcomeRefused,
		Reason: "standby node2 is 52428800 bytes behind 0/3000060"}
	same := base
	same.Reason = "standby node2 is 1048577 bytes behind 1A/B374D848"
	if !sameKind(base, same) {
		t.Errorf("%q and %q should coalesce", base.Reason, same.Reason)
	}
	for name, change := range map[string]func(*HistoryEntry){
		"reason":  func(e *HistoryEntry) { e.Reason = "no evidence of the primary's last WAL position" },
		"outcome": func(e *HistoryEntry) { e.Outcome = OutcomeNotNeeded },
		"target":  func(e *HistoryEntry) { e.To = "node3" },
	} {
		other := base
		change(&other)
		if sameKind(base, other) {
			t.Errorf("entries differing in %s coalesce", name)
		}
	}
	// An important entry between two refusals keeps them apart.
	h := appendHistory(nil, base)
	h = appendHistory(h, HistoryEntry{Outcome: OutcomeFailed})
	h = appendHistory(h, same)
	if len(h) != 3 {
		t.Errorf("history %+v, want 3 separate entries", h)
	}
}

// A Release retried after its entry was coalesced into a later one is
// still recognised as done.
func TestReleaseRetryInsideACoalescedEntry(t *testing.T) {
	ctx := context.Background()
	s, db := newTestStore(t)
	first := refusal(1)
	finishRun(t, s, execA, 1, first, "")
	rec := finishRun(t, s, execB, 2, refusal(2), "")
	if len(rec.History) != 1 || rec.History[0].Occurrences() != 2 {
		t.Fatalf("history %+v, want one entry of 2", rec.History)
	}
	puts := db.puts
	first.Epoch = rec.History[0].FirstEpoch
	if _, err := s.Release(ctx, "pg", execA, first); err != nil {
		t.Fatalf("retried Release of the first execution: %v", err)
	}
	if db.puts != puts {
		t.Fatal("retried Release wrote again")
	}
	var nh *ErrNotLockHolder
	if _, err := s.Release(ctx, "pg", "stranger", refusal(3)); !errors.As(err, &nh) {
		t.Fatalf("Release by a stranger: %v, want *ErrNotLockHolder", err)
	}
}

// A record written before coalescing (a plain history list) decodes, and
// the next entry coalesces with its last one.
func TestOldHistoryDecodes(t *testing.T) {
	old := item{
		attrCluster: str("pg"), attrEpoch: num(4), attrPrimary: str("node1"), attrVersion: num(9),
		attrUpdatedAt: timeAttr(t0),
		attrHistory: &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberM{Value: item{"epoch": num(2), "action": str(ActionFailover), "outcome": str(OutcomeSucceeded),
				"committed": &types.AttributeValueMemberBOOL{Value: true}, "execution": str("e2"), "finishedAt": timeAttr(t0)}},
			&types.AttributeValueMemberM{Value: item{"epoch": num(3), "action": str(ActionFailover), "outcome": str(OutcomeRefused),
				"reason": str("stale evidence 900s"), "committed": &types.AttributeValueMemberBOOL{Value: false},
				"execution": str("e3"), "finishedAt": timeAttr(t0), "steps": &types.AttributeValueMemberL{Value: []types.AttributeValue{str("lease")}}}},
		}},
	}
	rec, err := unmarshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.History) != 2 || rec.History[1].Occurrences() != 1 || rec.History[1].Execution != "e3" {
		t.Fatalf("decoded history %+v", rec.History)
	}
	h := appendHistory(rec.History, HistoryEntry{Epoch: 5, Action: ActionFailover, Outcome: OutcomeRefused,
		Reason: "stale evidence 960s", Execution: "e5", FinishedAt: t0.Add(time.Minute)})
	if len(h) != 2 || h[1].Count != 2 || h[1].FirstEpoch != 3 || h[1].FirstExecution != "e3" || h[1].Epoch != 5 {
		t.Fatalf("after a new refusal: %+v", h)
	}
	back, err := unmarshal(marshalRecord(Record{Cluster: "pg", History: h}, h))
	if err != nil || !reflect.DeepEqual(back.History[1], h[1]) {
		t.Fatalf("round trip of a coalesced entry: %+v (%v), want %+v", back.History[1], err, h[1])
	}
}

// The items' worst case, every bounded field at its bound, stays far
// below DynamoDB's 400 KB item limit.
func TestWorstCaseItemSize(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // 2 bytes each: cut at a boundary
	huge := long(10 * maxReasonLen)
	steps := make([]string, 3*maxSteps)
	stepMs := map[string]int64{}
	for i := range steps {
		steps[i] = clip(fmt.Sprint(i)+long(maxStepLen), maxStepLen) // distinct: each has its timing
		stepMs[steps[i]] = 1 << 40
	}
	entry := func(outcome string, i int) HistoryEntry {
		return bounded(HistoryEntry{Epoch: 1 << 40, Action: long(maxNameLen), Trigger: long(maxTriggerLen), From: long(maxNameLen), To: long(maxNameLen),
			Outcome: outcome, Execution: strings.Repeat("a", 2*maxExecutionLen) + fmt.Sprint(i), Reason: huge,
			Committed: outcome == OutcomeSucceeded, StartedAt: t0, FinishedAt: t0.Add(time.Duration(i)), Steps: steps, StepMs: stepMs})
	}
	var hist []HistoryEntry
	for i := range 2 * MaxHistory {
		hist = appendHistory(hist, entry(OutcomeSucceeded, i))
	}
	for i := range 2 * MaxRoutine {
		e := entry(OutcomeRefused, i)
		e.Reason = clip(fmt.Sprintf("%c", 'a'+i%26)+huge, maxReasonLen) // distinct shapes: nothing coalesces
		hist = appendHistory(hist, e)
	}
	// Make every routine entry a coalesced one, with all its fields.
	for i := range hist {
		if hist[i].Routine() {
			hist[i].Count, hist[i].FirstEpoch, hist[i].FirstExecution, hist[i].FirstFinishedAt = 1<<30, 1<<40, hist[i].Execution, t0
		}
	}
	if len(hist) != MaxHistory+MaxRoutine {
		t.Fatalf("%d entries, want %d", len(hist), MaxHistory+MaxRoutine)
	}
	rec := Record{Cluster: long(128), Epoch: 1 << 40, Primary: long(maxNameLen), Version: 1 << 40, UpdatedAt: t0,
		Lock: &FailoverLock{Holder: strings.Repeat("a", maxExecutionLen), Expires: t0},
		PrimaryLease: &PrimaryLease{Node: long(maxNameLen), Term: 1 << 40, Renewed: t0, Expires: t0, LSN: 1 << 63, SyncStandby: long(maxNameLen), RevokedBy: strings.Repeat("a", maxExecutionLen), RevokedAt: t0, HardFenced: true, DetachedBy: long(maxNameLen), DetachedAt: t0,
			Timeline: 1 << 31, Replicas: worstReplicas(long(maxNameLen))},
		Standby: &StandbyState{Node: long(maxNameLen), Reason: clip(huge, maxReasonLen), Changed: t0},
		History: hist}
	// The record item and the history item of today's layout, and the
	// single item of the layout before the history split, which a cluster
	// keeps until its first history write moves the history out.
	for _, c := range []struct {
		name string
		it   item
	}{
		{"record item", marshalRecord(rec, nil)},
		{"history item", marshalHistory(rec)},
		{"old single item (history inline)", marshalRecord(rec, rec.History)},
	} {
		size := itemSize(c.it)
		t.Logf("worst-case %s: %d bytes (%.0f%% of 400 KB)", c.name, size, 100*float64(size)/(400*1024))
		if size > 200*1024 {
			t.Errorf("worst-case %s is %d bytes, want at most half of DynamoDB's 400 KB limit", c.name, size)
		}
	}
}

// itemSize is an item's size as DynamoDB counts it: attribute names plus
// values; numbers counted generously at one byte per digit plus one.
func itemSize(it item) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value) + 1
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + len(v.Value) + itemSize(v.Value)
	default:
		panic(fmt.Sprintf("itemSize: unexpected attribute type %T", v))
	}
}

func worstReplicas(name string) []ReplicaState {
	out := make([]ReplicaState, maxReplicas)
	for i := range out {
		out[i] = ReplicaState{Node: name, State: "streaming", Sync: "potential", ReplayLSN: 1 << 63, ReplayLagMs: 1 << 40}
	}
	return out
}
