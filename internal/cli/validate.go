package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/preflight"
)

type validateFlags struct {
	configPath    string
	lambdaSubnets []string
}

// ChecksFailedError is validate's verdict when a prerequisite is missing.
type ChecksFailedError struct{ Failed, Total int }

func (e *ChecksFailedError) Error() string {
	return fmt.Sprintf("%d of %d checks failed: fix them before relying on a failover", e.Failed, e.Total)
}

func newValidateCommand(a *app) *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate --config FILE [--lambda-subnets ID,ID]",
		Short: "Check a cluster's prerequisites against the account (read-only)",
		Long: "validate reads the account the cluster runs in (describe calls only; AWS, or the\n" +
			"local stack with --endpoint-url) and checks what a failover needs: each node's\n" +
			"instance and network interface (source/destination check off with an overlay IP),\n" +
			"the overlay address outside every VPC CIDR and routed to a node, the Elastic IP\n" +
			"allocation, each DNS record's hosted zone (a private one associated with the client\n" +
			"VPCs) and the record with the configured TTL, and with --lambda-subnets that the\n" +
			"Lambdas' subnets have a NAT route (Route 53 has no interface endpoint). It prints\n" +
			"what is wrong and the fix, and exits 1 when a check failed. (The template and state\n" +
			"machine are checked offline by switchyard-dev validate.)",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runValidate(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configPath, "config", "", "cluster configuration file, as the agents and Lambdas use (required)")
	fl.StringSliceVar(&f.lambdaSubnets, "lambda-subnets", nil, "the template's LambdaSubnetIds, to check their routes")
	return cmd
}

func (a *app) runValidate(ctx context.Context, f validateFlags) error {
	if f.configPath == "" {
		return usageErrorf("--config is required: the cluster configuration file")
	}
	cfg, err := cluster.Load(f.configPath)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--config: %w", err)}
	}
	for _, sn := range f.lambdaSubnets {
		if !strings.HasPrefix(sn, "subnet-") {
			return usageErrorf("--lambda-subnets: %q is not a subnet id (subnet-…)", sn)
		}
	}
	clients, err := a.clientsIn(ctx, "")
	if err != nil {
		return err
	}
	checks := preflight.Run(ctx, preflight.Clients{EC2: clients.EC2, Route53: clients.Route53}, cfg,
		preflight.Options{LambdaSubnets: f.lambdaSubnets})
	if a.jsonOutput() {
		if err := writeJSON(a.stdout, struct {
			Cluster string            `json:"cluster"`
			Checks  []preflight.Check `json:"checks"`
		}{cfg.Name, checks}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		for _, c := range checks {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Status, c.Name, oneLine(c.Detail))
			if c.Fix != "" {
				fmt.Fprintf(tw, "\t\tfix: %s\n", oneLine(c.Fix))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if n := preflight.Failed(checks); n > 0 {
		return &ChecksFailedError{Failed: n, Total: len(checks)}
	}
	return nil
}
