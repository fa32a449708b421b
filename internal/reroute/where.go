package reroute

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
)

// Pointing is where one client-facing target sends clients, read without
// changing anything.
type Pointing struct {
	Target string `json:"target"` // TargetOverlayIP, TargetElasticIP or TargetDNS
	// What names the route table, address or record.
	What string `json:"what"`
	// Node is the cluster node it points at; "" when it points at neither
	// (another target, nothing) or could not be read.
	Node string `json:"node"`
	// Raw is what it points at as AWS says it (an ENI, an IP).
	Raw   string `json:"raw,omitempty"`
	Error string `json:"error,omitempty"`
	// Drift says what is wrong with the target itself, wherever it
	// points: a listed route table without the overlay route (lost), or
	// one not listed with it (gained).
	Drift string `json:"drift,omitempty"`
}

// ReadClients are the read-only clients Where needs: holding them, it
// cannot change a route, an address or a record, by type.
type ReadClients struct {
	EC2     awsapi.EC2Reader
	Route53 awsall.Route53Reader
}

// Where reads every configured client-facing target: each overlay route
// table, the Elastic IP and each DNS record. It only describes.
func Where(ctx context.Context, clients ReadClients, cfg *cluster.Config) []Pointing {
	var out []Pointing
	r := cfg.Routing
	nodeBy := func(match func(cluster.Node) bool) string {
		for _, n := range cfg.Nodes {
			if match(n) {
				return n.Name
			}
		}
		return ""
	}
	if o := r.OverlayIP; o != nil {
		all := *o
		all.RouteTableIDs = nil // every table with the route, listed or not
		routes, err := overlayRoutes(ctx, clients.EC2, all)
		if err != nil {
			out = append(out, Pointing{Target: TargetOverlayIP, What: o.CIDR, Error: err.Error()})
		}
		seen := map[string]bool{}
		for _, rt := range routes {
			p := Pointing{Target: TargetOverlayIP, What: rt.tableID + " " + o.CIDR, Raw: rt.target,
				Node: nodeBy(func(n cluster.Node) bool { return rt.eni != "" && n.NetworkInterfaceID == rt.eni })}
			seen[rt.tableID] = true
			if len(o.RouteTableIDs) > 0 && !slices.Contains(o.RouteTableIDs, rt.tableID) {
				p.Drift = "has the overlay route but is not in routing.overlayIp.routeTableIds (gained)"
			}
			out = append(out, p)
		}
		for _, id := range o.RouteTableIDs {
			if !seen[id] && err == nil {
				out = append(out, Pointing{Target: TargetOverlayIP, What: id + " " + o.CIDR,
					Drift: "has no route to " + o.CIDR + " (lost): clients of its subnets cannot reach the overlay IP"})
			}
		}
	}
	if e := r.ElasticIP; e != nil {
		p := Pointing{Target: TargetElasticIP, What: e.AllocationID}
		if a, err := describeAddress(ctx, clients.EC2, e.AllocationID); err != nil {
			p.Error = err.Error()
		} else {
			p.Raw = aws.ToString(a.NetworkInterfaceId)
			p.Node = nodeBy(func(n cluster.Node) bool { return associatedWith(a, n) })
		}
		out = append(out, p)
	}
	for _, d := range r.DNS {
		p := Pointing{Target: TargetDNS, What: d.Name}
		if clients.Route53 == nil {
			p.Error = "no Route 53 client"
		} else if values, _, err := lookupA(ctx, clients.Route53, d.HostedZoneID, d.Name); err != nil {
			p.Error = err.Error()
		} else {
			p.Raw = strings.Join(values, ",")
			p.Node = nodeBy(func(n cluster.Node) bool { return len(values) == 1 && values[0] == n.PrivateIP })
		}
		out = append(out, p)
	}
	return out
}

// String is one line of evidence.
func (p Pointing) String() string {
	switch {
	case p.Drift != "":
		return fmt.Sprintf("%s %s %s", p.Target, p.What, p.Drift)
	case p.Error != "":
		return fmt.Sprintf("%s %s: could not be read: %s", p.Target, p.What, p.Error)
	case p.Node == "":
		return fmt.Sprintf("%s %s points at %q, which is neither node", p.Target, p.What, p.Raw)
	default:
		return fmt.Sprintf("%s %s points at %s", p.Target, p.What, p.Node)
	}
}
