package notify

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchyard/switchyard/internal/store"
)

func kinds(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Kind
	}
	return out
}

// A record item's stream record carries no history on either side (it
// announces no execution) but still the standby's eligibility.
func TestRecordItemStreamRecordAnnouncesRedundancyOnly(t *testing.T) {
	old := store.Record{Cluster: "orders", Primary: "node1", Epoch: 6, Version: 10,
		Standby: &store.StandbyState{Node: "node2", Eligible: true}, History: []store.HistoryEntry{failoverEntry()}}
	cur := old
	cur.Version++
	cur.Standby = &store.StandbyState{Node: "node2", Reason: "not streaming for 12 s", Changed: t0}
	cur.History = append(append([]store.HistoryEntry{}, old.History...), refusal("x", t0))
	got, err := recordChanges(events.DynamoDBEventRecord{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{
		OldImage: image(t, old), NewImage: image(t, cur)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != KindLostRedundancy || got[0].Primary != "node1" {
		t.Fatalf("changes %v, want lost redundancy alone", kinds(got))
	}
	// A renewal: nothing.
	renewed := cur
	renewed.Version++
	got, err = recordChanges(events.DynamoDBEventRecord{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{
		OldImage: image(t, cur), NewImage: image(t, renewed)}})
	if err != nil || len(got) != 0 {
		t.Fatalf("a renewal gave %v (%v)", kinds(got), err)
	}
}

// A history item's stream record announces its new entries, with the
// primary and epoch it carries.
func TestHistoryItemStreamRecordAnnouncesNewEntries(t *testing.T) {
	old := store.Record{Cluster: "orders", Primary: "node1", Epoch: 6, Version: 10, History: []store.HistoryEntry{refusal("r1", t0)}}
	cur := old
	cur.Primary, cur.Epoch, cur.Version = "node2", 7, 14
	cur.History = append(append([]store.HistoryEntry{}, old.History...), failoverEntry())
	got, err := recordChanges(streamRecord(t, "1", old, cur))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != KindExecution || got[0].Entry.Execution != execARN || got[0].Cluster != "orders" ||
		got[0].Primary != "node2" || got[0].Epoch != 7 {
		t.Fatalf("changes %+v, want the failover on orders, primary node2 at epoch 7", got)
	}
}

// The history item appears: on a new cluster with its first entry, or
// when the first history write moves a previous version's history out of
// the record item. Only the newest entry is announced: the others were
// announced when the record item gained them.
func TestHistoryItemInsertAnnouncesTheNewestEntryOnly(t *testing.T) {
	cur := store.Record{Cluster: "orders", Primary: "node2", Epoch: 7, Version: 30,
		History: []store.HistoryEntry{refusal("r1", t0), refusal("r2", t0.Add(1)), {Action: store.ActionPause, Outcome: store.OutcomeSucceeded,
			Execution: "cli", Reason: "kernel upgrade", StartedAt: t0, FinishedAt: t0}, failoverEntry()}}
	got, err := recordChanges(events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
		NewImage: historyImage(t, cur)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Entry.Execution != execARN {
		t.Fatalf("changes %v, want the failover alone", kinds(got))
	}
	first := cur
	first.History = cur.History[:1]
	got, err = recordChanges(events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
		NewImage: historyImage(t, first)}})
	if err != nil || len(got) != 1 || got[0].Entry.Execution != "r1" {
		t.Fatalf("a new cluster's first entry: %v (%v)", kinds(got), err)
	}
	// The record item written in the same transaction: its old image had
	// the history inside, its new one none. Nothing to announce from it.
	oldRec := cur
	oldRec.Version = 29
	moved := store.EncodeRecord(oldRec)
	moved["history"] = store.EncodeHistory(oldRec)["history"]
	newRec := cur
	got, err = recordChanges(events.DynamoDBEventRecord{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{
		OldImage: lambdaImage(t, moved), NewImage: image(t, newRec)}})
	if err != nil || len(got) != 0 {
		t.Fatalf("the record item losing its inline history gave %v (%v)", kinds(got), err)
	}
}
