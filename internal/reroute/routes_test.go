package reroute

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
)

const (
	overlay = "10.99.0.10/32"
	eni1    = "eni-0node1"
	eni2    = "eni-0node2"
)

var (
	node1 = cluster.Node{Name: "node1", InstanceID: "i-0node1", NetworkInterfaceID: eni1, PrivateIP: "10.0.1.10"}
	node2 = cluster.Node{Name: "node2", InstanceID: "i-0node2", NetworkInterfaceID: eni2, PrivateIP: "10.0.2.10"}
	fast  = []Option{WithPollInterval(time.Millisecond), WithVerifyTimeout(300 * time.Millisecond), WithRetry(time.Millisecond, 5)}
)

func overlayCfg() cluster.OverlayIP {
	return cluster.OverlayIP{CIDR: overlay, VPCIDs: []string{"vpc-0app", "vpc-0peer"}}
}

// fakeNetwork has, in the target's VPC, four tables with the overlay route
// (one already on node2, one on a stale interface) and one without it; in
// the other configured VPC two tables that reach the overlay IP through a
// transit gateway; and a table in an unconfigured VPC.
func fakeNetwork() *fakeEC2 {
	f := newFakeEC2()
	f.enis[eni1] = fakeENI{vpc: "vpc-0app"}
	f.enis[eni2] = fakeENI{vpc: "vpc-0app"}
	f.enis["eni-0stale"] = fakeENI{vpc: "vpc-0app"}
	f.enis["eni-0other"] = fakeENI{vpc: "vpc-0other"}
	igw := fakeRoute{dest: "0.0.0.0/0", gateway: "igw-0main"}
	f.tables = []*fakeTable{
		{id: "rtb-0a1", vpc: "vpc-0app", routes: []fakeRoute{igw, {dest: overlay, eni: eni1}}},
		{id: "rtb-0a2", vpc: "vpc-0app", routes: []fakeRoute{{dest: overlay, eni: eni1}}},
		{id: "rtb-0a3", vpc: "vpc-0app", routes: []fakeRoute{igw}},
		{id: "rtb-0a4", vpc: "vpc-0app", routes: []fakeRoute{{dest: overlay, eni: eni2}}},
		{id: "rtb-0a5", vpc: "vpc-0app", routes: []fakeRoute{{dest: overlay, eni: "eni-0stale"}, {dest: "10.0.0.0/16", gateway: "pcx-0peer"}}},
		{id: "rtb-0p1", vpc: "vpc-0peer", routes: []fakeRoute{{dest: overlay, gateway: "tgw-0hub"}}},
		{id: "rtb-0p2", vpc: "vpc-0peer", routes: []fakeRoute{igw, {dest: overlay, gateway: "tgw-0hub"}}},
		{id: "rtb-0x1", vpc: "vpc-0other", routes: []fakeRoute{{dest: overlay, eni: "eni-0other"}}},
	}
	return f
}

func routeTo(f *fakeEC2, table, dest string) fakeRoute {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.table(table).routes {
		if r.dest == dest {
			return r
		}
	}
	return fakeRoute{}
}

func changedIDs(res RouteResult) []string {
	var ids []string
	for _, c := range res.Changed {
		ids = append(ids, c.RouteTableID)
	}
	return ids
}

func TestRouteTablesRewritesEveryMatchingTable(t *testing.T) {
	f := fakeNetwork()
	res, err := RouteTables(context.Background(), f, overlayCfg(), node2, fast...)
	if err != nil {
		t.Fatalf("RouteTables: %v", err)
	}
	if got, want := changedIDs(res), []string{"rtb-0a1", "rtb-0a2", "rtb-0a5"}; !slices.Equal(got, want) {
		t.Fatalf("changed %v, want %v", got, want)
	}
	if !slices.Equal(res.AlreadyCorrect, []string{"rtb-0a4"}) {
		t.Fatalf("already correct %v, want [rtb-0a4]", res.AlreadyCorrect)
	}
	if res.Changed[2].PreviousTarget != "eni-0stale" || res.Changed[0].PreviousTarget != eni1 {
		t.Fatalf("previous targets not reported: %+v", res.Changed)
	}
	if len(res.OtherVPC) != 2 || res.OtherVPC[0] != (ForeignRoute{RouteTableID: "rtb-0p1", VPCID: "vpc-0peer", Target: "tgw-0hub"}) {
		t.Fatalf("other-VPC tables %+v", res.OtherVPC)
	}
	for _, id := range []string{"rtb-0a1", "rtb-0a2", "rtb-0a4", "rtb-0a5"} {
		if r := routeTo(f, id, overlay); r.eni != eni2 {
			t.Errorf("%s: overlay route → %+v, want %s", id, r, eni2)
		}
	}
	// Everything else is untouched.
	for table, want := range map[string]fakeRoute{
		"rtb-0p1": {dest: overlay, gateway: "tgw-0hub"},
		"rtb-0x1": {dest: overlay, eni: "eni-0other"},
	} {
		if r := routeTo(f, table, overlay); r != want {
			t.Errorf("%s: overlay route changed to %+v", table, r)
		}
	}
	if r := routeTo(f, "rtb-0a1", "0.0.0.0/0"); r.gateway != "igw-0main" {
		t.Errorf("default route changed: %+v", r)
	}
	if r := routeTo(f, "rtb-0a5", "10.0.0.0/16"); r.gateway != "pcx-0peer" {
		t.Errorf("peering route changed: %+v", r)
	}
	if n := f.calls("ReplaceRoute"); n != 3 {
		t.Errorf("ReplaceRoute calls = %d, want 3", n)
	}

	// A retry converges without changing anything.
	res, err = RouteTables(context.Background(), f, overlayCfg(), node2, fast...)
	if err != nil || len(res.Changed) != 0 || len(res.AlreadyCorrect) != 4 || f.calls("ReplaceRoute") != 3 {
		t.Fatalf("retry: err %v, result %+v, ReplaceRoute calls %d", err, res, f.calls("ReplaceRoute"))
	}
}

