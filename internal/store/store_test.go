package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/internal/awsapi"
)

const (
	table = "switchyard-clusters"
	execA = "arn:aws:states:us-east-1:123456789012:execution:failover:a"
	execB = "arn:aws:states:us-east-1:123456789012:execution:failover:b"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestStore(t *testing.T) (*Store, *fakeDynamoDB) {
	t.Helper()
	db := newFakeDynamoDB(table)
	s := New(db, table)
	s.Now = func() time.Time { return t0 }
	if _, err := s.Init(context.Background(), "pg", "node1"); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return s, db
}

func TestInitCreatesOnceAndKeepsExisting(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	rec, err := s.Init(ctx, "pg", "node2")
	if err != nil {
		t.Fatalf("second Init: %v", err)
	}
	if rec.Primary != "node1" || rec.Epoch != 1 {
		t.Fatalf("second Init changed the record: %+v", rec)
	}
	got, err := s.Get(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	if got.Primary != "node1" || got.Epoch != 1 || got.Lock != nil || len(got.History) != 0 {
		t.Fatalf("Get after Init = %+v", got)
	}
}

func TestGetMissingRecord(t *testing.T) {
	s, _ := newTestStore(t)
	_, err := s.Get(context.Background(), "other")
	var nr *ErrNoRecord
	if !errors.As(err, &nr) || nr.Cluster != "other" {
		t.Fatalf("Get of missing record: err = %v, want *ErrNoRecord", err)
	}
	_, err = s.AcquireLock(context.Background(), "other", execA, time.Minute, t0)
	if !errors.As(err, &nr) {
		t.Fatalf("AcquireLease of missing record: err = %v, want *ErrNoRecord", err)
	}
}

func TestAcquireLeaseLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)

	rec, err := s.AcquireLock(ctx, "pg", execA, time.Minute, t0)
	if err != nil {
		t.Fatalf("first acquisition: %v", err)
	}
	if rec.Epoch != 2 || !rec.LockHeldBy(execA) || !rec.Lock.Expires.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after first acquisition: %+v lease %+v", rec, rec.Lock)
	}

	// The same execution retrying: no epoch bump, expiry renewed.
	rec, err = s.AcquireLock(ctx, "pg", execA, time.Minute, t0.Add(10*time.Second))
	if err != nil {
		t.Fatalf("retry by holder: %v", err)
	}
	if rec.Epoch != 2 || !rec.Lock.Expires.Equal(t0.Add(70*time.Second)) {
		t.Fatalf("retry by holder: epoch %d expires %v", rec.Epoch, rec.Lock.Expires)
	}

	// Another execution while the lease is live.
	_, err = s.AcquireLock(ctx, "pg", execB, time.Minute, t0.Add(69*time.Second))
	var held *ErrLockHeld
	if !errors.As(err, &held) || held.Holder != execA || held.Epoch != 2 {
		t.Fatalf("acquisition by other while held: err = %v, want *ErrLeaseHeld by A", err)
	}

	// After expiry the other execution takes over with a new epoch.
	rec, err = s.AcquireLock(ctx, "pg", execB, time.Minute, t0.Add(70*time.Second))
	if err != nil {
		t.Fatalf("acquisition after expiry: %v", err)
	}
	if rec.Epoch != 3 || !rec.LockHeldBy(execB) {
		t.Fatalf("after takeover: epoch %d lease %+v", rec.Epoch, rec.Lock)
	}

	// The old holder lost the lease and must not commit.
	_, err = s.Commit(ctx, "pg", execA, "node2", HistoryEntry{Action: ActionFailover, Outcome: OutcomeSucceeded})
	var nh *ErrNotLockHolder
	if !errors.As(err, &nh) || nh.Holder != execB {
		t.Fatalf("commit by old holder: err = %v, want *ErrNotLeaseHolder naming B", err)
	}
}

func TestAcquireLeaseRejectsBadArguments(t *testing.T) {
	s, _ := newTestStore(t)
	if _, err := s.AcquireLock(context.Background(), "pg", "", time.Minute, t0); err == nil {
		t.Fatal("empty holder accepted")
	}
	if _, err := s.AcquireLock(context.Background(), "pg", execA, 0, t0); err == nil {
		t.Fatal("zero ttl accepted")
	}
}

