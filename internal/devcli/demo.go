package devcli

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/demo"
	"github.com/switchyard/switchyard/internal/localstack"
)

// newDemoCommand runs a real failover on the embedded local stack.
func newDemoCommand(env cli.Env) *cobra.Command {
	a := &tool{env: env}
	var async, verbose bool
	var fault, path, scenario string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a real failover on the embedded local stack and print its timeline",
		Long: `demo starts the local stack (AWS emulator, state machine interpreter, data plane),
a PostgreSQL pair with synchronous replication, one node agent per node, and the
alarms, EventBridge rules and state machine from template.yaml. A client writes
through the overlay IP (--scenario routetable, the default; eip: the Elastic IP;
route53: the DNS name, its answer cached for the record's TTL as resolvers do;
all: one client through each at once) while the primary fails (--fault crash: its PostgreSQL and
agent are killed; --fault blackhole: its node goes silent) or hands over on purpose
(--fault switchover: a planned switchover to node2). The standby's agent detects a
loss and starts the failover (--path fast, the default; --path alarm leaves
detection to the CloudWatch alarms). The run is printed as a timeline, then the
time to recovery (for a switchover: the write-unavailable window), the
acknowledged writes, how many of them the new primary is missing (must be 0) and
how long both nodes were writable (must be 0).
Exits non-zero if anything went wrong. Run it from the Switchyard checkout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := demo.Options{Out: a.env.Stdout(), Stack: localstack.Options{Async: async}, Fault: fault, Path: path, Scenario: scenario}
			if verbose {
				opts.Stack.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
			}
			res, err := demo.Run(cmd.Context(), opts)
			if err != nil {
				return fmt.Errorf("demo failed: %w", err)
			}
			fmt.Fprintf(a.env.Stdout(), "demo passed: %s took over in %s with no acknowledged write lost\n", res.NewPrimary, res.Unavailable().Round(1e6))
			return nil
		},
	}
	cmd.Flags().BoolVar(&async, "async", false, "use asynchronous replication (acknowledged writes may then be lost, within the promotion lag limit)")
	cmd.Flags().StringVar(&fault, "fault", demo.FaultCrash, "what happens to the primary: crash, blackhole or switchover")
	cmd.Flags().StringVar(&path, "path", demo.PathFast, "what starts the failover: fast (the standby's detector) or alarm (the CloudWatch alarms alone)")
	cmd.Flags().StringVar(&scenario, "scenario", localstack.ScenarioRouteTable, "the client-facing address the client writes through: routetable, eip, route53 or all")
	cmd.Flags().BoolVar(&verbose, "verbose", false, "print the stack's and the functions' structured logs to stderr")
	return cmd
}
