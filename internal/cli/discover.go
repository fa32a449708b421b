package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/discover"
)

type discoverFlags struct {
	cluster     string
	tags        []string
	nodeTagKey  string
	eniTags     []string
	primary     string
	overlayCIDR string
	port        int
}

func newDiscoverCommand(a *app) *cobra.Command {
	var f discoverFlags
	cmd := &cobra.Command{
		Use:   "discover --cluster NAME [--tag K=V]... [--overlay-cidr CIDR] [--primary NODE]",
		Short: "Find a cluster's instances, interfaces and route tables by tag (read-only)",
		Long: "discover finds the cluster's two instances by tag (default switchyard:cluster=<name>;\n" +
			"exactly two live ones must match), names each node from its switchyard:node tag, takes\n" +
			"each node's interface by --eni-tag or else the instance's primary interface, and with\n" +
			"--overlay-cidr lists the route tables of the nodes' VPCs that hold the overlay route\n" +
			"(the tables a failover rewrites). It prints what it found, the template parameters\n" +
			"for sam deploy --parameter-overrides and the configuration's \"nodes\". Discovery is\n" +
			"done once, at set-up: the deployed stack names the instances by id, so a failover\n" +
			"never force-stops an instance merely because it carries a tag. Describe calls only.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDiscover(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "", "cluster name: selects instances tagged "+discover.DefaultClusterTagKey+"=NAME unless --tag is given")
	fl.StringArrayVar(&f.tags, "tag", nil, "KEY=VALUE every instance of the cluster carries (repeatable; replaces the default)")
	fl.StringVar(&f.nodeTagKey, "node-tag-key", discover.DefaultNodeTagKey, "tag whose value names each node")
	fl.StringArrayVar(&f.eniTags, "eni-tag", nil, "KEY=VALUE selecting each node's interface among those attached to it (repeatable; default: the primary interface)")
	fl.StringVar(&f.primary, "primary", "", "node that is the primary now: listed first, as the template's Node1 (default: the first by name)")
	fl.StringVar(&f.overlayCIDR, "overlay-cidr", "", "overlay address (IPv4 /32): also list the route tables holding its route")
	fl.IntVar(&f.port, "port", 5432, "PostgreSQL port on both nodes, for the configuration's postgresAddr")
	return cmd
}

func (f discoverFlags) query() (discover.Query, error) {
	q := discover.Query{Tags: map[string]string{}, NodeTagKey: f.nodeTagKey, Primary: f.primary, OverlayCIDR: f.overlayCIDR}
	for _, t := range f.tags {
		k, v, err := discover.ParseTag(t)
		if err != nil {
			return q, usageErrorf("--tag: %v", err)
		}
		q.Tags[k] = v
	}
	if len(q.Tags) == 0 {
		if f.cluster == "" {
			return q, usageErrorf("--cluster or --tag is required: which instances form the cluster")
		}
		q.Tags[discover.DefaultClusterTagKey] = f.cluster
	}
	for _, t := range f.eniTags {
		k, v, err := discover.ParseTag(t)
		if err != nil {
			return q, usageErrorf("--eni-tag: %v", err)
		}
		if q.ENITags == nil {
			q.ENITags = map[string]string{}
		}
		q.ENITags[k] = v
	}
	if q.NodeTagKey == "" {
		return q, usageErrorf("--node-tag-key is empty")
	}
	if f.overlayCIDR != "" {
		if p, err := netip.ParsePrefix(f.overlayCIDR); err != nil || !p.Addr().Is4() || p.Bits() != 32 {
			return q, usageErrorf("--overlay-cidr %q is not an IPv4 /32", f.overlayCIDR)
		}
	}
	if f.port < 1 || f.port > 65535 {
		return q, usageErrorf("--port %d is not a TCP port", f.port)
	}
	return q, nil
}

func (a *app) runDiscover(ctx context.Context, f discoverFlags) error {
	q, err := f.query()
	if err != nil {
		return err
	}
	clients, err := a.clientsIn(ctx, "")
	if err != nil {
		return err
	}
	res, err := discover.Find(ctx, clients.EC2, q)
	if err != nil {
		return err
	}
	nodes := res.ConfigNodes(f.port)
	if a.jsonOutput() {
		return writeJSON(a.stdout, struct {
			discover.Result
			Parameters  []discover.Parameter `json:"parameters"`
			ConfigNodes []cluster.Node       `json:"configNodes"`
		}{res, res.Parameters(), nodes})
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tINSTANCE\tSTATE\tAZ\tVPC\tINTERFACE\tFOUND BY\tPRIVATE IP")
	for _, n := range res.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.InstanceID, n.State, n.AvailabilityZone, n.VPCID, n.NetworkInterfaceID, n.ENIFoundBy, n.PrivateIP)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.OverlayCIDR != "" {
		fmt.Fprintf(a.stdout, "\nroute tables with %s (found by destination in %v):\n", res.OverlayCIDR, res.OverlayVPCIDs)
		if len(res.RouteTables) == 0 {
			fmt.Fprintln(a.stdout, "  none: add the route to each client route table before deploying")
		}
		for _, rt := range res.RouteTables {
			fmt.Fprintf(a.stdout, "  %s  %s  → %s\n", rt.RouteTableID, rt.VPCID, rt.Target)
		}
	}
	fmt.Fprintf(a.stdout, "\nsam deploy --parameter-overrides (Node1 must be the primary now; --primary changes it):\n  %s\n", res.ParameterOverrides())
	out, err := json.MarshalIndent(map[string]any{"nodes": nodes}, "  ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "\ncluster configuration:\n  %s\n", out)
	return err
}
