package store

import (
	"fmt"
	"time"
)

// MaxHistory is how many important history entries the record keeps: the
// entries that changed the primary (Committed), failed or aborted attempts
// and any outcome other than the routine ones. The oldest important entry
// is dropped only when a newer important one pushes it out; routine entries
// never evict it.
const MaxHistory = 50

// MaxRoutine is how many routine entries (outcomes refused and not-needed,
// nothing changed) the record keeps, after coalescing: a routine outcome
// that repeats the newest entry is merged into it (Count, FirstFinishedAt)
// rather than appended. See appendHistory.
const MaxRoutine = 20

// Bounds of a history entry's fields, so that the item stays far below
// DynamoDB's 400 KB item limit whatever callers write (see
// TestWorstCaseItemSize). Longer values are cut when the entry is recorded.
const (
	maxReasonLen    = 1024 // Reason (and the standby's reason)
	maxNameLen      = 64   // Action, Outcome, From, To
	maxTriggerLen   = 128  // Trigger: a kind and an alarm or node name
	maxSteps        = 12   // entries of Steps (the state machine has 8 steps)
	maxStepLen      = 32   // each step name
	maxExecutionLen = 256  // Execution: a Step Functions execution ARN is at most 256
)

// Actions recorded in the history.
const (
	ActionFailover   = "failover"
	ActionSwitchover = "switchover"
	// ActionRejoin: a former primary's agent rewound it and made it a
	// standby of the recorded primary (Store.RecordRejoin).
	ActionRejoin = "rejoin"
	// ActionPause and ActionResume: maintenance mode turned on and off.
	ActionPause  = "pause"
	ActionResume = "resume"
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
	Standby *StandbyState `json:"standby,omitempty"`
	// Pause is maintenance mode (nil when off): see Pause.
	Pause *Pause `json:"pause,omitempty"`
	// RejoinRequest asks a former primary's agent to rejoin even when
	// automatic rejoin is off (switchyard rejoin); its rejoin clears it.
	RejoinRequest *RejoinRequest `json:"rejoinRequest,omitempty"`
	UpdatedAt     time.Time      `json:"updatedAt"`
	// History holds, oldest first (by FinishedAt), the last MaxHistory
	// important entries and the last MaxRoutine routine ones, repeated
	// routine outcomes coalesced (see appendHistory).
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
// nil when there is none. A coalesced entry answers for its first and its
// last execution.
func (r Record) entryOf(execution string) *HistoryEntry {
	execution = clip(execution, maxExecutionLen)
	for i := len(r.History) - 1; i >= 0; i-- {
		if h := &r.History[i]; h.Execution == execution || h.FirstExecution == execution {
			return h
		}
	}
	return nil
}

// finishedBy reports whether execution, which held the failover lock of
// epoch (0: unknown), already left its entry: its own, or a coalesced
// routine entry whose epochs cover epoch and which has the same kind as
// entry. Coalescing keeps only a run's first and last execution, and a
// coalesced run holds every finished execution between them (any other
// entry would have ended the run), so an epoch inside the run belongs to an
// execution that finished the same way, or to one that lost its lock
// without finishing and did nothing that needs recording.
func (r Record) finishedBy(execution string, epoch int64, entry HistoryEntry) bool {
	if r.entryOf(execution) != nil {
		return true
	}
	if epoch == 0 {
		return false
	}
	for _, h := range r.History {
		if h.Occurrences() > 1 && h.FirstEpoch <= epoch && epoch <= h.Epoch && sameKind(h, entry) {
			return true
		}
	}
	return false
}

// HistoryEntry is one finished failover or switchover attempt.
type HistoryEntry struct {
	Epoch  int64  `json:"epoch"`
	Action string `json:"action"` // ActionFailover or ActionSwitchover
	// Trigger is what started the execution: "alarm <name>", "fast-path
	// <observing node>", "manual" ("" for entries that are no execution's,
	// or when the writer did not know).
	Trigger   string `json:"trigger,omitempty"`
	From      string `json:"from"` // node that was primary
	To        string `json:"to"`   // node meant to become primary
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
	// StepMs holds how long each step in Steps took, in milliseconds
	// (steps the writer did not time are absent).
	StepMs map[string]int64 `json:"stepMs,omitempty"`

	// Count is how many consecutive attempts with the same routine outcome
	// this entry stands for; 0 (an entry written before coalescing
	// existed) and 1 mean one. The fields above describe the latest of
	// them; the First* fields below, set only when Count > 1, the first.
	Count           int       `json:"count,omitempty"`
	FirstEpoch      int64     `json:"firstEpoch,omitempty"`
	FirstExecution  string    `json:"firstExecution,omitempty"`
	FirstFinishedAt time.Time `json:"firstFinishedAt,omitzero"`
}

// Routine reports whether the entry is a routine outcome: nothing changed
// (not Committed) and the outcome is refused or not-needed. Routine entries
// are coalesced and kept apart from the important ones (MaxRoutine).
func (h HistoryEntry) Routine() bool {
	return !h.Committed && (h.Outcome == OutcomeRefused || h.Outcome == OutcomeNotNeeded)
}

// TimedSteps lists Steps, each with its time when known: "fence 120ms".
func (h HistoryEntry) TimedSteps() []string {
	out := make([]string, len(h.Steps))
	for i, s := range h.Steps {
		out[i] = s
		if ms, ok := h.StepMs[s]; ok {
			out[i] = fmt.Sprintf("%s %dms", s, ms)
		}
	}
	return out
}

// Occurrences is how many attempts the entry stands for (at least 1).
func (h HistoryEntry) Occurrences() int {
	return max(h.Count, 1)
}

// Since is when the first attempt the entry stands for finished.
func (h HistoryEntry) Since() time.Time {
	if h.Occurrences() > 1 && !h.FirstFinishedAt.IsZero() {
		return h.FirstFinishedAt
	}
	return h.FinishedAt
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
