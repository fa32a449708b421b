package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// MetricSyncCommitsWaiting is the number of sessions on the primary waiting
// for the synchronous standby to confirm their commit, published while it
// is above 0 and once when it is back to 0 (onlyBadNews); the template
// alarms when it stays above 0 ("replication lost, commits waiting").
const MetricSyncCommitsWaiting = "SyncCommitsWaiting"

// MetricLeaseSecondsLeft is how long the recorded primary's lease has
// left, published under {Cluster, Node} by its agent while renewals fail
// or less than half the lease is left, and once when renewing works again
// (onlyBadNews): the dashboard's graph of a primary about to fence itself.
const MetricLeaseSecondsLeft = "LeaseSecondsLeft"

// syncState is the loop's memory of synchronous replication.
type syncState struct {
	lostAt time.Time // when the standby stopped being a healthy synchronous standby (zero while it is one)
	// lostIneligible: the standby was already ineligible when the loss
	// began (e.g. the former primary right after a failover), so the
	// "available" policy need not wait before dropping to asynchronous.
	lostIneligible bool
}

// syncStandbyOf is the standby that pg_stat_replication shows as
// synchronous and streaming, "" when there is none.
func syncStandbyOf(st pgnode.Status) string {
	for _, r := range st.Replication {
		if r.State == "streaming" && r.SyncState == "sync" {
			return r.ApplicationName
		}
	}
	return ""
}

// replicaStates is pg_stat_replication as the renewal records it.
func replicaStates(st pgnode.Status) []store.ReplicaState {
	var out []store.ReplicaState
	for _, r := range st.Replication {
		out = append(out, store.ReplicaState{Node: r.ApplicationName, State: r.State, Sync: r.SyncState,
			ReplayLSN: uint64(r.ReplayLSN), ReplayLagMs: r.ReplayLag.Milliseconds()})
	}
	return out
}

// manageSync runs on the writable primary under synchronous replication.
//
// The standby is eligible for promotion (recorded with a conditional write
// before anything else changes) only while it is the synchronous standby,
// streaming, with no commit waiting on it longer than one loop: from the
// first loop where that fails it is marked ineligible, so a failover in
// that window is refused and no commit that a cancelled client saw as
// "committed locally" can be lost silently.
//
// Policy "strict" always names the standby in synchronous_standby_names
// (commits block while it is gone). Policy "available" drops to
// asynchronous after DegradeAfter without it — only once the record says it
// is ineligible — and names it again when it streams and has caught up;
// it becomes eligible again only once it is synchronous.
func (a *Agent) manageSync(ctx context.Context, now time.Time, conn *pgx.Conn, st pgnode.Status, rec store.Record) {
	c := a.cfg.Cluster
	peerNode, _ := c.Peer(a.cfg.Node)
	peer := peerNode.Name
	waiters, err := pgnode.SyncCommitWaiters(ctx, conn)
	if err != nil {
		a.log.Warn("reading synchronous commit waiters", "error", err)
	}
	if a.deps.Publish != nil && a.commitsWaiting.publish(waiters.Count > 0) {
		a.deps.Publish(MetricSyncCommitsWaiting, float64(waiters.Count), now)
	}
	names, err := pgnode.SynchronousStandbyNames(ctx, conn)
	if err != nil {
		a.log.Warn("reading synchronous_standby_names", "error", err)
		return
	}
	recorded := rec.Standby != nil && rec.Standby.Node == peer && rec.Standby.Eligible
	a.update(func(s *Snapshot) { s.SyncNames, s.StandbyEligible = names, recorded })
	if !c.Synchronous() {
		if names != "" {
			a.setSyncNames(ctx, conn, "", "asynchronous replication configured")
		}
		return
	}
	row := replicaOf(st, peer)
	healthy := row != nil && row.State == "streaming" && row.SyncState == "sync" && names == peer &&
		waiters.Oldest <= a.cfg.Interval
	if healthy {
		a.sync = syncState{}
		if !recorded {
			a.setEligible(ctx, now, peer, true, "synchronous standby, streaming, caught up")
		}
		return
	}
	if a.sync.lostAt.IsZero() {
		a.sync = syncState{lostAt: now, lostIneligible: !recorded}
		a.log.Warn("the standby is not a healthy synchronous standby", "standby", peer, "state", describe(row),
			"synchronousStandbyNames", names, "commitsWaiting", waiters.Count, "oldestWait", waiters.Oldest.String())
	}
	if recorded && !a.setEligible(ctx, now, peer, false, fmt.Sprintf("not a healthy synchronous standby since %s (%s)",
		a.sync.lostAt.UTC().Format(time.RFC3339), describe(row))) {
		return // nothing else changes before the record says so
	}
	switch c.Replication.SyncPolicy {
	case cluster.SyncStrict:
		if names != peer {
			a.setSyncNames(ctx, conn, peer, "strict policy names the standby always")
		}
	case cluster.SyncAvailable:
		caughtUp := row != nil && row.State == "streaming" && st.CurrentLSN.Sub(row.FlushLSN) <= int64(c.Promotion.MaxLagBytes)
		switch {
		case names == "" && caughtUp:
			a.setSyncNames(ctx, conn, peer, "the standby streams again and has caught up")
		case names != "" && names != peer:
			a.setSyncNames(ctx, conn, "", fmt.Sprintf("synchronous_standby_names %q does not name the standby %s", names, peer))
		case names == peer && (a.sync.lostIneligible || now.Sub(a.sync.lostAt) >= c.DegradeAfter()):
			a.setSyncNames(ctx, conn, "", fmt.Sprintf("no synchronous standby for %s (available policy)", now.Sub(a.sync.lostAt).Round(time.Millisecond)))
		}
	}
}

// setEligible writes the standby's eligibility; false when the write failed.
func (a *Agent) setEligible(ctx context.Context, now time.Time, standby string, eligible bool, reason string) bool {
	wctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	if _, err := a.deps.Store.SetStandbyEligibility(wctx, a.cfg.Cluster.Name, a.cfg.Node, standby, eligible, reason, now); err != nil {
		a.log.Error("recording the standby's eligibility failed", "standby", standby, "eligible", eligible, "error", err)
		return false
	}
	a.log.Warn("standby eligibility recorded", "standby", standby, "eligible", eligible, "reason", reason)
	a.update(func(s *Snapshot) { s.StandbyEligible = eligible })
	return true
}

func (a *Agent) setSyncNames(ctx context.Context, conn *pgx.Conn, names, why string) {
	if err := pgnode.SetSynchronousStandbyNames(ctx, conn, names); err != nil {
		a.log.Error("setting synchronous_standby_names failed", "value", names, "error", err)
		return
	}
	a.log.Warn("synchronous_standby_names set", "value", names, "why", why)
	a.update(func(s *Snapshot) { s.SyncNames = names })
}

func replicaOf(st pgnode.Status, name string) *pgnode.Replica {
	for i := range st.Replication {
		if st.Replication[i].ApplicationName == name {
			return &st.Replication[i]
		}
	}
	return nil
}

func describe(r *pgnode.Replica) string {
	if r == nil {
		return "not connected"
	}
	return fmt.Sprintf("%s/%s, flushed %s", r.State, r.SyncState, r.FlushLSN)
}
