package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// PrimaryLease is the recorded primary's right to accept writes. Its agent
// renews it; when it cannot, the agent stops PostgreSQL before Expires (see
// docs/safety.md for the timing argument). A failover revokes it first and
// promotes only after it has expired plus the clock margin, or after a
// hard fence is confirmed.
type PrimaryLease struct {
	Node string `json:"node"`
	// Term is the epoch in which the lease was granted to Node.
	Term    int64     `json:"term"`
	Renewed time.Time `json:"renewed"`
	Expires time.Time `json:"expires"`
	// LSN is the primary's flushed WAL position at the renewal: the data
	// gate's evidence. A primary that cannot publish it stops accepting
	// writes within the lease, so it is never older than one lease.
	LSN uint64 `json:"lsn"`
	// SyncStandby is the synchronous standby the primary had named at the
	// renewal ("" while asynchronous).
	SyncStandby string `json:"syncStandby,omitempty"`
	// RevokedBy is the execution that revoked the lease ("" while valid);
	// a revoked lease cannot be renewed.
	RevokedBy string    `json:"revokedBy,omitempty"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	// HardFenced says the revoking execution confirmed a hard fence (the
	// instance forcibly stopped), so promotion need not wait for Expires.
	HardFenced bool `json:"hardFenced,omitempty"`
	// DetachedBy is the standby whose agent, after the revocation, stopped
	// streaming from this primary for good (primary_conninfo emptied), at
	// DetachedAt by its clock: from then on no failsafe can keep the old
	// primary writable longer than the failsafe window.
	DetachedBy string    `json:"detachedBy,omitempty"`
	DetachedAt time.Time `json:"detachedAt,omitzero"`
	// GrantedBy is the execution that handed the primary role to Node
	// (GrantPrimary) and has not yet committed the failover, and
	// GrantedFrom the node it took the role from: a handover in progress.
	// Commit clears both; a lease bootstrapped by an agent has neither.
	GrantedBy   string `json:"grantedBy,omitempty"`
	GrantedFrom string `json:"grantedFrom,omitempty"`
	// Planned says the revocation is a switchover's: the agent stops
	// PostgreSQL cleanly (fast shutdown, every WAL record sent to the
	// standby) instead of at once, and reports DemotedAt and FinalLSN, the
	// position of its shutdown checkpoint, which the new primary must have
	// received before it is promoted.
	Planned   bool      `json:"planned,omitempty"`
	DemotedAt time.Time `json:"demotedAt,omitzero"`
	FinalLSN  uint64    `json:"finalLsn,omitempty"`
	// Timeline is the primary's timeline at the renewal, and Replicas its
	// standbys as pg_stat_replication showed them (status's members
	// table); both are absent while the agent cannot read PostgreSQL.
	Timeline uint32         `json:"timeline,omitempty"`
	Replicas []ReplicaState `json:"replicas,omitempty"`
}

// Demoted reports whether the old primary's agent confirmed a clean stop
// after a switchover's revocation: as good a fence as a forced stop.
func (l *PrimaryLease) Demoted() bool { return l != nil && l.Planned && !l.DemotedAt.IsZero() }

// HandoverPending reports whether a failover made Node the recorded primary
// and has not committed it yet: the new primary may still need promoting,
// the clients rerouting and the history its entry.
func (l *PrimaryLease) HandoverPending() bool { return l != nil && l.GrantedBy != "" && !l.Revoked() }

// Revoked reports whether a failover revoked the lease.
func (l *PrimaryLease) Revoked() bool { return l != nil && l.RevokedBy != "" }

// StandbyState is the primary agent's word on the other node.
type StandbyState struct {
	Node string `json:"node"`
	// Eligible: the node may be promoted. Under synchronous replication it
	// is true only while the node is the synchronous standby; the
	// "available" policy clears it before dropping to asynchronous.
	Eligible bool      `json:"eligible"`
	Reason   string    `json:"reason,omitempty"`
	Changed  time.Time `json:"changed"`
}

// formerPrimaryReason starts the reason GrantPrimary records for the node
// it replaced.
const formerPrimaryReason = "former primary"

// NeedsRejoin reports whether the standby is the primary a failover
// replaced and has not been marked eligible since: it must be rejoined
// (pg_rewind) before it can follow, let alone be promoted. Under
// asynchronous replication nothing marks it eligible again, so the record
// keeps saying so after a rejoin as well.
func (st *StandbyState) NeedsRejoin() bool {
	return st != nil && !st.Eligible && strings.HasPrefix(st.Reason, formerPrimaryReason)
}

// ReplicaState is one standby as the primary's pg_stat_replication showed
// it at a renewal.
type ReplicaState struct {
	Node string `json:"node"` // application_name: the node's name
	// State is "streaming", "catchup", …; Sync "sync", "potential" or
	// "async".
	State     string `json:"state"`
	Sync      string `json:"sync"`
	ReplayLSN uint64 `json:"replayLsn"`
	// ReplayLagMs is replay_lag (0 while the standby is caught up and
	// idle, as PostgreSQL reports NULL then).
	ReplayLagMs int64 `json:"replayLagMs"`
}

// maxReplicas bounds Replicas (a pair has one standby; a mistake must
// not grow the item).
const maxReplicas = 8

// Renewal is what the primary's agent writes with each renewal.
type Renewal struct {
	Node        string
	Now         time.Time // the agent's clock when it sent the renewal
	Duration    time.Duration
	LSN         uint64
	SyncStandby string
	Timeline    uint32
	Replicas    []ReplicaState
	// Read, when set, is the record the caller read moments ago
	// (GetState): the first attempt decides on it instead of reading
	// again, saving one read per renewal. The write is conditioned on its
	// version, so it lands only if the record is still exactly that; a
	// lost race reads afresh.
	Read *Record
}

// RenewPrimaryLease extends node's primary lease to r.Now+r.Duration. Only
// the recorded primary may renew (*ErrNotPrimary otherwise), and not after
// a failover revoked its lease (*ErrLeaseRevoked): both tell the agent to
// stop accepting writes at once.
func (s *Store) RenewPrimaryLease(ctx context.Context, cluster string, r Renewal) (Record, error) {
	if r.Node == "" || r.Duration <= 0 {
		return Record{}, fmt.Errorf("renewing the primary lease of cluster %q: node must not be empty and duration must be positive", cluster)
	}
	return s.updateFrom(ctx, "renewing the primary lease", cluster, r.Read, func(rec *Record) (bool, error) {
		if rec.Primary != r.Node {
			return false, &ErrNotPrimary{Cluster: cluster, Node: r.Node, Primary: rec.Primary, Epoch: rec.Epoch}
		}
		l := rec.PrimaryLease
		if l != nil && l.Node == r.Node && l.Revoked() {
			return false, &ErrLeaseRevoked{Cluster: cluster, Node: r.Node, By: l.RevokedBy, At: l.RevokedAt}
		}
		next := PrimaryLease{Node: r.Node, Term: rec.Epoch}
		if l != nil && l.Node == r.Node {
			next.Term, next.GrantedBy, next.GrantedFrom = l.Term, l.GrantedBy, l.GrantedFrom
		}
		next.Renewed = r.Now.UTC().Truncate(time.Millisecond)
		next.Expires = r.Now.Add(r.Duration).UTC().Truncate(time.Millisecond)
		next.LSN, next.SyncStandby = r.LSN, r.SyncStandby
		next.Timeline, next.Replicas = r.Timeline, r.Replicas
		if len(next.Replicas) > maxReplicas {
			next.Replicas = next.Replicas[:maxReplicas]
		}
		if r.LSN == 0 && l != nil && l.Node == r.Node {
			// A renewal without a position (PostgreSQL down, its agent
			// trying local recovery) keeps the last one published: nothing
			// can have been written since, so it still bounds the primary,
			// and the failover's data gate keeps its evidence.
			next.LSN, next.SyncStandby = l.LSN, l.SyncStandby
		}
		rec.PrimaryLease = &next
		return true, nil
	})
}

// SetStandbyEligibility records, on behalf of the primary's agent, whether
// standby may be promoted. Only the recorded primary with an unrevoked lease
// may write it. Writing what is already recorded changes nothing. The agent
// marks a standby eligible only while it is its synchronous standby and
// caught up, so an eligible standby is also recorded as the lease's
// synchronous standby.
func (s *Store) SetStandbyEligibility(ctx context.Context, cluster, primary, standby string, eligible bool, reason string, now time.Time) (Record, error) {
	return s.update(ctx, "setting standby eligibility", cluster, stateOnly, func(rec *Record) (bool, error) {
		if rec.Primary != primary {
			return false, &ErrNotPrimary{Cluster: cluster, Node: primary, Primary: rec.Primary, Epoch: rec.Epoch}
		}
		if l := rec.PrimaryLease; l != nil && l.Node == primary && l.Revoked() {
			return false, &ErrLeaseRevoked{Cluster: cluster, Node: primary, By: l.RevokedBy, At: l.RevokedAt}
		}
		if st := rec.Standby; st != nil && st.Node == standby && st.Eligible == eligible {
			return false, nil
		}
		rec.Standby = &StandbyState{Node: standby, Eligible: eligible, Reason: clip(reason, maxReasonLen), Changed: now.UTC()}
		if l := rec.PrimaryLease; eligible && l != nil && l.Node == primary && l.SyncStandby != standby {
			// The agent marks a standby eligible only once it is the
			// synchronous standby and caught up: every commit from here on
			// waits for it, so the lease's evidence may name it at once
			// rather than at the next renewal, seconds later (a primary
			// lost in between would otherwise be refused as asynchronous).
			c := *l
			c.SyncStandby = standby
			rec.PrimaryLease = &c
		}
		return true, nil
	})
}

// CheckLock proves, with a consistent read, that holder still holds the
// failover lock of epoch; otherwise *ErrLockLost. Every mutating step calls
// it (or a write conditioned the same way) before it acts.
func (s *Store) CheckLock(ctx context.Context, cluster, holder string, epoch int64) (Record, error) {
	rec, err := s.GetState(ctx, cluster)
	if err != nil {
		return Record{}, err
	}
	if err := lockedBy(rec, cluster, holder, epoch); err != nil {
		return Record{}, err
	}
	return rec, nil
}

func lockedBy(rec Record, cluster, holder string, epoch int64) error {
	if !rec.LockHeldBy(holder) || rec.Epoch != epoch {
		e := &ErrLockLost{Cluster: cluster, Holder: holder, Epoch: epoch, RecordEpoch: rec.Epoch}
		if rec.Lock != nil {
			e.Owner = rec.Lock.Holder
		}
		return e
	}
	return nil
}

// RevokePrimaryLease marks the recorded primary's lease revoked by holder
// (which must hold the failover lock of epoch): from now on the old
// primary's agent cannot renew and, reading the record, stops PostgreSQL at
// once. A primary that never renewed gets a revoked lease expiring now.
// Revoking again is a no-op. The returned record carries the lease expiry
// a promotion must wait for.
func (s *Store) RevokePrimaryLease(ctx context.Context, cluster, holder string, epoch int64, now time.Time) (Record, error) {
	return s.revoke(ctx, cluster, holder, epoch, now, false)
}

// RevokeForSwitchover revokes the primary lease as RevokePrimaryLease does,
// in the same write marking it planned: the old primary's agent stops
// PostgreSQL cleanly and records where its WAL ends (RecordDemoted).
func (s *Store) RevokeForSwitchover(ctx context.Context, cluster, holder string, epoch int64, now time.Time) (Record, error) {
	return s.revoke(ctx, cluster, holder, epoch, now, true)
}

func (s *Store) revoke(ctx context.Context, cluster, holder string, epoch int64, now time.Time, planned bool) (Record, error) {
	return s.update(ctx, "revoking the primary lease", cluster, stateOnly, func(rec *Record) (bool, error) {
		if err := lockedBy(*rec, cluster, holder, epoch); err != nil {
			return false, err
		}
		l := rec.PrimaryLease
		if l == nil || l.Node != rec.Primary {
			l = &PrimaryLease{Node: rec.Primary, Term: rec.Epoch, Expires: now.UTC().Truncate(time.Millisecond)}
		} else if l.RevokedBy == holder {
			return false, nil
		} else {
			c := *l
			l = &c
		}
		l.RevokedBy, l.RevokedAt, l.Planned = holder, now.UTC(), planned
		rec.PrimaryLease = l
		return true, nil
	})
}

// RecordDemoted records, for the old primary's agent, that node stopped
// PostgreSQL cleanly after a switchover's revocation and that its WAL ends
// at finalLSN. Only the recorded primary whose lease was revoked as
// planned may write it; recording it again changes nothing.
func (s *Store) RecordDemoted(ctx context.Context, cluster, node string, finalLSN uint64, at time.Time) (Record, error) {
	return s.update(ctx, "recording the demotion", cluster, stateOnly, func(rec *Record) (bool, error) {
		l := rec.PrimaryLease
		if rec.Primary != node || l == nil || l.Node != node || !l.Revoked() || !l.Planned {
			return false, fmt.Errorf("recording the demotion of %s in cluster %q: no switchover revoked its lease", node, cluster)
		}
		if l.Demoted() {
			return false, nil
		}
		c := *l
		c.DemotedAt, c.FinalLSN = at.UTC(), finalLSN
		rec.PrimaryLease = &c
		return true, nil
	})
}

// MarkHardFenced records that holder confirmed a hard fence of the node
// whose lease it revoked.
func (s *Store) MarkHardFenced(ctx context.Context, cluster, holder string, epoch int64) (Record, error) {
	return s.update(ctx, "recording the hard fence", cluster, stateOnly, func(rec *Record) (bool, error) {
		if err := lockedBy(*rec, cluster, holder, epoch); err != nil {
			return false, err
		}
		l := rec.PrimaryLease
		if l == nil || l.RevokedBy != holder {
			return false, fmt.Errorf("recording the hard fence of cluster %q: %s has not revoked the primary lease", cluster, holder)
		}
		if l.HardFenced {
			return false, nil
		}
		c := *l
		c.HardFenced = true
		rec.PrimaryLease = &c
		return true, nil
	})
}

// RecordDetached records, for the standby's agent, that node stopped
// streaming from the primary whose lease was revoked. Only a node that is
// not the recorded primary may write it, and only on a revoked lease;
// recording it again changes nothing.
func (s *Store) RecordDetached(ctx context.Context, cluster, node string, at time.Time) (Record, error) {
	return s.update(ctx, "recording the standby's detachment", cluster, stateOnly, func(rec *Record) (bool, error) {
		l := rec.PrimaryLease
		if rec.Primary == node || l == nil || !l.Revoked() {
			return false, fmt.Errorf("recording the detachment of %s in cluster %q: the primary lease is not revoked", node, cluster)
		}
		if l.DetachedBy == node {
			return false, nil
		}
		c := *l
		c.DetachedBy, c.DetachedAt = node, at.UTC()
		rec.PrimaryLease = &c
		return true, nil
	})
}

// Grant is a failover's hand-over of the primary role.
type Grant struct {
	Holder     string
	Epoch      int64
	NewPrimary string
	Now        time.Time
	Duration   time.Duration // the new primary's first lease
	// ClockMargin is added to the old lease's expiry before it counts as
	// expired.
	ClockMargin time.Duration
	// DetachedHold: without a hard fence, the new primary's agent must have
	// detached from the old primary at least this long (plus the margin)
	// ago, so that failsafe cannot keep the old primary writable.
	DetachedHold time.Duration
	// RequireEligible: the new primary must be the standby the record marks
	// eligible (synchronous replication, not forced). Checked again here
	// because the old primary may have marked it ineligible after Assess.
	RequireEligible bool
}

// GrantPrimary makes g.NewPrimary the recorded primary, with a fresh lease,
// before it is promoted: from then on its agent renews and the old
// primary's agent keeps its node down. It requires the failover lock of
// g.Epoch and the old primary fenced: its lease revoked by this holder and
// either hard-fenced or expired by g.Now minus the clock margin
// (*ErrNotFenced otherwise, with the instant to retry at). The old primary
// is recorded as an ineligible standby. Granting again is a no-op.
func (s *Store) GrantPrimary(ctx context.Context, cluster string, g Grant) (Record, error) {
	return s.update(ctx, "granting the primary role", cluster, stateOnly, func(rec *Record) (bool, error) {
		if err := lockedBy(*rec, cluster, g.Holder, g.Epoch); err != nil {
			return false, err
		}
		if rec.Primary == g.NewPrimary {
			return false, nil
		}
		l := rec.PrimaryLease
		if l == nil || l.Node != rec.Primary || l.RevokedBy != g.Holder {
			return false, &ErrNotFenced{Cluster: cluster, Node: rec.Primary, Reason: "its primary lease was not revoked by this execution"}
		}
		if !l.HardFenced && !l.Demoted() {
			if g.Now.Before(l.Expires.Add(g.ClockMargin)) {
				return false, &ErrNotFenced{Cluster: cluster, Node: rec.Primary, Until: l.Expires.Add(g.ClockMargin),
					Reason: fmt.Sprintf("its primary lease expires at %s (plus %s clock margin) and no hard fence is confirmed",
						l.Expires.Format(time.RFC3339Nano), g.ClockMargin)}
			}
			if l.DetachedBy != g.NewPrimary {
				return false, &ErrNotFenced{Cluster: cluster, Node: rec.Primary,
					Reason: fmt.Sprintf("no hard fence is confirmed and %s has not recorded detaching from it (failsafe could keep it writable)", g.NewPrimary)}
			}
			if until := l.DetachedAt.Add(g.DetachedHold + g.ClockMargin); g.Now.Before(until) {
				return false, &ErrNotFenced{Cluster: cluster, Node: rec.Primary, Until: until,
					Reason: fmt.Sprintf("%s detached at %s; a failsafe primary may stay writable for %s (plus %s clock margin)",
						g.NewPrimary, l.DetachedAt.Format(time.RFC3339Nano), g.DetachedHold, g.ClockMargin)}
			}
		}
		if g.RequireEligible && (rec.Standby == nil || rec.Standby.Node != g.NewPrimary || !rec.Standby.Eligible) {
			reason := "the record never marked it eligible"
			if rec.Standby != nil && rec.Standby.Node == g.NewPrimary {
				reason = rec.Standby.Reason
			}
			return false, &ErrNotEligible{Cluster: cluster, Node: g.NewPrimary, Reason: reason}
		}
		old := rec.Primary
		rec.Primary = g.NewPrimary
		rec.PrimaryLease = &PrimaryLease{Node: g.NewPrimary, Term: g.Epoch, Renewed: g.Now.UTC().Truncate(time.Millisecond),
			Expires: g.Now.Add(g.Duration).UTC().Truncate(time.Millisecond), GrantedBy: g.Holder, GrantedFrom: old}
		rec.Standby = &StandbyState{Node: old, Eligible: false, Changed: g.Now.UTC(),
			Reason: fmt.Sprintf("%s (until epoch %d): must rejoin and catch up before it can be promoted", formerPrimaryReason, g.Epoch)}
		return true, nil
	})
}

// ErrNotPrimary says a node acted as primary but the record names another.
type ErrNotPrimary struct {
	Cluster, Node, Primary string
	Epoch                  int64
}

func (e *ErrNotPrimary) Error() string {
	return fmt.Sprintf("cluster %q: %s is not the recorded primary (the record names %q at epoch %d)", e.Cluster, e.Node, e.Primary, e.Epoch)
}

// ErrLeaseRevoked says a failover revoked the node's primary lease.
type ErrLeaseRevoked struct {
	Cluster, Node, By string
	At                time.Time
}

func (e *ErrLeaseRevoked) Error() string {
	return fmt.Sprintf("cluster %q: the primary lease of %s was revoked by %s at %s", e.Cluster, e.Node, e.By, e.At.Format(time.RFC3339))
}

// ErrLockLost says a step's execution no longer holds the failover lock of
// its epoch: another execution took over, or the lock was released.
type ErrLockLost struct {
	Cluster, Holder, Owner string
	Epoch, RecordEpoch     int64
}

func (e *ErrLockLost) Error() string {
	owner := e.Owner
	if owner == "" {
		owner = "nobody"
	}
	return fmt.Sprintf("cluster %q: %s no longer holds the failover lock of epoch %d (record epoch %d, lock held by %s)",
		e.Cluster, e.Holder, e.Epoch, e.RecordEpoch, owner)
}

// ErrNotFenced says the old primary is not proven fenced yet. Until, when
// set, is the earliest instant the lease-based fence can hold.
type ErrNotFenced struct {
	Cluster, Node, Reason string
	Until                 time.Time
}

func (e *ErrNotFenced) Error() string {
	return fmt.Sprintf("cluster %q: %s is not fenced: %s", e.Cluster, e.Node, e.Reason)
}

// ErrNotEligible says the standby may not be promoted without force: the
// primary's agent marked it ineligible (it may lack acknowledged writes).
type ErrNotEligible struct {
	Cluster, Node, Reason string
}

func (e *ErrNotEligible) Error() string {
	return fmt.Sprintf("cluster %q: standby %s is not eligible for promotion: %s", e.Cluster, e.Node, e.Reason)
}
