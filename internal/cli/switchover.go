package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/failover"
)

// NewSwitchoverRequest builds and checks a planned switchover request the
// way Intake will: the cluster must be named; to "" hands over to the
// standby. A switchover is never forced.
func NewSwitchoverRequest(cluster, to, reason string) (ManualRequest, error) {
	req := ManualRequest{Action: failover.ActionSwitchover, Cluster: strings.TrimSpace(cluster),
		Target: strings.TrimSpace(to), Reason: strings.TrimSpace(reason)}
	switch {
	case req.Cluster == "":
		return req, fmt.Errorf("the cluster name is empty")
	case len(req.Reason) > MaxReasonLength:
		return req, fmt.Errorf("the reason is %d bytes long; at most %d are recorded", len(req.Reason), MaxReasonLength)
	}
	return req, nil
}

func newSwitchoverCommand(a *app) *cobra.Command {
	f := failoverFlags{action: failover.ActionSwitchover}
	cmd := &cobra.Command{
		Use:   "switchover --state-machine-arn ARN --cluster NAME [--to NODE] [--reason TEXT] [--wait] [--dry-run]",
		Short: "Hand the primary role to the standby on purpose, losing nothing",
		Long: "switchover starts the failover state machine with a planned request\n" +
			"{\"action\":\"switchover\",\"cluster\",\"target\",\"force\":false,\"reason\"}. The state machine\n" +
			"refuses unless the primary is healthy and the target is a streaming, caught-up\n" +
			"(synchronous: eligible) standby; the old primary stops cleanly, the target is\n" +
			"promoted once it has every WAL record, clients are rerouted, and the old primary's\n" +
			"agent rejoins it as the new standby. --wait follows the execution; the command then\n" +
			"exits 3 unless it succeeded.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runFailover(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.stateMachineARN, "state-machine-arn", "", "ARN of the failover state machine (required)")
	fl.StringVar(&f.cluster, "cluster", "", "cluster name, as in its configuration (required)")
	fl.StringVar(&f.target, "to", "", "node to hand the primary role to (default: the standby)")
	fl.StringVar(&f.reason, "reason", "", "why, recorded in the cluster history")
	fl.StringVar(&f.name, "name", "", "execution name (default: switchover-CLUSTER-TIMESTAMP)")
	fl.BoolVar(&f.wait, "wait", false, "wait for the execution to end, printing its timeline")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the request and what would be started; start nothing")
	fl.DurationVar(&f.pollInterval, "poll-interval", time.Second, "with --wait: how often to poll the execution")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Minute, "with --wait: stop waiting after this long (the execution goes on)")
	return cmd
}
