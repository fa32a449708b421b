package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// maxCASAttempts bounds how often a write re-reads after losing a race.
const maxCASAttempts = 10

// Store reads and writes cluster records in one DynamoDB table. It is safe
// for concurrent use; concurrent writers, in this process or others, are
// serialised by the conditional writes.
type Store struct {
	db    awsapi.DynamoDBAPI
	table string
	// Now is the clock for updatedAt and history timestamps; time.Now
	// unless a test sets it. Lease expiry uses the time AcquireLease is
	// given.
	Now func() time.Time
}

// New returns a Store over table.
func New(db awsapi.DynamoDBAPI, table string) *Store {
	return &Store{db: db, table: table, Now: time.Now}
}

// Get returns the cluster's record with its history, read with
// ConsistentRead: two GetItem calls, the record item and the history item
// (see the package documentation's Layout). A missing record is
// *ErrNoRecord.
func (s *Store) Get(ctx context.Context, cluster string) (Record, error) {
	snap, err := s.load(ctx, cluster, true)
	return snap.rec, err
}

// GetState returns the cluster's record without its history (History is
// empty, unless the record was last written by a version that kept the
// history inside it), read with ConsistentRead: one GetItem of the small
// record item, 1 read unit whatever the history holds. It is what the node
// agents read every second, and what the failover steps and the drift
// check read (none of them uses the history). A missing record is
// *ErrNoRecord.
func (s *Store) GetState(ctx context.Context, cluster string) (Record, error) {
	snap, err := s.load(ctx, cluster, false)
	return snap.rec, err
}

// Init creates the cluster's record with primary and epoch 1 if there is
// none, and returns the record as it is afterwards. An existing record is
// left as it is, whatever primary it names.
func (s *Store) Init(ctx context.Context, cluster, primary string) (Record, error) {
	if cluster == "" || primary == "" {
		return Record{}, errors.New("initialising cluster record: cluster and primary must not be empty")
	}
	rec := Record{Cluster: cluster, Epoch: 1, Primary: primary, UpdatedAt: s.Now().UTC(), Version: 1}
	// The record and an empty history item, in one transaction: a history
	// item left behind by a record deleted by hand (its recordVersion
	// ahead of the new record's) would otherwise never read as consistent.
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: marshalRecord(rec, nil),
			ConditionExpression: aws.String("attribute_not_exists(#c)"), ExpressionAttributeNames: map[string]string{"#c": attrCluster}}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: marshalHistory(rec)}},
	}})
	switch {
	case err == nil:
		return rec, nil
	case awsapi.IsConditionalCheckFailed(err):
		return s.Get(ctx, cluster)
	default:
		return Record{}, s.wrap("creating cluster record", cluster, err)
	}
}

// AcquireLock gives holder the lease until now+ttl. It succeeds when
// nobody holds the lease, when the lease has expired, or when holder holds
// it already (a retry by the same execution, which only renews the
// expiry). A new holder bumps the epoch by one; the returned record carries
// the epoch to fence with. An unexpired lease of another holder is
// *ErrLeaseHeld.
func (s *Store) AcquireLock(ctx context.Context, cluster, holder string, ttl time.Duration, now time.Time) (Record, error) {
	if holder == "" || ttl <= 0 {
		return Record{}, fmt.Errorf("acquiring lease on cluster %q: holder must not be empty and ttl must be positive", cluster)
	}
	return s.update(ctx, "acquiring lease", cluster, stateOnly, func(rec *Record) (bool, error) {
		if rec.LockActive(now) && !rec.LockHeldBy(holder) {
			return false, &ErrLockHeld{Cluster: cluster, Holder: rec.Lock.Holder, Expires: rec.Lock.Expires, Epoch: rec.Epoch}
		}
		if !rec.LockHeldBy(holder) {
			rec.Epoch++
		}
		rec.Lock = &FailoverLock{Holder: holder, Expires: now.Add(ttl).UTC().Truncate(time.Millisecond)}
		return true, nil
	})
}

// Commit finishes a failover or switchover: the lease holder makes
// newPrimary the primary, appends entry to the history (Execution, Epoch,
// Committed and a missing FinishedAt are filled in) and releases the lease.
// The lease may have expired meanwhile as long as nobody else took it. A
// retry after Commit took effect returns the record unchanged; a caller
// that holds no lease and committed nothing is *ErrNotLeaseHolder.
func (s *Store) Commit(ctx context.Context, cluster, holder, newPrimary string, entry HistoryEntry) (Record, error) {
	if newPrimary == "" {
		return Record{}, fmt.Errorf("committing cluster %q: new primary must not be empty", cluster)
	}
	return s.update(ctx, "committing new primary", cluster, withHistory, func(rec *Record) (bool, error) {
		if !rec.LockHeldBy(holder) {
			if done := rec.entryOf(holder); done != nil && done.Committed && done.To == newPrimary {
				return false, nil // this commit already happened
			}
			return false, s.notHolder(cluster, holder, *rec)
		}
		entry.Committed = true
		entry.To = newPrimary
		if entry.From == "" {
			entry.From = rec.Primary
		}
		rec.Primary = newPrimary
		if l := rec.PrimaryLease; l != nil && l.Node == newPrimary && l.GrantedBy != "" {
			c := *l // the handover is complete
			c.GrantedBy, c.GrantedFrom = "", ""
			rec.PrimaryLease = &c
		}
		s.finish(rec, holder, entry)
		return true, nil
	})
}

