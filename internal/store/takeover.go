package store

import (
	"context"
	"fmt"
	"time"
)

// TakeOverLock gives holder the failover lock held by an execution that has
// ended without releasing it (stopped from outside, timed out, or failed
// before its report step ran): Step Functions says it is no longer running,
// so it will never act again. The write is conditioned on abandoned still
// holding the lock, so two executions cannot both take it over. The ended
// execution's history entry (abandonedEntry, its outcome filled in by the
// caller) is appended, the epoch is bumped as for any new holder, and the
// returned record carries the epoch to fence with. When the lock has
// meanwhile moved on, the result is what AcquireLock would answer.
func (s *Store) TakeOverLock(ctx context.Context, cluster, holder, abandoned string, abandonedEntry HistoryEntry, ttl time.Duration, now time.Time) (Record, error) {
	if holder == "" || abandoned == "" || holder == abandoned || ttl <= 0 {
		return Record{}, fmt.Errorf("taking over the failover lock of cluster %q: holder and abandoned holder must differ and not be empty, ttl must be positive", cluster)
	}
	return s.update(ctx, "taking over the failover lock", cluster, withHistory, func(rec *Record) (bool, error) {
		switch {
		case rec.LockHeldBy(holder):
			return false, nil // a retry after the takeover took effect
		case rec.LockHeldBy(abandoned):
			s.finish(rec, abandoned, abandonedEntry)
		case rec.LockActive(now):
			return false, &ErrLockHeld{Cluster: cluster, Holder: rec.Lock.Holder, Expires: rec.Lock.Expires, Epoch: rec.Epoch}
		}
		rec.Epoch++
		rec.Lock = &FailoverLock{Holder: holder, Expires: now.Add(ttl).UTC().Truncate(time.Millisecond)}
		return true, nil
	})
}

// OutcomeTimedOut is the history outcome of an execution that Step
// Functions ended at its TimeoutSeconds.
const OutcomeTimedOut = "timed-out"
