package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func renewal(node string, at time.Time) Renewal {
	return Renewal{Node: node, Now: at, Duration: 10 * time.Second, LSN: 42}
}

// releaseEntry finishes a failover attempt with a refusal.
func releaseOnce(t *testing.T, s *Store, exec string) Record {
	t.Helper()
	ctx := context.Background()
	if _, err := s.AcquireLock(ctx, "pg", exec, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Release(ctx, "pg", exec, HistoryEntry{Action: ActionFailover, Outcome: OutcomeFailed, Reason: "fence failed " + exec})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// Operations that cannot change the history read and write the record
// item alone and leave the history item as it is; the history comes back
// whole from Get.
func TestStateOnlyOperationsLeaveTheHistoryItemAlone(t *testing.T) {
	ctx := context.Background()
	s, db := newTestStore(t)
	releaseOnce(t, s, execA)
	hist := db.items[HistoryKey("pg")]
	if hist == nil {
		t.Fatal("Release wrote no history item")
	}
	if _, ok := db.items["pg"][attrHistory]; ok {
		t.Fatal("the record item holds a history")
	}
	db.reads, db.written = nil, nil
	puts, transactions := db.puts, db.transactions
	if _, err := s.RenewPrimaryLease(ctx, "pg", renewal("node1", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStandbyEligibility(ctx, "pg", "node1", "node2", true, "sync", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RequestRejoin(ctx, "pg", "node2", "ops", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireLock(ctx, "pg", execB, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckLock(ctx, "pg", execB, 3); err != nil {
		t.Fatal(err)
	}
	for _, k := range db.reads {
		if k != "pg" {
			t.Errorf("a state-only operation read %q", k)
		}
	}
	if db.transactions != transactions || db.puts != puts+4 {
		t.Errorf("%d puts and %d transactions for four state-only writes", db.puts-puts, db.transactions-transactions)
	}
	if !reflect.DeepEqual(db.items[HistoryKey("pg")], hist) {
		t.Error("a state-only operation rewrote the history item")
	}
	rec, err := s.Get(ctx, "pg")
	if err != nil || len(rec.History) != 1 || rec.Version != 7 || !rec.LockHeldBy(execB) {
		t.Fatalf("Get: %+v, %v", rec, err)
	}
	// The history item carries the record's primary, epoch and version of
	// its own write.
	h, err := DecodeRecord(hist)
	if err != nil || h.Cluster != "pg" || h.Primary != "node1" || h.Epoch != 2 || h.Version != 3 || len(h.History) != 1 {
		t.Fatalf("history item %+v, %v", h, err)
	}
}

// A change function that alters the history of a record read without it
// is refused, never written: the write would replace the history with
// nothing.
func TestChangingAnUnreadHistoryIsRefused(t *testing.T) {
	s, db := newTestStore(t)
	releaseOnce(t, s, execA)
	puts := db.puts
	_, err := s.update(context.Background(), "testing", "pg", stateOnly, func(rec *Record) (bool, error) {
		rec.History = appendHistory(rec.History, HistoryEntry{Action: ActionRejoin, Outcome: OutcomeSucceeded})
		return true, nil
	})
	if err == nil || !strings.Contains(err.Error(), "not read") || db.puts != puts {
		t.Fatalf("err = %v, %d writes", err, db.puts-puts)
	}
}

// A history write loses a race to a renewal between its read and its
// transaction: the transaction is cancelled, and the store reads again
// and writes both changes.
func TestTransactionLosingARaceReadsAgain(t *testing.T) {
	ctx := context.Background()
	s, db := newTestStore(t)
	if _, err := s.AcquireLock(ctx, "pg", execA, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	other := New(db, table)
	raced := false
	db.beforePut = func() {
		if raced {
			return
		}
		raced = true
		if _, err := other.RenewPrimaryLease(ctx, "pg", renewal("node1", t0.Add(time.Second))); err != nil {
			t.Errorf("racing renewal: %v", err)
		}
	}
	transactions := db.transactions
	rec, err := s.Commit(ctx, "pg", execA, "node2", HistoryEntry{Action: ActionFailover, Outcome: OutcomeSucceeded})
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if db.transactions != transactions+2 {
		t.Fatalf("%d transactions, want 2 (one cancelled)", db.transactions-transactions)
	}
	got, err := s.Get(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	if got.Primary != "node2" || len(got.History) != 1 || got.PrimaryLease == nil || got.Version != rec.Version || rec.Version != 4 {
		t.Fatalf("after the race: %+v (Commit returned version %d)", got, rec.Version)
	}
}

// The history item is written between Get's two reads: Get reads again,
// and returns a history that belongs to the record it returns.
func TestGetReadsAgainWhenTheHistoryIsNewer(t *testing.T) {
	ctx := context.Background()
	s, db := newTestStore(t)
	releaseOnce(t, s, execA)
	other := New(db, table)
	other.Now = s.Now
	interfered := false
	db.afterGet = func(k string) {
		if k != "pg" || interfered {
			return
		}
		interfered = true
		releaseOnce(t, other, execB) // two writes, the second with the history
	}
	db.reads = nil
	rec, err := s.Get(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	hk := HistoryKey("pg")
	want := []string{"pg", "pg", "pg", hk, hk, "pg", hk} // the other store's three reads in between
	if !slices.Equal(db.reads, want) {
		t.Fatalf("reads %q, want %q", db.reads, want)
	}
	if rec.Version != 5 || len(rec.History) != 2 || rec.History[1].Execution != execB {
		t.Fatalf("Get returned version %d with %d entries", rec.Version, len(rec.History))
	}
}

// A record written by the previous version keeps its history inside the
// record item. Renewals write it back untouched; the first write that
// changes the history moves it, all entries and the new one, to the
// history item.
func TestInlineHistoryMovesOnTheFirstHistoryWrite(t *testing.T) {
	ctx := context.Background()
	db := newFakeDynamoDB(table)
	s := New(db, table)
	s.Now = func() time.Time { return t0 }
	old := Record{Cluster: "pg", Epoch: 4, Primary: "node1", Version: 9, UpdatedAt: t0}
	for i := range 3 {
		old.History = append(old.History, HistoryEntry{Epoch: int64(i + 2), Action: ActionFailover, Outcome: OutcomeSucceeded,
			Committed: true, Execution: fmt.Sprintf("old-%d", i), FinishedAt: t0})
	}
	db.items["pg"] = marshalRecord(old, old.History)
	inline := db.items["pg"][attrHistory]

	if _, err := s.RenewPrimaryLease(ctx, "pg", renewal("node1", t0)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(db.items["pg"][attrHistory], inline) || db.items[HistoryKey("pg")] != nil || db.transactions != 0 {
		t.Fatal("a renewal changed where the old history is")
	}
	if rec, err := s.Get(ctx, "pg"); err != nil || len(rec.History) != 3 {
		t.Fatalf("Get of the old layout: %d entries, %v", len(rec.History), err)
	}
	// A finished execution retried: found in the inline history.
	if rec, err := s.Release(ctx, "pg", "old-1", HistoryEntry{Outcome: OutcomeFailed}); err != nil || rec.Version != 10 {
		t.Fatalf("retried Release of an inline entry: version %d, %v", rec.Version, err)
	}

	rec := releaseOnce(t, s, execA)
	if _, ok := db.items["pg"][attrHistory]; ok {
		t.Fatal("the history stayed in the record item")
	}
	h, err := decodeHistoryItem(db.items[HistoryKey("pg")])
	if err != nil || len(h.History) != 4 || h.History[0].Execution != "old-0" || h.History[3].Execution != execA || h.Version != rec.Version {
		t.Fatalf("history item after the move: %+v, %v", h, err)
	}
	got, err := s.Get(ctx, "pg")
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("Get after the move:\n got %+v (%v)\nwant %+v", got, err, rec)
	}
}

// During an upgrade a writer of the previous version may append entries
// inside the record item after the history moved out: they are read as the
// newest, and the next history write moves them too.
func TestInlineEntriesNextToAHistoryItemAreKept(t *testing.T) {
	ctx := context.Background()
	s, db := newTestStore(t)
	releaseOnce(t, s, execA)
	rec, err := s.Get(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	late := HistoryEntry{Epoch: 2, Action: ActionRejoin, Outcome: OutcomeSucceeded, Execution: "agent-node2", FinishedAt: t0}
	rec.Version++
	db.items["pg"] = marshalRecord(rec, []HistoryEntry{late}) // as the previous version writes: history inside
	got, err := s.Get(ctx, "pg")
	if err != nil || len(got.History) != 2 || got.History[1].Execution != "agent-node2" {
		t.Fatalf("Get: %+v, %v", got.History, err)
	}
	releaseOnce(t, s, execB)
	h, err := decodeHistoryItem(db.items[HistoryKey("pg")])
	if err != nil || len(h.History) != 3 || h.History[1].Execution != "agent-node2" {
		t.Fatalf("history item: %+v, %v", h.History, err)
	}
	if _, ok := db.items["pg"][attrHistory].(*types.AttributeValueMemberL); ok {
		t.Fatal("the inline entry stayed in the record item")
	}
}

// conflictOnce refuses the first PutItem as DynamoDB refuses a write to an
// item a transaction is writing (TransactionConflictException, which the
// SDK does not retry).
type conflictOnce struct {
	*fakeDynamoDB
	done bool
}

func (c *conflictOnce) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if !c.done {
		c.done = true
		return nil, apiErr("TransactionConflictException", "Transaction is ongoing for the item")
	}
	return c.fakeDynamoDB.PutItem(ctx, in, opts...)
}

// A renewal refused because a history transaction was writing the record
// item at that moment reads again and renews.
func TestRenewalConflictingWithATransactionReadsAgain(t *testing.T) {
	_, db := newTestStore(t)
	s := New(&conflictOnce{fakeDynamoDB: db}, table)
	db.reads = nil
	rec, err := s.RenewPrimaryLease(context.Background(), "pg", renewal("node1", t0))
	if err != nil || rec.PrimaryLease == nil || len(db.reads) != 2 {
		t.Fatalf("renewal: %+v, %v after %d reads", rec.PrimaryLease, err, len(db.reads))
	}
}

// A renewal given the record its agent just read writes without reading
// it again; when somebody wrote in between (here: a failover revoked the
// lease), the conditional write fails and the renewal decides again on a
// fresh read, so a stale read can never renew a revoked lease.
func TestRenewalFromTheRecordJustRead(t *testing.T) {
	ctx, db, s := initialised(t)
	read, err := s.GetState(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	r := renewal("node1", t0)
	r.Read = &read
	reads := len(db.reads)
	renewed, err := s.RenewPrimaryLease(ctx, "pg", r)
	if err != nil || renewed.Version != read.Version+1 {
		t.Fatalf("renewal from a current read: version %d, %v", renewed.Version, err)
	}
	if len(db.reads) != reads {
		t.Errorf("the renewal read %v although it was given the current record", db.reads[reads:])
	}

	// The agent read version v; a failover revokes the lease (v+1); the
	// renewal built on version v must see the revocation.
	read, err = s.GetState(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	lock, err := s.AcquireLock(ctx, "pg", "exec-1", time.Minute, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokePrimaryLease(ctx, "pg", "exec-1", lock.Epoch, t0); err != nil {
		t.Fatal(err)
	}
	r = renewal("node1", t0.Add(time.Second))
	r.Read = &read
	var revoked *ErrLeaseRevoked
	if _, err := s.RenewPrimaryLease(ctx, "pg", r); !errors.As(err, &revoked) {
		t.Fatalf("renewal from a read older than the revocation: %v, want ErrLeaseRevoked", err)
	}
	if cur, err := s.GetState(ctx, "pg"); err != nil || !cur.PrimaryLease.Revoked() {
		t.Fatalf("after the stale renewal: lease %+v, %v", cur.PrimaryLease, err)
	}
}

// A record deleted by hand leaves its history item behind, its
// recordVersion ahead of any new record's: Init replaces it with an empty
// one in the same transaction, so the new record reads as consistent.
func TestInitOverALeftoverHistoryItem(t *testing.T) {
	ctx := context.Background()
	db := newFakeDynamoDB(table)
	s := New(db, table)
	s.Now = func() time.Time { return t0 }
	old := Record{Cluster: "pg", Epoch: 7, Primary: "node2", Version: 40, UpdatedAt: t0,
		History: []HistoryEntry{{Epoch: 7, Action: ActionFailover, Outcome: OutcomeSucceeded, Committed: true, Execution: "x", FinishedAt: t0}}}
	db.items[HistoryKey("pg")] = marshalHistory(old)
	if _, err := s.Init(ctx, "pg", "node1"); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(ctx, "pg")
	if err != nil || rec.Primary != "node1" || rec.Version != 1 || len(rec.History) != 0 {
		t.Fatalf("Get after Init over a leftover history item: %+v, %v", rec, err)
	}
	// A second Init changes nothing and returns the record.
	if again, err := s.Init(ctx, "pg", "node2"); err != nil || again.Primary != "node1" {
		t.Fatalf("second Init: %+v, %v", again, err)
	}
}

// A record read with its history (Get) given as the renewal's read is not
// written back as it is: its history would land inside the record item.
func TestRenewalFromAFullReadKeepsTheHistoryOut(t *testing.T) {
	ctx, db, s := initialised(t)
	if _, err := s.SetPause(ctx, "pg", Pause{By: "ops", Since: t0}); err != nil {
		t.Fatal(err)
	}
	full, err := s.Get(ctx, "pg")
	if err != nil || len(full.History) == 0 {
		t.Fatalf("Get: %d entries, %v", len(full.History), err)
	}
	r := renewal("node1", t0)
	r.Read = &full
	if _, err := s.RenewPrimaryLease(ctx, "pg", r); err != nil {
		t.Fatal(err)
	}
	if h, ok := db.items["pg"][attrHistory]; ok {
		if l, isList := h.(*types.AttributeValueMemberL); !isList || len(l.Value) > 0 {
			t.Fatalf("the renewal wrote the history into the record item: %v", h)
		}
	}
	if rec, err := s.Get(ctx, "pg"); err != nil || len(rec.History) != len(full.History) {
		t.Fatalf("history after the renewal: %d entries (want %d), %v", len(rec.History), len(full.History), err)
	}
}

// initialised is a store over a fake table holding a new record of "pg"
// with node1 primary.
func initialised(t *testing.T) (context.Context, *fakeDynamoDB, *Store) {
	t.Helper()
	ctx := context.Background()
	db := newFakeDynamoDB(table)
	s := New(db, table)
	s.Now = func() time.Time { return t0 }
	if _, err := s.Init(ctx, "pg", "node1"); err != nil {
		t.Fatal(err)
	}
	return ctx, db, s
}