// Release ends a failover that did not change the primary: the lease
// holder releases the lease and records entry (with its outcome) in the
// history, where a repeated routine outcome is coalesced with the previous
// one. A retry after Release, or after Commit, by the same holder returns
// the record unchanged (entry.Epoch, when set, finds it inside a coalesced
// entry too); a caller that holds no lease and left no history entry is
// *ErrNotLeaseHolder.
func (s *Store) Release(ctx context.Context, cluster, holder string, entry HistoryEntry) (Record, error) {
	return s.update(ctx, "releasing lease", cluster, withHistory, func(rec *Record) (bool, error) {
		if !rec.LockHeldBy(holder) {
			if rec.finishedBy(holder, entry.Epoch, entry) {
				return false, nil // already finished
			}
			return false, s.notHolder(cluster, holder, *rec)
		}
		entry.Committed = false
		s.finish(rec, holder, entry)
		return true, nil
	})
}

// finish records entry for holder (see appendHistory for what the history
// keeps) and releases the lease. Fields are cut to their bounds; the
// coalescing fields are the store's to set, not the caller's.
func (s *Store) finish(rec *Record, holder string, entry HistoryEntry) {
	entry.Execution = holder
	if entry.Epoch == 0 {
		entry.Epoch = rec.Epoch
	}
	if entry.FinishedAt.IsZero() {
		entry.FinishedAt = s.Now().UTC()
	}
	entry.Count, entry.FirstEpoch, entry.FirstExecution, entry.FirstFinishedAt = 0, 0, "", time.Time{}
	rec.History = appendHistory(rec.History, bounded(entry))
	rec.Lock = nil
}

func (s *Store) notHolder(cluster, caller string, rec Record) error {
	e := &ErrNotLockHolder{Cluster: cluster, Caller: caller}
	if rec.Lock != nil {
		e.Holder = rec.Lock.Holder
	}
	return e
}

// Whether an update reads the history: the operations whose change
// function reads or writes it (entryOf, finishedBy, appendHistory) need
// it; the others read the record item alone.
const (
	stateOnly   = false
	withHistory = true
)

// update runs a compare-and-swap loop: read the record (with its history
// when history is withHistory), let change decide and modify it, write it
// back conditioned on the version read (see write). change returns false
// to leave the record as it is (update then returns the record read) or an
// error to give up. A write that loses a race, a condition failed or a
// transaction conflict, reads again and decides again.
func (s *Store) update(ctx context.Context, what, cluster string, history bool, change func(*Record) (bool, error)) (Record, error) {
	return s.cas(ctx, what, cluster, history, nil, change)
}

// updateFrom is update for a change that does not touch the history, whose
// first attempt decides on read (a record the caller got from GetState,
// when not nil) instead of reading it again.
func (s *Store) updateFrom(ctx context.Context, what, cluster string, read *Record, change func(*Record) (bool, error)) (Record, error) {
	return s.cas(ctx, what, cluster, stateOnly, read, change)
}

// cas is the compare-and-swap loop of update and updateFrom.
func (s *Store) cas(ctx context.Context, what, cluster string, history bool, first *Record, change func(*Record) (bool, error)) (Record, error) {
	for attempt := 1; attempt <= maxCASAttempts; attempt++ {
		var snap snapshot
		var err error
		// A record read with its history (Get) is not one to write back:
		// its history would land inside the record item. Only a GetState
		// result of the new layout, which carries none, is used.
		if attempt == 1 && first != nil && !history && first.Cluster == cluster && first.Version > 0 && len(first.History) == 0 {
			snap = snapshot{rec: *first, inline: first.History}
		} else if snap, err = s.load(ctx, cluster, history); err != nil {
			return Record{}, err
		}
		rec := snap.rec
		read := rec.Version
		next := rec
		next.History = append([]HistoryEntry(nil), rec.History...)
		write, err := change(&next)
		if err != nil {
			return Record{}, err
		}
		if !write {
			return rec, nil
		}
		next.Version = read + 1
		next.UpdatedAt = s.Now().UTC()
		err = s.write(ctx, snap, next, read)
		switch {
		case err == nil:
			return next, nil
		case awsapi.IsConditionalCheckFailed(err), awsapi.IsTransactionConflict(err):
			continue // somebody else wrote first: decide again on what they wrote
		default:
			return Record{}, s.wrap(what, cluster, err)
		}
	}
	return Record{}, &ErrContended{Cluster: cluster, Attempts: maxCASAttempts}
}

func (s *Store) wrap(what, cluster string, err error) error {
	switch {
	case awsapi.IsNotFound(err):
		return fmt.Errorf("%s of cluster %q: table %s does not exist: %w", what, cluster, s.table, err)
	case awsapi.IsThrottle(err):
		return fmt.Errorf("%s of cluster %q: throttled by DynamoDB after the SDK's retries: %w", what, cluster, err)
	default:
		return fmt.Errorf("%s of cluster %q in table %s: %w", what, cluster, s.table, err)
	}
}
