package reroute

import (
	"context"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
)

// FoundRoute is a route table holding the overlay route, as discovery
// reports it.
type FoundRoute struct {
	RouteTableID string `json:"routeTableId"`
	VPCID        string `json:"vpcId"`
	// Target is what the route points at (an ENI, a gateway, …).
	Target string `json:"target"`
}

// FindOverlayRoutes lists, over all pages, the route tables of o.VPCIDs
// (only o.RouteTableIDs when given) with a route for o.CIDR: the tables
// Reroute would change. Read-only.
func FindOverlayRoutes(ctx context.Context, api awsapi.EC2Reader, o cluster.OverlayIP) ([]FoundRoute, error) {
	routes, err := overlayRoutes(ctx, api, o)
	if err != nil {
		return nil, err
	}
	out := make([]FoundRoute, 0, len(routes))
	for _, r := range routes {
		out = append(out, FoundRoute{RouteTableID: r.tableID, VPCID: r.vpcID, Target: r.target})
	}
	return out, nil
}
