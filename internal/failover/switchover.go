package failover

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/pgnode"
)

// A switchover runs the failover's states with two differences:
//
//   - Fence revokes the primary lease as planned (store.RevokeForSwitchover):
//     the old primary's agent stops PostgreSQL cleanly, which sends every
//     WAL record up to the shutdown checkpoint to the standby, fences the
//     data directory and records where its WAL ends (store.RecordDemoted).
//     That confirmation fences it as a forced stop would; nothing is
//     stopped on EC2. Without it by the lease's expiry, Fence goes on as in
//     a failover.
//   - Promote waits until the new primary has received the old primary's
//     final WAL position before it grants the role: checked, not assumed.

// demotionPoll is how often Fence reads the record while the old primary's
// agent stops it.
const demotionPoll = 50 * time.Millisecond

// demote revokes the lease for the switchover and waits for the old
// primary's agent to confirm its clean stop. done reports that it did.
func (h *FenceStep) demote(ctx context.Context, s State, old cluster.Node) (*StepResult, bool, error) {
	start := h.now()
	rec, err := h.Store.RevokeForSwitchover(ctx, h.Config.Name, s.Execution, s.Lease.Epoch, start)
	if err != nil {
		return nil, false, lockErr("fence: revoking the primary lease for the switchover", err)
	}
	if rec.Primary != old.Name {
		return nil, false, &StepFailed{Step: "fence", Err: fmt.Errorf("the record names %s primary, the assessment %s", rec.Primary, old.Name)}
	}
	deadline := h.Config.EarliestPromotion(rec.PrimaryLease.Expires)
	for {
		if l := rec.PrimaryLease; l.Demoted() && l.RevokedBy == s.Execution {
			h.logger("fence", s).Info("old primary stopped cleanly for the switchover", "node", old.Name, "finalLsn", pgnode.LSN(l.FinalLSN).String())
			return result(start, h.now(), fmt.Sprintf("%s stopped cleanly for the switchover and fenced itself; its WAL ends at %s",
				old.Name, pgnode.LSN(l.FinalLSN)), "nothing stopped on EC2"), true, nil
		}
		if !h.now().Before(deadline) {
			return nil, false, nil
		}
		select {
		case <-ctx.Done():
			return nil, false, &FenceNotConfirmed{Err: fmt.Errorf("%s: %w", old.Name, ctx.Err())}
		case <-time.After(demotionPoll):
		}
		if rec, err = h.Store.GetState(ctx, h.Config.Name); err != nil {
			return nil, false, classify("fence: reading the record during the switchover", err)
		}
	}
}

// awaitFinalWAL waits until the switchover's new primary has received the
// old primary's WAL up to and including its shutdown checkpoint (the
// record's FinalLSN), bounded by the promote timeout. Nothing to wait for
// when the old primary was fenced without a clean stop.
func (h *PromoteStep) awaitFinalWAL(ctx context.Context, s State, node cluster.Node) error {
	rec, err := h.Store.GetState(ctx, h.Config.Name)
	if err != nil {
		return classify("promote: reading the record", err)
	}
	l := rec.PrimaryLease
	if l == nil || !l.Demoted() || l.RevokedBy != s.Execution {
		return nil
	}
	conn, err := h.connect(ctx, node.PostgresAddr)
	if err != nil {
		return retryable("promote", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	wctx, cancel := context.WithTimeout(ctx, time.Duration(h.Config.Promotion.PromoteTimeoutSeconds)*time.Second)
	defer cancel()
	for {
		st, err := pgnode.GetStatus(wctx, conn)
		if err == nil && uint64(st.ReplayLSN) > l.FinalLSN {
			return nil
		}
		select {
		case <-wctx.Done():
			return &StepFailed{Step: "promote", Err: fmt.Errorf("%s has not replayed the old primary's WAL up to %s (its shutdown checkpoint): %v",
				node.Name, pgnode.LSN(l.FinalLSN), wctx.Err())}
		case <-time.After(20 * time.Millisecond):
		}
	}
}
