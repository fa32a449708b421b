package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/fence"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// FenceStep fences the old primary and returns only once the fence holds
// (invariant 1). It first revokes the old primary's lease in the cluster
// record (a write that also proves this execution holds the failover lock
// of its epoch): from then on the old primary's agent cannot renew and, if
// it can read the record, stops PostgreSQL at once. Then the fence holds by
// whichever comes first:
//
//   - lease expiry: the revoked lease has expired plus the clock margin, and
//     the candidate standby was seen not streaming from the old primary at
//     least FailsafeReply earlier (so failsafe cannot keep it writable);
//   - hard fence: a forced stop of the old primary's instance, confirmed by
//     consistent observations (package fence).
//
// The forced stop is always requested; when the lease wins, it continues
// behind the promotion. Neither confirmed within the step's bounds is
// FenceNotConfirmed: the state machine then never reaches Promote.
type FenceStep struct{ *Deps }

// Handle is the Lambda handler.
func (h *FenceStep) Handle(ctx context.Context, s State) (*StepResult, error) {
	start := h.now()
	log := h.logger("fence", s)
	if s.Assessment == nil || s.Assessment.Decision != DecisionProceed {
		return nil, &StepFailed{Step: "fence", Err: errors.New("fence refused: the assessment did not decide to proceed")}
	}
	if s.Lease == nil || !s.Lease.Acquired {
		return nil, &StepFailed{Step: "fence", Err: errors.New("fence runs only under an acquired failover lock")}
	}
	old, ok := h.Config.Node(s.Assessment.OldPrimary)
	if !ok {
		return nil, &StepFailed{Step: "fence", Err: fmt.Errorf("node %q is not in the cluster config", s.Assessment.OldPrimary)}
	}
	cand, ok := h.Config.Node(s.Assessment.NewPrimary)
	if !ok {
		return nil, &StepFailed{Step: "fence", Err: fmt.Errorf("node %q is not in the cluster config", s.Assessment.NewPrimary)}
	}
	rec, err := h.Store.RevokePrimaryLease(ctx, h.Config.Name, s.Execution, s.Lease.Epoch, h.now())
	if err != nil {
		return nil, lockErr("fence: revoking the primary lease", err)
	}
	if rec.Primary != old.Name {
		return nil, &StepFailed{Step: "fence", Err: fmt.Errorf("the record names %s primary, the assessment %s", rec.Primary, old.Name)}
	}
	leaseAt, leaseWhy := h.leaseFenceAt(ctx, rec.PrimaryLease, cand)
	log.Info("primary lease revoked", "node", old.Name, "leaseExpires", rec.PrimaryLease.Expires, "leaseFenceAt", leaseAt, "why", leaseWhy)

	hardCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	hard := make(chan hardOutcome, 1)
	go func() {
		res, err := fence.Fence(hardCtx, h.EC2, old, h.Config.Fence, fence.WithPollInterval(h.pollInterval()))
		hard <- hardOutcome{res, err}
	}()
	var leaseTimer <-chan time.Time
	if !leaseAt.IsZero() {
		t := time.NewTimer(max(0, leaseAt.Sub(h.now())))
		defer t.Stop()
		leaseTimer = t.C
	}
	for {
		select {
		case o := <-hard:
			if o.err == nil {
				if _, err := h.Store.MarkHardFenced(ctx, h.Config.Name, s.Execution, s.Lease.Epoch); err != nil {
					return nil, lockErr("fence: recording the hard fence", err)
				}
				log.Info("fenced by a confirmed forced stop", "node", old.Name, "mode", o.res.Mode, "durationMs", o.res.DurationMs)
				return result(start, h.now(), fmt.Sprintf("%s fenced: lease revoked and instance %s stopped (%s)", old.Name, old.InstanceID, o.res.Mode),
					fmt.Sprintf("primary lease revoked (expired %s)", rec.PrimaryLease.Expires.Format(time.RFC3339Nano))), nil
			}
			log.Error("hard fence not confirmed", "node", old.Name, "err", o.err)
			if leaseTimer == nil {
				var timeout *fence.ErrFenceTimeout
				if classified := classify("fence", o.err); !errors.As(o.err, &timeout) && isTransient(classified) {
					return nil, classified
				}
				return nil, &FenceNotConfirmed{Err: fmt.Errorf("%s (%s): forced stop not confirmed (%w) and no lease-based fence: %s",
					old.Name, old.InstanceID, o.err, leaseWhy)}
			}
			hard = nil // wait for the lease
		case <-leaseTimer:
			log.Info("fenced by primary lease expiry", "node", old.Name, "at", leaseAt)
			return result(start, h.now(), fmt.Sprintf("%s fenced: its revoked primary lease expired at %s (plus %s clock margin); forced stop of %s requested",
				old.Name, rec.PrimaryLease.Expires.Format(time.RFC3339Nano), h.Config.ClockMargin(), old.InstanceID), leaseWhy), nil
		case <-ctx.Done():
			return nil, &FenceNotConfirmed{Err: fmt.Errorf("%s: %w", old.Name, ctx.Err())}
		}
	}
}

type hardOutcome struct {
	res fence.Result
	err error
}

// leaseFenceAt is the instant from which the revoked lease fences the old
// primary, or zero (with the reason) when it cannot: the candidate must be
// seen not streaming from the old primary, so that failsafe cannot keep the
// old primary writable past its lease.
func (h *FenceStep) leaseFenceAt(ctx context.Context, lease *store.PrimaryLease, cand cluster.Node) (time.Time, string) {
	if lease == nil {
		return time.Time{}, "no primary lease in the record"
	}
	seen := h.now()
	pctx, cancel := context.WithTimeout(ctx, 2*h.Config.ConnectTimeout())
	defer cancel()
	conn, err := h.connect(pctx, cand.PostgresAddr)
	if err != nil {
		return time.Time{}, fmt.Sprintf("candidate %s unreachable (%v): cannot prove it stopped streaming", cand.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := pgnode.GetStatus(pctx, conn)
	if err != nil {
		return time.Time{}, fmt.Sprintf("candidate %s status: %v", cand.Name, err)
	}
	if w := st.WALReceiver; w != nil && w.Status == "streaming" {
		return time.Time{}, fmt.Sprintf("candidate %s still streams from the old primary: only a hard fence will do", cand.Name)
	}
	at := lease.Expires
	if fs := seen.Add(h.Config.FailsafeReply()); fs.After(at) {
		at = fs
	}
	return h.Config.EarliestPromotion(at), fmt.Sprintf("lease expires %s; candidate %s not streaming since at least %s",
		lease.Expires.Format(time.RFC3339Nano), cand.Name, seen.Format(time.RFC3339Nano))
}

func isTransient(err error) bool {
	var te *TransientError
	return errors.As(err, &te)
}
