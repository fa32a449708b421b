package failover

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/internal/reroute"
)

// RerouteStep points every configured client-facing address at the new
// primary, in parallel, each verified by describing it again.
type RerouteStep struct{ *Deps }

// Handle is the Lambda handler.
func (h *RerouteStep) Handle(ctx context.Context, s State) (*StepResult, error) {
	start := h.now()
	log := h.logger("reroute", s)
	if s.Promote == nil || !s.Promote.Done {
		return nil, &StepFailed{Step: "reroute", Err: errors.New("reroute refused: the new primary is not promoted")}
	}
	if s.Assessment == nil {
		return nil, &StepFailed{Step: "reroute", Err: errors.New("reroute needs an assessment naming the new primary")}
	}
	node, ok := h.Config.Node(s.Assessment.NewPrimary)
	if !ok {
		return nil, &StepFailed{Step: "reroute", Err: fmt.Errorf("node %q is not in the cluster config", s.Assessment.NewPrimary)}
	}
	if s.Lease == nil {
		return nil, &StepFailed{Step: "reroute", Err: errors.New("reroute runs only under an acquired failover lock")}
	}
	if _, err := h.Store.CheckLock(ctx, h.Config.Name, s.Execution, s.Lease.Epoch); err != nil {
		return nil, lockErr("reroute", err)
	}
	res, err := reroute.All(ctx, reroute.Clients{EC2: h.EC2, Route53: h.Route53}, h.Config, node,
		reroute.WithPollInterval(h.pollInterval()))
	var details []string
	for _, o := range res.Outcomes {
		if o.OK {
			details = append(details, o.Target+": ok")
		} else {
			details = append(details, o.Target+": "+o.Error)
		}
	}
	if err != nil {
		log.Error("reroute incomplete", "node", node.Name, "outcomes", details, "err", err)
		// The failure names every target, done or not: the report (and its
		// notice) then says where each one was left. A re-run converges
		// the rest and leaves the done ones alone (each target is skipped
		// when it already points at the node).
		return nil, classify("reroute", fmt.Errorf("%w (per target: %s)", err, strings.Join(details, "; ")))
	}
	log.Info("rerouted", "node", node.Name, "outcomes", details, "durationMs", res.DurationMs)
	return result(start, h.now(), fmt.Sprintf("clients routed to %s", node.Name), details...), nil
}
