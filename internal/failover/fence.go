package failover

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/internal/fence"
)

// FenceStep fences the old primary and returns only once the fence is
// confirmed (invariant 1). An unconfirmed fence is FenceNotConfirmed: the
// state machine then goes to the failure report, never to Promote.
type FenceStep struct{ *Deps }

// Handle is the Lambda handler.
func (h *FenceStep) Handle(ctx context.Context, s State) (*StepResult, error) {
	start := h.now()
	log := h.logger("fence", s)
	if s.Assessment == nil || s.Assessment.Decision != DecisionProceed {
		return nil, &StepFailed{Step: "fence", Err: errors.New("fence refused: the assessment did not decide to proceed")}
	}
	node, ok := h.Config.Node(s.Assessment.OldPrimary)
	if !ok {
		return nil, &StepFailed{Step: "fence", Err: fmt.Errorf("node %q is not in the cluster config", s.Assessment.OldPrimary)}
	}
	res, err := fence.Fence(ctx, h.EC2, node, h.Config.Fence, fence.WithPollInterval(h.pollInterval()))
	if err != nil {
		log.Error("fence not confirmed", "node", node.Name, "err", err)
		var timeout *fence.ErrFenceTimeout
		if classified := classify("fence", err); !errors.As(err, &timeout) && isTransient(classified) {
			return nil, classified
		}
		return nil, &FenceNotConfirmed{Err: fmt.Errorf("%s (%s): %w", node.Name, node.InstanceID, err)}
	}
	var details []string
	if res.Isolation != nil {
		details = append(details, fmt.Sprintf("isolated %s", node.NetworkInterfaceID))
	}
	if res.Stop != nil {
		details = append(details, fmt.Sprintf("instance %s stopped", node.InstanceID))
	}
	log.Info("fenced", "node", node.Name, "mode", res.Mode, "durationMs", res.DurationMs)
	return result(start, h.now(), fmt.Sprintf("%s fenced (%s)", node.Name, res.Mode), details...), nil
}

func isTransient(err error) bool {
	var te *TransientError
	return errors.As(err, &te)
}
