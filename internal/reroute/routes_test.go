package reroute_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/backoff"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/reroute"
)

func changedIDs(res reroute.RouteResult) []string {
	var ids []string
	for _, c := range res.Changed {
		ids = append(ids, c.RouteTableID)
	}
	return ids
}

// recv waits for a value on ch, failing when the test's context ends first.
func recv[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
	}
	var zero T
	return zero
}

func TestRouteTablesRewritesEveryMatchingTable(t *testing.T) {
	l := newLocal(t)
	l.wantRoutes(t, localENI1, rtbF1, rtbF2)
	res, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	if err != nil {
		t.Fatalf("RouteTables: %v", err)
	}
	// Every table of the app VPC with the overlay route now points at
	// node2; every other route, of every table, is as seeded.
	l.wantRoutes(t, localENI2)
	if got, want := changedIDs(res), []string{rtbA1, rtbC1, rtbE1, rtbF2}; !slices.Equal(got, want) {
		t.Fatalf("changed %v, want %v", got, want)
	}
	for _, c := range res.Changed {
		want := localENI1
		if c.RouteTableID == rtbF2 {
			want = staleENI
		}
		if c.PreviousTarget != want || c.VPCID != appVPC {
			t.Errorf("change %+v: want previous target %s in %s", c, want, appVPC)
		}
	}
	if !slices.Equal(res.AlreadyCorrect, []string{rtbF1}) {
		t.Errorf("already correct %v, want [%s]", res.AlreadyCorrect, rtbF1)
	}
	want := []reroute.ForeignRoute{
		{RouteTableID: "rtb-0bbb00000000000a1", VPCID: hubVPC, Target: "vgw-0bbb0000000000001"},
		{RouteTableID: "rtb-0bbb00000000000a2", VPCID: hubVPC, Target: "eni-0bbb0000000000011"},
	}
	if !slices.Equal(res.OtherVPC, want) {
		t.Errorf("other-VPC tables %+v, want %+v", res.OtherVPC, want)
	}
	if n := l.count("ReplaceRoute", "*"); n != 4 {
		t.Errorf("ReplaceRoute calls = %d, want 4", n)
	}

	// A retry converges without changing anything.
	l.srv.ResetCalls()
	res, err = reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	if err != nil || len(res.Changed) != 0 || len(res.AlreadyCorrect) != 5 || l.count("ReplaceRoute", "*") != 0 {
		t.Fatalf("retry: err %v, result %+v, ReplaceRoute calls %d", err, res, l.count("ReplaceRoute", "*"))
	}
}

func TestRouteTablesRefusesSourceDestCheck(t *testing.T) {
	l := newLocal(t, withTopology(func(topo *localaws.Topology) {
		for i := range topo.NetworkInterfaces {
			if topo.NetworkInterfaces[i].ID == localENI2 {
				topo.NetworkInterfaces[i].SourceDestCheck = true
			}
		}
	}))
	_, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	var sd *reroute.ErrSourceDestCheck
	if !errors.As(err, &sd) || sd.NetworkInterfaceID != localENI2 {
		t.Fatalf("err = %v, want *ErrSourceDestCheck", err)
	}
	l.wantRoutes(t, localENI1, rtbF1, rtbF2)
	for _, c := range l.srv.Calls() {
		if c.Operation != "DescribeNetworkInterfaces" {
			t.Errorf("refusal made a %s call", c.Operation)
		}
	}
}

