package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// renewDue reports whether a renewal is due, since the last one was sent,
// on a loop of period interval. Loops do not start exactly one period
// apart: half a period of slack keeps a 2-s renewal on a 1-s loop at every
// second loop, instead of slipping to every third when a loop starts a
// moment early (measured: renewals 2-3 s apart before).
func renewDue(since, renew, interval time.Duration) bool {
	return since >= renew-interval/2
}

// renew extends this node's primary lease with its WAL position. rec is
// the record this loop read: the renewal is a conditional write on its
// version, without reading it again.
func (a *Agent) renew(ctx context.Context, now time.Time, obs observation, rec store.Record) error {
	r := store.Renewal{Node: a.cfg.Node, Now: now, Duration: a.cfg.Cluster.LeaseDuration(), Read: &rec}
	if st := obs.status; st != nil {
		if st.InRecovery {
			r.LSN = uint64(st.HeldLSN())
		} else {
			r.LSN = uint64(st.CurrentLSN)
			if obs.conn != nil {
				if flush, err := pgnode.FlushLSN(ctx, obs.conn); err == nil && uint64(flush) > r.LSN {
					r.LSN = uint64(flush)
				}
			}
			r.SyncStandby = syncStandbyOf(*st)
			r.Timeline, r.Replicas = st.Timeline, replicaStates(*st)
		}
	}
	a.lastRenewSent = now
	rctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	if _, err := a.deps.Store.RenewPrimaryLease(rctx, a.cfg.Cluster.Name, r); err != nil {
		a.renewFailing = true
		return fmt.Errorf("renewing the primary lease: %w", err)
	}
	a.renewFailing = false
	a.leaseExpires = now.Add(r.Duration)
	a.update(func(s *Snapshot) { s.LeaseExpires, s.RecordReachable = a.leaseExpires, true })
	return nil
}

// publishLease publishes, on the recorded primary, how long its lease has
// left after this loop (0 once expired) while renewing fails (the record
// cannot be read or written) or less than half the lease is left: the
// dashboard's lease graph, which sags toward 0 while renewals fail.
func (a *Agent) publishLease(now time.Time, failing bool) {
	if a.deps.Publish == nil || a.leaseExpires.IsZero() {
		return
	}
	left := a.leaseExpires.Sub(now)
	if !a.leaseLow.publish(failing || left < a.cfg.Cluster.LeaseDuration()/2) {
		return
	}
	a.deps.Publish(MetricLeaseSecondsLeft, max(0, left.Seconds()), now)
}
