package agent

import (
	"context"
	"errors"
	"time"

	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// promoteGranted finishes a handover on the node the record names primary
// while it is still in recovery: the failover that granted the role
// (store.GrantPrimary, which succeeds only once the old primary is fenced
// and, under synchronous replication, this node eligible) promotes it
// next, but an execution stopped or timed out between the grant and
// pg_promote never would. The grant is the authority, so the agent
// promotes as the failover's Promote step would; both doing it is
// harmless. A fenced data directory (a former primary that stopped itself)
// is never promoted by the agent: it may hold writes the cluster lost.
func (a *Agent) promoteGranted(ctx context.Context, obs observation, rec store.Record) {
	l := rec.PrimaryLease
	switch {
	case !l.HandoverPending() || l.Node != a.cfg.Node:
		a.setState(StateStandby, "recorded primary, still in recovery: waiting for the failover to promote it")
		return
	case fencedReason(a.deps.Controller.DataDir()) != "":
		a.setState(StateStandby, "recorded primary but fenced earlier; needs an operator")
		return
	case obs.conn == nil || obs.status == nil || !obs.status.InRecovery:
		a.setState(StateStandby, "recorded primary, status unknown: waiting")
		return
	}
	a.log.Warn("promoting: the cluster record grants this node the primary role", "grantedBy", l.GrantedBy, "from", l.GrantedFrom, "epoch", l.Term)
	pctx, cancel := context.WithTimeout(ctx, a.cfg.Cluster.LeaseDuration())
	defer cancel()
	if err := pgnode.Promote(pctx, obs.conn, int(a.cfg.Cluster.LeaseDuration()/time.Second)); err != nil && !errors.Is(err, pgnode.ErrNotInRecovery) {
		a.log.Error("promotion granted by the record failed", "error", err)
		a.setState(StateStandby, "promotion granted by the record failed: "+err.Error())
		return
	}
	a.update(func(s *Snapshot) { s.Promotions++ })
	a.setState(StateUnknown, "promoted: the record granted the primary role (handover by "+l.GrantedBy+")")
}

// detachIfRevoked: on a standby, once a failover has revoked the primary's
// lease, stop streaming from that primary for good (until the record
// changes) and say so in the record. The failover's lease-based fence waits
// for this, so that failsafe cannot keep the old primary writable.
func (a *Agent) detachIfRevoked(ctx context.Context, now time.Time, obs observation, rec store.Record) {
	l := rec.PrimaryLease
	if l == nil || !l.Revoked() || l.DetachedBy == a.cfg.Node || obs.conn == nil || obs.status == nil || !obs.status.InRecovery {
		return
	}
	if l.Planned && now.Before(l.Expires) {
		// A switchover: keep streaming while the old primary stops cleanly
		// and sends its last WAL; detach only if it has not by the lease's
		// expiry, when the switchover falls back to a failover's fence.
		return
	}
	if a.detachedFrom != l.RevokedBy {
		if err := pgnode.DetachFromPrimary(ctx, obs.conn); err != nil {
			a.log.Error("detaching from the revoked primary failed", "error", err)
			return
		}
		a.detachedFrom = l.RevokedBy
		a.log.Warn("detached from the primary whose lease was revoked", "primary", rec.Primary, "failover", l.RevokedBy)
		return // recorded once the WAL receiver is seen gone
	}
	if obs.status.WALReceiver != nil {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	if _, err := a.deps.Store.RecordDetached(wctx, a.cfg.Cluster.Name, a.cfg.Node, now); err != nil {
		a.log.Error("recording the detachment failed", "error", err)
	}
}