// TestConcurrentAcquisitionOneWinner lets every racer read the record
// before any of them writes, so all of them try to write the same version:
// only the compare-and-swap keeps more than one from winning.
func TestConcurrentAcquisitionOneWinner(t *testing.T) {
	const racers = 8
	s, db := newTestStore(t)
	var arrived sync.WaitGroup
	arrived.Add(racers)
	var first sync.Mutex
	firstPuts := 0
	db.beforePut = func() {
		first.Lock()
		n := firstPuts
		firstPuts++
		first.Unlock()
		if n < racers {
			arrived.Done()
			arrived.Wait()
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.AcquireLock(context.Background(), "pg", fmt.Sprintf("exec-%d", i), time.Minute, t0)
		}()
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		var held *ErrLockHeld
		switch {
		case err == nil:
			winners++
		case errors.As(err, &held):
		default:
			t.Errorf("racer %d: unexpected error %v", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d racers won the lease, want exactly 1", winners)
	}
	rec, err := s.Get(context.Background(), "pg")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Epoch != 2 {
		t.Fatalf("epoch after race = %d, want 2 (one bump)", rec.Epoch)
	}
}

func TestCommitIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, db := newTestStore(t)
	if _, err := s.AcquireLock(ctx, "pg", execA, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	entry := HistoryEntry{Action: ActionFailover, Outcome: OutcomeSucceeded, Reason: "primary lost",
		StartedAt: t0, Steps: []string{"lease", "assess", "fence", "promote", "reroute", "verify"}}
	rec, err := s.Commit(ctx, "pg", execA, "node2", entry)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if rec.Primary != "node2" || rec.Lock != nil || len(rec.History) != 1 {
		t.Fatalf("after Commit: %+v", rec)
	}
	h := rec.History[0]
	if h.From != "node1" || h.To != "node2" || h.Execution != execA || h.Epoch != 2 || !h.Committed ||
		!h.FinishedAt.Equal(t0) || len(h.Steps) != 6 {
		t.Fatalf("history entry = %+v", h)
	}
	puts := db.puts
	again, err := s.Commit(ctx, "pg", execA, "node2", entry)
	if err != nil {
		t.Fatalf("retried Commit: %v", err)
	}
	if db.puts != puts || again.Version != rec.Version || len(again.History) != 1 {
		t.Fatalf("retried Commit wrote again: puts %d→%d, version %d→%d", puts, db.puts, rec.Version, again.Version)
	}
	// Release after a successful commit changes nothing either.
	if _, err := s.Release(ctx, "pg", execA, HistoryEntry{Outcome: OutcomeFailed}); err != nil {
		t.Fatalf("Release after Commit: %v", err)
	}
	if db.puts != puts {
		t.Fatal("Release after Commit wrote the record")
	}
	// A stranger can neither commit nor release.
	_, err = s.Commit(ctx, "pg", execB, "node1", entry)
	var nh *ErrNotLockHolder
	if !errors.As(err, &nh) || nh.Holder != "" {
		t.Fatalf("Commit by stranger: err = %v, want *ErrNotLeaseHolder with no holder", err)
	}
	if _, err := s.Release(ctx, "pg", execB, entry); !errors.As(err, &nh) {
		t.Fatalf("Release by stranger: err = %v, want *ErrNotLeaseHolder", err)
	}
}

func TestReleaseKeepsPrimaryAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, db := newTestStore(t)
	if _, err := s.AcquireLock(ctx, "pg", execA, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Release(ctx, "pg", execA, HistoryEntry{Action: ActionFailover, From: "node1", To: "node2",
		Outcome: OutcomeFailed, Reason: "fence timed out", Steps: []string{"lease", "assess"}})
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	if rec.Primary != "node1" || rec.Lock != nil || rec.Epoch != 2 || len(rec.History) != 1 || rec.History[0].Committed {
		t.Fatalf("after Release: %+v", rec)
	}
	puts := db.puts
	if _, err := s.Release(ctx, "pg", execA, HistoryEntry{Outcome: OutcomeFailed}); err != nil {
		t.Fatalf("retried Release: %v", err)
	}
	if db.puts != puts {
		t.Fatal("retried Release wrote again")
	}
	// A released execution must not commit afterwards.
	_, err = s.Commit(ctx, "pg", execA, "node2", HistoryEntry{})
	var nh *ErrNotLockHolder
	if !errors.As(err, &nh) {
		t.Fatalf("Commit after Release: err = %v, want *ErrNotLeaseHolder", err)
	}
	// The next failover may start at once.
	if rec, err := s.AcquireLock(ctx, "pg", execB, time.Minute, t0); err != nil || rec.Epoch != 3 {
		t.Fatalf("acquisition after release: rec %+v err %v", rec, err)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	const runs = MaxHistory + 7
	for i := range runs {
		exec := fmt.Sprintf("exec-%d", i)
		if _, err := s.AcquireLock(ctx, "pg", exec, time.Minute, t0); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if _, err := s.Release(ctx, "pg", exec, HistoryEntry{Outcome: OutcomeFailed, Reason: "fence timed out"}); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	rec, err := s.Get(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.History) != MaxHistory {
		t.Fatalf("history has %d entries, want %d", len(rec.History), MaxHistory)
	}
	if rec.History[0].Execution != "exec-7" || rec.History[MaxHistory-1].Execution != fmt.Sprintf("exec-%d", runs-1) {
		t.Fatalf("history keeps %s..%s, want the newest %d", rec.History[0].Execution,
			rec.History[MaxHistory-1].Execution, MaxHistory)
	}
	if rec.Epoch != 1+runs {
		t.Fatalf("epoch = %d, want %d", rec.Epoch, 1+runs)
	}
}

func TestLongReasonIsTruncated(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	if _, err := s.AcquireLock(ctx, "pg", execA, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'x'
	}
	rec, err := s.Release(ctx, "pg", execA, HistoryEntry{Reason: string(long)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rec.History[0].Reason); n != maxReasonLen {
		t.Fatalf("reason length = %d, want %d", n, maxReasonLen)
	}
}

func TestWriteContentionIsBounded(t *testing.T) {
	s, db := newTestStore(t)
	db.failPut = apiErr("ConditionalCheckFailedException", "The conditional request failed")
	_, err := s.AcquireLock(context.Background(), "pg", execA, time.Minute, t0)
	var c *ErrContended
	if !errors.As(err, &c) || c.Attempts != maxCASAttempts {
		t.Fatalf("err = %v, want *ErrContended", err)
	}
}

func TestAWSErrorsKeepTheirClass(t *testing.T) {
	ctx := context.Background()
	s, db := newTestStore(t)
	db.failPut = apiErr("ProvisionedThroughputExceededException", "slow down")
	_, err := s.AcquireLock(ctx, "pg", execA, time.Minute, t0)
	if !awsapi.IsThrottle(err) {
		t.Fatalf("throttled write: err = %v, want a throttle error", err)
	}
	missing := New(db, "no-such-table")
	_, err = missing.Get(ctx, "pg")
	if !awsapi.IsNotFound(err) {
		t.Fatalf("missing table: err = %v, want ResourceNotFoundException", err)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	in := Record{
		Cluster: "pg", Epoch: 7, Primary: "node2", Version: 12, UpdatedAt: t0,
		Lock: &FailoverLock{Holder: execA, Expires: t0.Add(time.Minute)},
		PrimaryLease: &PrimaryLease{Node: "node2", Term: 7, Renewed: t0, Expires: t0.Add(8 * time.Second), LSN: 1 << 33, Timeline: 3,
			Replicas: []ReplicaState{{Node: "node1", State: "streaming", Sync: "sync", ReplayLSN: 1<<33 - 40, ReplayLagMs: 12}}},
		History: []HistoryEntry{{
			Epoch: 6, Action: ActionSwitchover, Trigger: "manual", From: "node1", To: "node2", Execution: execB,
			Outcome: OutcomeSucceeded, Reason: "maintenance", Committed: true,
			StartedAt: t0.Add(-time.Minute), FinishedAt: t0, Steps: []string{"lease", "demote"},
			StepMs: map[string]int64{"demote": 312},
		}},
	}
	// The old layout: the history inside the record item.
	out, err := unmarshal(marshalRecord(in, in.History))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
	// The layout written now: the record item without the history, the
	// history item with it and the record's primary, epoch and version.
	rec, err := DecodeRecord(EncodeRecord(in))
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.History = nil
	if !reflect.DeepEqual(rec, want) {
		t.Fatalf("record item round trip:\n got %+v\nwant %+v", rec, want)
	}
	hist, err := DecodeRecord(EncodeHistory(in))
	if err != nil {
		t.Fatal(err)
	}
	if hist.Cluster != "pg" || hist.Primary != "node2" || hist.Epoch != 7 || hist.Version != 12 || !reflect.DeepEqual(hist.History, in.History) {
		t.Fatalf("history item round trip: %+v", hist)
	}
	if k := EncodeHistory(in)[attrCluster].(*types.AttributeValueMemberS).Value; k != HistoryKey("pg") {
		t.Fatalf("history item key %q", k)
	}
	bad := marshalRecord(in, nil)
	bad[attrEpoch] = str("seven")
	if _, err := unmarshal(bad); err == nil {
		t.Fatal("a string epoch decoded without error")
	}
}