func TestRouteTablesRefusesSourceDestCheck(t *testing.T) {
	f := fakeNetwork()
	f.enis[eni2] = fakeENI{vpc: "vpc-0app", sourceDestCheck: true}
	_, err := RouteTables(context.Background(), f, overlayCfg(), node2, fast...)
	var sd *ErrSourceDestCheck
	if !errors.As(err, &sd) || sd.NetworkInterfaceID != eni2 {
		t.Fatalf("err = %v, want *ErrSourceDestCheck", err)
	}
	if f.calls("ReplaceRoute") != 0 || f.calls("DescribeRouteTables") != 0 {
		t.Fatalf("calls after refusal: %v", f.log)
	}
	if r := routeTo(f, "rtb-0a1", overlay); r.eni != eni1 {
		t.Fatalf("route changed despite refusal: %+v", r)
	}
}

func TestRouteTablesNoTable(t *testing.T) {
	f := fakeNetwork()
	cfg := cluster.OverlayIP{CIDR: "10.99.0.99/32", VPCIDs: []string{"vpc-0app"}}
	_, err := RouteTables(context.Background(), f, cfg, node2, fast...)
	var nt *ErrNoRouteTables
	if !errors.As(err, &nt) || nt.CIDR != "10.99.0.99/32" || nt.TargetVPC != "vpc-0app" {
		t.Fatalf("err = %v, want *ErrNoRouteTables", err)
	}
	// Only tables of other VPCs: nothing can point at the target.
	cfg = cluster.OverlayIP{CIDR: overlay, VPCIDs: []string{"vpc-0peer"}}
	_, err = RouteTables(context.Background(), f, cfg, node2, fast...)
	if !errors.As(err, &nt) || !strings.Contains(err.Error(), "not among the configured VPCs") {
		t.Fatalf("err = %v, want *ErrNoRouteTables about the target's VPC", err)
	}
	if f.calls("ReplaceRoute") != 0 {
		t.Fatal("ReplaceRoute called although there was nothing to change")
	}
}

func TestRouteTablesRetriesThrottling(t *testing.T) {
	f := fakeNetwork()
	throttle := apiErr("RequestLimitExceeded")
	f.failNext["ReplaceRoute"] = []error{throttle, throttle, throttle, throttle}
	f.failNext["DescribeRouteTables"] = []error{throttle}
	res, err := RouteTables(context.Background(), f, overlayCfg(), node2, fast...)
	if err != nil {
		t.Fatalf("RouteTables under throttling: %v", err)
	}
	if len(res.Changed) != 3 || f.calls("ReplaceRoute") != 7 {
		t.Fatalf("changed %v after %d ReplaceRoute calls, want 3 after 7", changedIDs(res), f.calls("ReplaceRoute"))
	}
}

func TestRouteTablesGivesUpOnEndlessThrottling(t *testing.T) {
	f := fakeNetwork()
	for range 100 {
		f.failNext["ReplaceRoute"] = append(f.failNext["ReplaceRoute"], apiErr("RequestLimitExceeded"))
	}
	_, err := RouteTables(context.Background(), f, overlayCfg(), node2, WithRetry(time.Millisecond, 3), WithPollInterval(time.Millisecond))
	if err == nil {
		t.Fatal("endless throttling succeeded")
	}
	if n := f.calls("ReplaceRoute"); n != 3*3 {
		t.Fatalf("ReplaceRoute calls = %d, want 3 attempts for each of 3 tables", n)
	}
}

func TestRouteTablesBoundsConcurrency(t *testing.T) {
	f := fakeNetwork()
	f.gate = make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := RouteTables(context.Background(), f, overlayCfg(), node2, append(fast, WithConcurrency(2))...)
		done <- err
	}()
	for released := 0; released < 3; released++ {
		waitFor(t, func() bool {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.inFlight == min(2, 3-released)
		})
		f.gate <- struct{}{}
	}
	if err := <-done; err != nil {
		t.Fatalf("RouteTables: %v", err)
	}
	if f.maxInFlight != 2 {
		t.Fatalf("max ReplaceRoute calls in flight = %d, want 2", f.maxInFlight)
	}
}

func TestRouteTablesPartialFailureNamesTheTable(t *testing.T) {
	f := fakeNetwork()
	f.failTable["rtb-0a2"] = apiErr("UnauthorizedOperation")
	res, err := RouteTables(context.Background(), f, overlayCfg(), node2, fast...)
	if err == nil || !strings.Contains(err.Error(), "rtb-0a2") {
		t.Fatalf("err = %v, want one naming rtb-0a2", err)
	}
	if got := changedIDs(res); !slices.Equal(got, []string{"rtb-0a1", "rtb-0a5"}) {
		t.Fatalf("changed %v", got)
	}
}

func TestRouteTablesNotObserved(t *testing.T) {
	f := fakeNetwork()
	f.ignoreReplace = true
	_, err := RouteTables(context.Background(), f, overlayCfg(), node2, fast...)
	var nc *ErrNotConverged
	if !errors.As(err, &nc) || nc.Target != TargetOverlayIP || !strings.Contains(nc.Detail, "rtb-0a1→"+eni1) {
		t.Fatalf("err = %v, want *ErrNotConverged naming rtb-0a1", err)
	}
}

// waitFor polls cond until it holds, failing after a generous deadline
// (a loaded CI machine must not turn it into a flake).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15s")
		}
		time.Sleep(time.Millisecond)
	}
}
