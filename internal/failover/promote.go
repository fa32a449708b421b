package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/pgnode"
)

// PromoteStep promotes the standby with pg_promote and checks that it left
// recovery on a new timeline. It runs only after Fence confirmed the old
// primary fenced: the state machine has no other path to it, and it refuses
// to run on a state without a completed fence.
type PromoteStep struct{ *Deps }

// Handle is the Lambda handler.
func (h *PromoteStep) Handle(ctx context.Context, s State) (*StepResult, error) {
	start := h.now()
	log := h.logger("promote", s)
	if s.Fence == nil || !s.Fence.Done {
		return nil, &FenceNotConfirmed{Err: errors.New("promote refused: the old primary is not confirmed fenced")}
	}
	if s.Assessment == nil || s.Assessment.Decision != DecisionProceed {
		return nil, &StepFailed{Step: "promote", Err: errors.New("promote refused: the assessment did not decide to proceed")}
	}
	node, ok := h.Config.Node(s.Assessment.NewPrimary)
	if !ok {
		return nil, &StepFailed{Step: "promote", Err: fmt.Errorf("node %q is not in the cluster config", s.Assessment.NewPrimary)}
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
