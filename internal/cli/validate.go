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
	lambdaGroups  []string
	connect       bool
}

// ChecksFailedError is validate's verdict when a prerequisite is missing.
type ChecksFailedError struct{ Failed, Total int }

func (e *ChecksFailedError) Error() string {
	return fmt.Sprintf("%d of %d checks failed: fix them before relying on a failover", e.Failed, e.Total)
}

func newValidateCommand(a *app) *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate --config FILE [--lambda-subnets ID,ID] [--lambda-security-groups ID,ID] [--connect]",
		Short: "Check a cluster's prerequisites against the account (read-only)",
		Long: "validate reads the account the cluster runs in (describe calls only; AWS, or the\n" +
			"local stack with --endpoint-url) and checks what a failover needs: each node's\n" +
			"instance and network interface (source/destination check off with an overlay IP),\n" +
			"the overlay address outside every VPC CIDR and routed to a node, the Elastic IP\n" +
			"allocation, each DNS record's hosted zone (a private one associated with the client\n" +
			"VPCs) and the record with the configured TTL.\n\n" +
			"With --lambda-subnets: that each subnet reaches the AWS APIs the in-VPC Lambdas call\n" +
			"(EC2, CloudWatch, DynamoDB, Secrets Manager) through a NAT gateway or VPC endpoints\n" +
			"that admit the Lambdas, and Route 53 through a NAT when routing.dns is set (Route 53\n" +
			"has no VPC endpoint). With --lambda-security-groups: that each node's security groups\n" +
			"admit the Lambdas on its PostgreSQL port and the Lambdas' groups let them out.\n\n" +
			"With --connect: reads the database secret and logs in to each node's PostgreSQL,\n" +
			"reporting its version and whether it is in recovery. This opens connections from\n" +
			"where validate runs, so it only works from inside the VPC or through a tunnel.\n\n" +
			"It prints what is wrong and the fix, and exits 1 when a check failed. (The template\n" +
			"and state machine are checked offline by switchyard-dev validate.)",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runValidate(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configPath, "config", "", "cluster configuration file, as the agents and Lambdas use (required)")
	fl.StringSliceVar(&f.lambdaSubnets, "lambda-subnets", nil, "the template's LambdaSubnetIds, to check their routes and VPC endpoints")
	fl.StringSliceVar(&f.lambdaGroups, "lambda-security-groups", nil, "the template's LambdaSecurityGroupIds, to check they reach PostgreSQL")
	fl.BoolVar(&f.connect, "connect", false, "log in to each node's PostgreSQL with the database secret (connects from where validate runs)")
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
	for _, g := range f.lambdaGroups {
		if !strings.HasPrefix(g, "sg-") {
			return usageErrorf("--lambda-security-groups: %q is not a security group id (sg-…)", g)
		}
	}
	clients, err := a.clientsIn(ctx, "")
	if err != nil {
		return err
	}
	checks := preflight.Run(ctx, preflight.Clients{EC2: clients.EC2, Route53: clients.Route53, Secrets: clients.Secrets, Region: clients.Config.Region}, cfg,
		preflight.Options{LambdaSubnets: f.lambdaSubnets, LambdaSecurityGroups: f.lambdaGroups, Connect: f.connect})
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
