package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/store"
)

const localTable = "switchyard-clusters"

// localStore serves an emulated DynamoDB with the cluster table over HTTP
// and returns a Store using the real SDK client against it.
func localStore(t *testing.T) (*store.Store, *localaws.Server) {
	t.Helper()
	db, srv := localDynamoDB(t)
	return store.New(db, localTable), srv
}

// localDynamoDB is the real SDK client of an emulated DynamoDB holding the
// cluster table.
func localDynamoDB(t *testing.T) (awsapi.DynamoDBAPI, *localaws.Server) {
	t.Helper()
	db := ddbsim.New(ddbsim.Options{})
	if err := db.CreateTable(ddbsim.TableSpec{Name: localTable, HashKey: "cluster", HashKeyType: "S"}); err != nil {
		t.Fatalf("creating table: %v", err)
	}
	srv := localaws.NewServer()
	srv.Register(db)
	return localDynamoDBWith(t, srv), srv
}

// localDynamoDBWith is an SDK client of the emulator behind handler.
func localDynamoDBWith(t *testing.T, handler http.Handler) awsapi.DynamoDBAPI {
	t.Helper()
	hs := httptest.NewServer(handler)
	t.Cleanup(hs.Close)
	opts := append(awsall.LocalConfig(hs.URL, "us-east-1", "store-test"), config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 2 * time.Millisecond, nil })
		})
	}))
	clients, err := awsall.NewClients(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return clients.DynamoDB
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLocalRacingAcquisitionHasOneWinner(t *testing.T) {
	ctx := testCtx(t)
	const racers = 16
	db, srv := localDynamoDB(t)
	if _, err := store.New(db, localTable).Init(ctx, "pg", "node1"); err != nil {
		t.Fatalf("Init: %v", err)
	}
	// Every racer's first read returns only once all racers have read, so
	// all of them read the same version before anyone writes: a real race,
	// whatever the machine's load.
	s := store.New(&readBarrier{DynamoDBAPI: db, waiting: racers, all: make(chan struct{})}, localTable)
	now := time.Now()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.AcquireLock(ctx, "pg", fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:failover:%02d", i), time.Minute, now)
		}()
	}
	close(start)
	wg.Wait()

	rec, err := s.Get(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	winners := 0
	for i, err := range errs {
		var held *store.ErrLockHeld
		switch {
		case err == nil:
			winners++
		case errors.As(err, &held):
			if held.Holder != rec.Lock.Holder {
				t.Errorf("racer %d was told %s holds the lease; the record says %s", i, held.Holder, rec.Lock.Holder)
			}
		default:
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if winners != 1 || rec.Epoch != 2 {
		t.Fatalf("%d winners, epoch %d; want exactly 1 winner and epoch 2", winners, rec.Epoch)
	}
	conflicts := 0
	for _, c := range srv.Calls() {
		if c.Operation == "PutItem" && c.ErrorCode == "ConditionalCheckFailedException" {
			conflicts++
		}
	}
	if conflicts == 0 {
		t.Fatal("no conditional write lost: the racers did not race")
	}
}

func TestLocalFailoverRecordLifecycle(t *testing.T) {
	ctx := testCtx(t)
	s, srv := localStore(t)
	const exec = "arn:aws:states:us-east-1:123456789012:execution:failover:one"
	if _, err := s.Init(ctx, "pg", "node1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Init(ctx, "pg", "node2"); err != nil {
		t.Fatalf("second Init: %v", err)
	}
	t0 := time.Now()
	if _, err := s.AcquireLock(ctx, "pg", exec, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	entry := store.HistoryEntry{Action: store.ActionFailover, Outcome: store.OutcomeSucceeded, Reason: "primary lost",
		StartedAt: t0, Steps: []string{"lease", "assess", "fence", "promote", "reroute", "verify"}}
	rec, err := s.Commit(ctx, "pg", exec, "node2", entry)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	srv.ResetCalls()
	again, err := s.Commit(ctx, "pg", exec, "node2", entry)
	if err != nil {
		t.Fatalf("retried Commit: %v", err)
	}
	for _, c := range srv.Calls() {
		if c.Operation != "GetItem" {
			t.Errorf("retried Commit made a %s call", c.Operation)
		}
	}
	got, err := s.Get(ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	if got.Primary != "node2" || got.Epoch != 2 || got.Lock != nil || len(got.History) != 1 || again.Version != rec.Version {
		t.Fatalf("record after commit: %+v", got)
	}
	h := got.History[0]
	if h.From != "node1" || h.To != "node2" || h.Execution != exec || !h.Committed || len(h.Steps) != 6 ||
		!h.StartedAt.Equal(t0.UTC()) {
		t.Fatalf("history entry %+v", h)
	}
	// The next failover may start. A late Release by the finished execution
	// leaves it alone; a stranger may not release it.
	const next = "arn:aws:states:us-east-1:123456789012:execution:failover:two"
	if rec, err := s.AcquireLock(ctx, "pg", next, time.Minute, time.Now()); err != nil || rec.Epoch != 3 {
		t.Fatalf("next acquisition: epoch %d, err %v", rec.Epoch, err)
	}
	if rec, err := s.Release(ctx, "pg", exec, store.HistoryEntry{Outcome: store.OutcomeFailed}); err != nil || !rec.LockHeldBy(next) {
		t.Fatalf("late Release by the finished execution: err %v, lease %+v", err, rec.Lock)
	}
	var nh *store.ErrNotLockHolder
	_, err = s.Release(ctx, "pg", "arn:aws:states:us-east-1:123456789012:execution:failover:stranger", store.HistoryEntry{})
	if !errors.As(err, &nh) || nh.Holder != next {
		t.Fatalf("Release by a stranger: err = %v, want *ErrNotLeaseHolder naming the holder", err)
	}
	if got, err := s.Get(ctx, "pg"); err != nil || !got.LockHeldBy(next) || len(got.History) != 1 {
		t.Fatalf("record after the refused releases: %+v, %v", got, err)
	}
}

func TestLocalMissingTable(t *testing.T) {
	db, _ := localDynamoDB(t)
	_, err := store.New(db, "no-such-table").AcquireLock(testCtx(t), "pg", "x", time.Minute, time.Now())
	if !awsapi.IsNotFound(err) {
		t.Fatalf("err = %v, want ResourceNotFoundException", err)
	}
}

// readBarrier holds each of the first `waiting` GetItem answers until all
// of them have arrived. Later reads (retries after a lost race) pass.
type readBarrier struct {
	awsapi.DynamoDBAPI
	mu      sync.Mutex
	waiting int
	all     chan struct{}
}

func (b *readBarrier) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := b.DynamoDBAPI.GetItem(ctx, in, opts...)
	b.mu.Lock()
	if b.waiting == 0 {
		b.mu.Unlock()
		return out, err
	}
	b.waiting--
	if b.waiting == 0 {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return out, err
}

// bodySizes records the size of each request body received, by operation.
type bodySizes struct {
	mu    sync.Mutex
	sizes map[string][]int
	next  http.Handler
}

func (b *bodySizes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	b.mu.Lock()
	b.sizes[op] = append(b.sizes[op], int(r.ContentLength))
	b.mu.Unlock()
	b.next.ServeHTTP(w, r)
}

// Against the emulator, through the real SDK: with a full history, a
// renewal is one GetItem and one PutItem of the record item, both small;
// a history write is one transaction of both items.
func TestLocalRenewalWithAFullHistoryWritesTheRecordItemOnly(t *testing.T) {
	ctx := testCtx(t)
	db, srv := localDynamoDB(t)
	s := store.New(db, localTable)
	if _, err := s.Init(ctx, "pg", "node1"); err != nil {
		t.Fatal(err)
	}
	reason := strings.Repeat("the fence timed out after 120 s; ", 12)
	for i := range store.MaxHistory {
		exec := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:switchyard-pg-failover:run-%03d", i)
		if _, err := s.AcquireLock(ctx, "pg", exec, time.Minute, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Release(ctx, "pg", exec, store.HistoryEntry{Action: store.ActionFailover, Outcome: store.OutcomeFailed,
			Reason: fmt.Sprintf("%d: %s", i, reason), Steps: []string{"lease", "assess", "fence"}}); err != nil {
			t.Fatal(err)
		}
	}
	sizes := &bodySizes{sizes: map[string][]int{}, next: srv}
	measured := localDynamoDBWith(t, sizes)
	m := store.New(measured, localTable)
	srv.ResetCalls()
	if _, err := m.RenewPrimaryLease(ctx, "pg", store.Renewal{Node: "node1", Now: time.Now(), Duration: 10 * time.Second, LSN: 7}); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, c := range srv.Calls() {
		ops = append(ops, fmt.Sprintf("%s %v", c.Operation, c.Context["dynamodb:LeadingKeys"]))
	}
	if fmt.Sprint(ops) != "[GetItem [pg] PutItem [pg]]" {
		t.Fatalf("a renewal made %q", ops)
	}
	rec, err := m.Get(ctx, "pg")
	if err != nil || len(rec.History) != store.MaxHistory {
		t.Fatalf("Get: %d entries, %v", len(rec.History), err)
	}
	if _, err := m.AcquireLock(ctx, "pg", "last", time.Minute, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Release(ctx, "pg", "last", store.HistoryEntry{Action: store.ActionFailover, Outcome: store.OutcomeFailed, Reason: reason}); err != nil {
		t.Fatal(err)
	}
	put, tx := sizes.sizes["PutItem"], sizes.sizes["TransactWriteItems"]
	t.Logf("request bodies with %d history entries: renewal PutItem %d bytes, history transaction %d bytes", store.MaxHistory, put[0], tx[0])
	if len(put) != 2 || put[0] > 1024 || len(tx) != 1 || tx[0] < 20*1024 {
		t.Fatalf("PutItem bodies %v, TransactWriteItems bodies %v: want small record writes and one large history transaction", put, tx)
	}
}