func TestRouteTablesNoTable(t *testing.T) {
	l := newLocal(t)
	cfg := cluster.OverlayIP{CIDR: "10.1.0.99/32", VPCIDs: []string{appVPC}}
	_, err := reroute.RouteTables(testCtx(t), l.clients.EC2, cfg, localNode2, localOpts...)
	var nt *reroute.ErrNoRouteTables
	if !errors.As(err, &nt) || nt.CIDR != "10.1.0.99/32" || nt.TargetVPC != appVPC {
		t.Fatalf("err = %v, want *ErrNoRouteTables", err)
	}
	// Only tables of other VPCs: nothing can point at the target.
	cfg = cluster.OverlayIP{CIDR: overlayIP, VPCIDs: []string{hubVPC, otherVPC}}
	_, err = reroute.RouteTables(testCtx(t), l.clients.EC2, cfg, localNode2, localOpts...)
	if !errors.As(err, &nt) || !strings.Contains(err.Error(), "not among the configured VPCs") {
		t.Fatalf("err = %v, want *ErrNoRouteTables about the target's VPC", err)
	}
	if n := l.count("ReplaceRoute", "*"); n != 0 {
		t.Fatalf("%d ReplaceRoute calls although there was nothing to change", n)
	}
	l.wantRoutes(t, localENI1, rtbF1, rtbF2)
}

// Reroute's own retries, without the SDK's: every throttled call is
// retried, so the calls are the four replacements plus the four throttled.
func TestRouteTablesRetriesThrottling(t *testing.T) {
	l := newLocal(t, withoutSDKRetries())
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "ReplaceRoute", FailNext: 4, Error: throttle})
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "DescribeRouteTables", FailNext: 1, Error: throttle})
	res, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	if err != nil {
		t.Fatalf("RouteTables under throttling: %v", err)
	}
	if len(res.Changed) != 4 || l.count("ReplaceRoute", "*") != 8 || l.count("ReplaceRoute", "RequestLimitExceeded") != 4 {
		t.Fatalf("changed %v after %d ReplaceRoute calls (%d throttled), want 4 after 8 (4)", changedIDs(res),
			l.count("ReplaceRoute", "*"), l.count("ReplaceRoute", "RequestLimitExceeded"))
	}
	if n := l.count("DescribeRouteTables", "RequestLimitExceeded"); n != 1 {
		t.Fatalf("%d DescribeRouteTables calls throttled, want the 1 injected", n)
	}
	l.wantRoutes(t, localENI2)
}

// The SDK's retries and reroute's stack: more failures than the SDK's
// three attempts for each of the four calls can absorb, and only the extra
// retry gets through.
func TestRouteTablesThrottledBeyondTheSDK(t *testing.T) {
	l := newLocal(t)
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "ReplaceRoute", FailNext: 12, Error: throttle})
	if _, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...); err != nil {
		t.Fatalf("RouteTables under throttling: %v", err)
	}
	l.wantRoutes(t, localENI2)
	if n := l.count("ReplaceRoute", "RequestLimitExceeded"); n != 12 {
		t.Fatalf("%d ReplaceRoute calls throttled, want the 12 injected", n)
	}
}

func TestRouteTablesGivesUpOnEndlessThrottling(t *testing.T) {
	l := newLocal(t, withoutSDKRetries())
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "ReplaceRoute", ErrorRate: 1, Error: throttle})
	_, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2,
		reroute.WithRetry(time.Millisecond, 3), reroute.WithPollInterval(time.Millisecond))
	if err == nil {
		t.Fatal("endless throttling succeeded")
	}
	// Still throttling: the failover step retries it as transient.
	if !awsapi.IsThrottle(err) {
		t.Errorf("err = %v, want one that is throttling", err)
	}
	if n := l.count("ReplaceRoute", "*"); n != 3*4 {
		t.Fatalf("ReplaceRoute calls = %d, want 3 attempts for each of 4 tables", n)
	}
	l.wantRoutes(t, localENI1, rtbF1, rtbF2)
}

