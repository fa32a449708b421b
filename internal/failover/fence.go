package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/fence"
)

// FenceStep fences the old primary and returns only once the fence holds
// (invariant 1). It first revokes the old primary's lease in the cluster
// record (a write that also proves this execution holds the failover lock
// of its epoch): from then on the old primary's agent cannot renew and, if
// it can read the record, stops PostgreSQL at once. Then the fence holds by
// whichever comes first:
//
//   - lease expiry: the revoked lease has expired plus the clock margin, and
//     the candidate's agent recorded that it detached from the old primary
//     (primary_conninfo emptied) at least DetachedHold plus the margin ago,
//     so that failsafe cannot keep the old primary writable;
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
	if s.Request.Action == ActionSwitchover {
		res, done, err := h.demote(ctx, s, old)
		if err != nil || done {
			return res, err
		}
		log.Warn("switchover: the old primary did not confirm a clean stop in time; fencing it as a failover does", "node", old.Name)
	}
	rec, err := h.Store.RevokePrimaryLease(ctx, h.Config.Name, s.Execution, s.Lease.Epoch, h.now())
	if err != nil {
		return nil, lockErr("fence: revoking the primary lease", err)
	}
	if rec.Primary != old.Name {
		return nil, &StepFailed{Step: "fence", Err: fmt.Errorf("the record names %s primary, the assessment %s", rec.Primary, old.Name)}
	}
	log.Info("primary lease revoked", "node", old.Name, "leaseExpires", rec.PrimaryLease.Expires)

	waitCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	hard := make(chan hardOutcome, 1)
	go func() {
		res, err := fence.Fence(waitCtx, h.EC2, old, h.Config.Fence, fence.WithPollInterval(h.pollInterval()),
			fence.WithProbeTimeout(h.Config.ProbeTimeout()), fence.WithLogger(log))
		hard <- hardOutcome{res, err}
	}()
	lease := make(chan leaseOutcome, 1)
	go func() { lease <- h.leaseFence(waitCtx, s, cand) }()
	var leaseTimer <-chan time.Time
	leaseWhy := "waiting for the candidate to detach"
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
			if lease == nil && leaseTimer == nil {
				var timeout *fence.ErrFenceTimeout
				if classified := classify("fence", o.err); !errors.As(o.err, &timeout) && isTransient(classified) {
					return nil, classified
				}
				return nil, &FenceNotConfirmed{Err: fmt.Errorf("%s (%s): forced stop not confirmed (%w) and no lease-based fence: %s",
					old.Name, old.InstanceID, o.err, leaseWhy)}
			}
			hard = nil // the lease may still fence
		case o := <-lease:
			lease = nil
			leaseWhy = o.why
			if o.at.IsZero() {
				log.Warn("no lease-based fence", "why", o.why)
				if hard == nil {
					return nil, &FenceNotConfirmed{Err: fmt.Errorf("%s (%s): forced stop not confirmed and no lease-based fence: %s", old.Name, old.InstanceID, o.why)}
				}
				continue
			}
			t := time.NewTimer(max(0, o.at.Sub(h.now())))
			defer t.Stop()
			leaseTimer = t.C
		case <-leaseTimer:
			log.Info("fenced by primary lease expiry", "node", old.Name, "why", leaseWhy)
			return result(start, h.now(), fmt.Sprintf("%s fenced: its revoked primary lease expired at %s (plus %s clock margin); forced stop of %s requested",
				old.Name, rec.PrimaryLease.Expires.Format(time.RFC3339Nano), h.Config.ClockMargin(), old.InstanceID), leaseWhy), nil
		case <-ctx.Done():
			return nil, &FenceNotConfirmed{Err: fmt.Errorf("%s: %w", old.Name, ctx.Err())}
		}
	}
}

type leaseOutcome struct {
	at  time.Time // zero: the lease cannot fence
	why string
}

// leaseFence waits (at most one lease duration) for the candidate's agent
// to record that it detached from the old primary, and returns the instant
// from which the revoked lease fences the old primary: the later of its
// expiry and the detachment plus the failsafe hold, plus the clock margin.
// Promote's GrantPrimary checks the same condition in the record.
func (h *FenceStep) leaseFence(ctx context.Context, s State, cand cluster.Node) leaseOutcome {
	ctx, cancel := context.WithTimeout(ctx, h.Config.LeaseDuration())
	defer cancel()
	for {
		rec, err := h.Store.GetState(ctx, h.Config.Name)
		if err == nil {
			if l := rec.PrimaryLease; l != nil && l.RevokedBy == s.Execution && l.DetachedBy == cand.Name {
				at := l.Expires
				if d := l.DetachedAt.Add(h.Config.DetachedHold()); d.After(at) {
					at = d
				}
				return leaseOutcome{at: h.Config.EarliestPromotion(at), why: fmt.Sprintf("lease expired %s; %s detached from it at %s",
					l.Expires.Format(time.RFC3339Nano), cand.Name, l.DetachedAt.Format(time.RFC3339Nano))}
			}
		}
		select {
		case <-ctx.Done():
			return leaseOutcome{why: fmt.Sprintf("candidate %s's agent did not record detaching from the old primary within %s (%v)",
				cand.Name, h.Config.LeaseDuration(), ctx.Err())}
		case <-time.After(min(h.pollInterval(), 500*time.Millisecond)):
		}
	}
}

type hardOutcome struct {
	res fence.Result
	err error
}

func isTransient(err error) bool {
	var te *TransientError
	return errors.As(err, &te)
}
