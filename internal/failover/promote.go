package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// PromoteStep promotes the standby with pg_promote and checks that it left
// recovery on a new timeline. It checks the fence itself rather than
// trusting its input: before pg_promote it makes the candidate the recorded
// primary (store.GrantPrimary), a conditional write that succeeds only for
// the holder of the failover lock of its epoch and only when the old
// primary's lease was revoked by this execution and has expired plus the
// clock margin, or a hard fence was confirmed. From that write on, the new
// primary's agent renews its lease and the old primary's agent keeps its
// node down.
type PromoteStep struct{ *Deps }

// Handle is the Lambda handler.
func (h *PromoteStep) Handle(ctx context.Context, s State) (*StepResult, error) {
	start := h.now()
	log := h.logger("promote", s)
	if !s.Assessment.proceeds() {
		return nil, &StepFailed{Step: "promote", Err: errors.New("promote refused: the assessment did not decide to proceed or resume")}
	}
	if s.Lease == nil || !s.Lease.Acquired {
		return nil, &StepFailed{Step: "promote", Err: errors.New("promote runs only under an acquired failover lock")}
	}
	node, ok := h.Config.Node(s.Assessment.NewPrimary)
	if !ok {
		return nil, &StepFailed{Step: "promote", Err: fmt.Errorf("node %q is not in the cluster config", s.Assessment.NewPrimary)}
	}
	if s.Request.Action == ActionSwitchover {
		if err := h.awaitFinalWAL(ctx, s, node); err != nil {
			return nil, err
		}
	}
	if _, err := h.Store.GrantPrimary(ctx, h.Config.Name, store.Grant{Holder: s.Execution, Epoch: s.Lease.Epoch,
		NewPrimary: node.Name, Now: h.now(), Duration: h.Config.LeaseDuration(), ClockMargin: h.Config.ClockMargin(),
		DetachedHold:    h.Config.DetachedHold(),
		RequireEligible: h.Config.Synchronous() && !s.Assessment.Forced}); err != nil {
		return nil, lockErr("promote: granting the primary role", err)
	}
	conn, err := h.connect(ctx, node.PostgresAddr)
	if err != nil {
		return nil, retryable("promote", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	before, err := pgnode.GetStatus(ctx, conn)
	if err != nil {
		return nil, &TransientError{Step: "promote", Err: fmt.Errorf("status of %s: %w", node.Name, err)}
	}
	already := !before.InRecovery
	if !already {
		err := pgnode.Promote(ctx, conn, h.Config.Promotion.PromoteTimeoutSeconds)
		switch {
		case errors.Is(err, pgnode.ErrNotInRecovery):
			already = true // promoted by an earlier attempt whose answer was lost
		case err != nil:
			return nil, &StepFailed{Step: "promote", Err: fmt.Errorf("pg_promote on %s: %w", node.Name, err)}
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Duration(h.Config.Promotion.PromoteTimeoutSeconds)*time.Second)
	defer cancel()
	if err := pgnode.WaitOutOfRecovery(waitCtx, conn, 100*time.Millisecond); err != nil {
		return nil, &StepFailed{Step: "promote", Err: fmt.Errorf("%s did not leave recovery: %w", node.Name, err)}
	}
	if err := pgnode.Checkpoint(ctx, conn); err != nil {
		return nil, &TransientError{Step: "promote", Err: fmt.Errorf("checkpoint on %s: %w", node.Name, err)}
	}
	after, err := pgnode.GetStatus(ctx, conn)
	if err != nil {
		return nil, &TransientError{Step: "promote", Err: fmt.Errorf("status of %s after promotion: %w", node.Name, err)}
	}
	if after.InRecovery {
		return nil, &StepFailed{Step: "promote", Err: fmt.Errorf("%s is back in recovery after promotion", node.Name)}
	}
	summary := fmt.Sprintf("%s promoted: timeline %d → %d at %s", node.Name, before.Timeline, after.Timeline, after.CurrentLSN)
	if already {
		summary = fmt.Sprintf("%s was already out of recovery (timeline %d, %s)", node.Name, after.Timeline, after.CurrentLSN)
	}
	log.Info("promoted", "node", node.Name, "timeline", after.Timeline, "lsn", after.CurrentLSN.String())
	return result(start, h.now(), summary), nil
}