func TestRouteTablesBoundsConcurrency(t *testing.T) {
	l := newLocal(t, withoutSDKRetries())
	ctx := testCtx(t)
	var (
		mu                    sync.Mutex
		inFlight, maxInFlight int
		arrived               = make(chan struct{})
		gate                  = make(chan struct{})
	)
	// Each ReplaceRoute is held on the wire until the test lets it go.
	l.setTap(func(action string, _ url.Values, serve func()) {
		if action != "ReplaceRoute" {
			serve()
			return
		}
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		select { // the test's context ends when it fails: never block the server then
		case arrived <- struct{}{}:
		case <-ctx.Done():
		}
		select {
		case <-gate:
		case <-ctx.Done():
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		serve()
	})
	done := make(chan error, 1)
	go func() {
		_, err := reroute.RouteTables(ctx, l.clients.EC2, overlayConfig(), localNode2, append(localOpts, reroute.WithConcurrency(2))...)
		done <- err
	}()
	const tables = 4
	for range 2 {
		recv(t, ctx, arrived, "a ReplaceRoute call")
	}
	// A call beyond the bound would arrive now. Its absence can only be
	// seen over a while: the window bounds how sensitive the check is, not
	// whether a correct run passes.
	select {
	case <-arrived:
		t.Fatal("a third ReplaceRoute call arrived while two were held: concurrency is not bounded")
	case <-time.After(200 * time.Millisecond):
	}
	mu.Lock()
	if inFlight != 2 {
		t.Errorf("%d ReplaceRoute calls in flight, want 2", inFlight)
	}
	mu.Unlock()
	for released := range tables {
		select {
		case gate <- struct{}{}:
		case <-ctx.Done():
			t.Fatalf("releasing a ReplaceRoute call: %v", ctx.Err())
		}
		if released+2 < tables {
			recv(t, ctx, arrived, "the next ReplaceRoute call")
		}
	}
	if err := recv(t, ctx, done, "RouteTables"); err != nil {
		t.Fatalf("RouteTables: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if maxInFlight != 2 {
		t.Fatalf("max ReplaceRoute calls in flight = %d, want 2", maxInFlight)
	}
	l.wantRoutes(t, localENI2)
}

// A route deleted between DescribeRouteTables and ReplaceRoute: EC2 answers
// InvalidParameterValue. RouteTables names the table (*ErrRouteGone),
// does not retry or recreate it, and still reroutes the other tables; a
// later run no longer sees the table and converges.
func TestRouteTablesRouteGoneNamesTheTable(t *testing.T) {
	l := newLocal(t)
	l.setTap(func(action string, form url.Values, serve func()) {
		if action == "ReplaceRoute" && form.Get("RouteTableId") == rtbC1 {
			if err := l.ec2.RemoveRoute(rtbC1, overlayIP); err != nil {
				t.Errorf("removing the route: %v", err)
			}
		}
		serve()
	})
	res, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	if err == nil || !strings.Contains(err.Error(), rtbC1) {
		t.Fatalf("err = %v, want one naming %s", err, rtbC1)
	}
	var gone *reroute.ErrRouteGone
	if !errors.As(err, &gone) || gone.RouteTableID != rtbC1 || gone.CIDR != overlayIP {
		t.Fatalf("err = %v, want *ErrRouteGone for %s", err, rtbC1)
	}
	if awsapi.ErrorCode(err) != "InvalidParameterValue" || backoff.Transient(err) {
		t.Errorf("err = %v: want EC2's InvalidParameterValue underneath, not transient", err)
	}
	if n := l.count("ReplaceRoute", "InvalidParameterValue"); n != 1 {
		t.Errorf("%d ReplaceRoute calls answered InvalidParameterValue, want 1 (no retry)", n)
	}
	if got := changedIDs(res); !slices.Equal(got, []string{rtbA1, rtbE1, rtbF2}) {
		t.Fatalf("changed %v", got)
	}
	if _, ok := l.ec2.RouteTarget(rtbC1, overlayIP); ok {
		t.Fatalf("%s has an overlay route again: rerouting must not create routes", rtbC1)
	}
	for _, id := range []string{rtbA1, rtbE1, rtbF1, rtbF2} {
		if got, _ := l.ec2.RouteTarget(id, overlayIP); got != localENI2 {
			t.Errorf("%s: overlay route → %s, want %s", id, got, localENI2)
		}
	}

	l.setTap(nil)
	res, err = reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	if err != nil || len(res.Changed) != 0 || !slices.Equal(res.AlreadyCorrect, []string{rtbA1, rtbE1, rtbF1, rtbF2}) {
		t.Fatalf("retry: err %v, result %+v", err, res)
	}
}

// Only an answer that says the route is missing counts as a route gone:
// EC2 uses InvalidParameterValue for other refusals too.
func TestRouteGone(t *testing.T) {
	l := newLocal(t)
	ctx := testCtx(t)
	replace := func(table, cidr, eni string) error {
		_, err := l.other.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(table),
			DestinationCidrBlock: aws.String(cidr), NetworkInterfaceId: aws.String(eni)})
		return err
	}
	missing := replace(rtbA1, "10.1.0.99/32", localENI2)
	otherNetwork := replace(rtbA1, overlayIP, "eni-0bbb0000000000011")
	if awsapi.ErrorCode(missing) != "InvalidParameterValue" || awsapi.ErrorCode(otherNetwork) != "InvalidParameterValue" {
		t.Fatalf("emulator answers: %v; %v; want InvalidParameterValue for both", missing, otherNetwork)
	}
	reworded := &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "No such route."}
	cases := []struct {
		name         string
		table, cidr  string
		err          error
		removeBefore bool
		want         bool
	}{
		{"EC2's answer for a missing route", rtbA1, "10.1.0.99/32", missing, false, true},
		{"a target in another VPC", rtbA1, overlayIP, otherNetwork, false, false},
		{"reworded, and the table has the route", rtbC1, overlayIP, reworded, false, false},
		{"reworded, and the table has no route", rtbC1, overlayIP, reworded, true, true},
		{"InvalidRoute.NotFound", rtbA1, overlayIP, &smithy.GenericAPIError{Code: "InvalidRoute.NotFound"}, false, true},
		{"throttling", rtbA1, overlayIP, &smithy.GenericAPIError{Code: "RequestLimitExceeded"}, false, false},
		{"not an AWS error", rtbA1, overlayIP, errors.New("connection reset"), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.removeBefore {
				if err := l.ec2.RemoveRoute(tc.table, tc.cidr); err != nil {
					t.Fatal(err)
				}
			}
			if got := reroute.RouteGone(ctx, l.clients.EC2, tc.table, tc.cidr, tc.err); got != tc.want {
				t.Errorf("RouteGone(%s, %s, %v) = %v, want %v", tc.table, tc.cidr, tc.err, got, tc.want)
			}
		})
	}
}

// ReplaceRoute is accepted, but another actor points the route back at
// once: DescribeRouteTables never shows the target, so RouteTables
// reports that it did not converge, naming the table and what it shows.
func TestRouteTablesNotObserved(t *testing.T) {
	l := newLocal(t)
	ctx := testCtx(t)
	l.setTap(func(action string, form url.Values, serve func()) {
		serve()
		if action == "ReplaceRoute" && form.Get("RouteTableId") == rtbA1 {
			_, err := l.other.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(rtbA1),
				DestinationCidrBlock: aws.String(overlayIP), NetworkInterfaceId: aws.String(localENI1)})
			if err != nil {
				t.Errorf("the other actor's ReplaceRoute: %v", err)
			}
		}
	})
	_, err := reroute.RouteTables(ctx, l.clients.EC2, overlayConfig(), localNode2, quickGiveUp...)
	var nc *reroute.ErrNotConverged
	if !errors.As(err, &nc) || nc.Target != reroute.TargetOverlayIP || !strings.Contains(nc.Detail, rtbA1+"→"+localENI1) {
		t.Fatalf("err = %v, want *ErrNotConverged naming %s→%s", err, rtbA1, localENI1)
	}
}
