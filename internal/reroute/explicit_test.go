package reroute_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/reroute"
)

// Route tables given explicitly: Reroute changes only those, and Where
// reports a listed table without the overlay route (lost) and a table of
// the VPCs with the route that is not listed (gained).
func TestExplicitRouteTables(t *testing.T) {
	l := newLocal(t)
	o := overlayConfig()
	const missing = "rtb-0aaa0000000000099" // listed, has no overlay route
	o.RouteTableIDs = []string{rtbA1, rtbC1, missing}
	res, err := reroute.RouteTables(testCtx(t), l.clients.EC2, o, localNode2, localOpts...)
	if err != nil {
		t.Fatalf("RouteTables: %v", err)
	}
	if got := changedIDs(res); !slices.Equal(got, []string{rtbA1, rtbC1}) {
		t.Fatalf("changed %v, want only the listed tables %s and %s", got, rtbA1, rtbC1)
	}
	cfg := &cluster.Config{Nodes: []cluster.Node{localNode1, localNode2}, Routing: cluster.Routing{OverlayIP: &o}}
	where := reroute.Where(context.Background(), reroute.ReadClients{EC2: l.clients.EC2, Route53: l.clients.Route53}, cfg)
	drift := map[string]string{}
	for _, p := range where {
		table, _, _ := strings.Cut(p.What, " ")
		drift[table] = p.Drift
	}
	if drift[rtbA1] != "" || drift[rtbC1] != "" {
		t.Errorf("listed tables with the route drift: %v", drift)
	}
	if !strings.Contains(drift[missing], "(lost)") {
		t.Errorf("listed table without the route: %q, want lost", drift[missing])
	}
	for _, gained := range []string{rtbE1, rtbF1, rtbF2} {
		if !strings.Contains(drift[gained], "(gained)") {
			t.Errorf("unlisted table %s with the route: %q, want gained", gained, drift[gained])
		}
	}
}
