package store

import (
	"fmt"
	"time"
)

// MaxHistory is how many history entries the record keeps; older ones are
// dropped when a new one is appended.
const MaxHistory = 50

// maxReasonLen bounds HistoryEntry.Reason so the item stays small.
const maxReasonLen = 1024

// Actions recorded in the history.
const (
	ActionFailover   = "failover"
	ActionSwitchover = "switchover"
)

// Outcomes recorded in the history. Callers may record others; these are
// the ones the state machine uses.
const (
	OutcomeSucceeded = "succeeded"  // the new primary is in service
	OutcomeFailed    = "failed"     // a step failed; see Reason and Steps
	OutcomeRefused   = "refused"    // assessment refused (no fit standby, stale data)
	OutcomeNotNeeded = "not-needed" // the primary turned out to be healthy
	OutcomeAborted   = "aborted"    // stopped by an operator
)

// Record is the cluster record.
type Record struct {
	Cluster string `json:"cluster"`
	// Epoch is the fencing token: it grows by one each time a new holder
	// acquires the failover lock. Every mutating step proves it still holds
	// the lock of its epoch (Store.CheckLock) before it acts.
	Epoch int64 `json:"epoch"`
	// Primary is the name of the node that is primary (cluster.Node.Name):
	// the only node whose agent may run PostgreSQL writable, and only
	// while PrimaryLease is valid.
	Primary string `json:"primary"`
	// Lock is the failover in flight, nil when there is none.
	Lock *FailoverLock `json:"failoverLock,omitempty"`
	// PrimaryLease is the recorded primary's right to accept writes,
	// renewed by its agent; nil until the primary's agent first renews.
	PrimaryLease *PrimaryLease `json:"primaryLease,omitempty"`
	// Standby is what the primary's agent last said about the other node:
	// whether it may be promoted without losing an acknowledged write.
	Standby   *StandbyState `json:"standby,omitempty"`
	UpdatedAt time.Time     `json:"updatedAt"`
	// History holds the last MaxHistory entries, oldest first.
	History []HistoryEntry `json:"history"`
	// Version is the compare-and-swap counter; every write bumps it.
	Version int64 `json:"version"`
}

// FailoverLock says which execution may change the cluster, and until when.
type FailoverLock struct {
	Holder  string    `json:"holder"` // Step Functions execution ARN
	Expires time.Time `json:"expires"`
}

// LockActive reports whether someone holds an unexpired failover lock at now.
func (r Record) LockActive(now time.Time) bool {
	return r.Lock != nil && now.Before(r.Lock.Expires)
}

// LockHeldBy reports whether holder holds the failover lock, expired or not.
func (r Record) LockHeldBy(holder string) bool {
	return r.Lock != nil && r.Lock.Holder == holder
}

// entryOf returns the history entry written by execution, newest first, or
// nil when there is none.
func (r Record) entryOf(execution string) *HistoryEntry {
	for i := len(r.History) - 1; i >= 0; i-- {
		if r.History[i].Execution == execution {
			return &r.History[i]
		}
	}
	return nil
}

// HistoryEntry is one finished failover or switchover attempt.
type HistoryEntry struct {
	Epoch     int64  `json:"epoch"`
	Action    string `json:"action"` // ActionFailover or ActionSwitchover
	From      string `json:"from"`   // node that was primary
	To        string `json:"to"`     // node meant to become primary
	Execution string `json:"execution"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason,omitempty"`
	// Committed is true for the entry Commit wrote (the primary changed)
	// and false for entries Release wrote.
	Committed  bool      `json:"committed"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// Steps lists the steps that completed, in order ("lease", "assess",
	// "fence", ...).
	Steps []string `json:"steps,omitempty"`
}

// ErrNoRecord says the cluster has no record yet (Init was never called).
type ErrNoRecord struct {
	Cluster string
}

func (e *ErrNoRecord) Error() string {
	return fmt.Sprintf("cluster %q has no record", e.Cluster)
}

// ErrLockHeld says another execution holds an unexpired lease: a failover
// is already in flight.
type ErrLockHeld struct {
	Cluster string
	Holder  string
	Expires time.Time
	Epoch   int64
}

func (e *ErrLockHeld) Error() string {
	return fmt.Sprintf("cluster %q: lease held by %s until %s (epoch %d)",
		e.Cluster, e.Holder, e.Expires.UTC().Format(time.RFC3339), e.Epoch)
}

// ErrNotLockHolder says the caller does not hold the lease, so it may not
// change the record.
type ErrNotLockHolder struct {
	Cluster string
	Caller  string
	Holder  string // current holder, "" when nobody holds the lease
}

func (e *ErrNotLockHolder) Error() string {
	holder := e.Holder
	if holder == "" {
		holder = "nobody"
	}
	return fmt.Sprintf("cluster %q: %s does not hold the lease (held by %s)", e.Cluster, e.Caller, holder)
}

// ErrContended says the record kept changing under a write for every
// attempt; retrying later is safe.
type ErrContended struct {
	Cluster  string
	Attempts int
}

func (e *ErrContended) Error() string {
	return fmt.Sprintf("cluster %q: record changed concurrently on each of %d attempts", e.Cluster, e.Attempts)
}
