package reroute_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/reroute"
)

// pointsAt reads, with Where, the node each target's entries point at:
// one entry per route table of the app VPC with the overlay route, one
// for the Elastic IP, one per DNS record. It reads as the other actor,
// whose client keeps the SDK's retries: the clients under test may make
// one attempt, and net/http can close a connection as a response arrives
// (aws-sdk-go-v2 issue 2737; the SDK retries "use of closed network
// connection"), which failed a CI run here.
func (l *local) pointsAt(t *testing.T, cfg *cluster.Config) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range reroute.Where(context.Background(), reroute.ReadClients{EC2: l.other.EC2, Route53: l.other.Route53}, cfg) {
		if p.Error != "" {
			t.Fatalf("Where: %s", p)
		}
		if p.Target == reroute.TargetOverlayIP && !strings.HasPrefix(p.What, "rtb-0aaa") {
			continue // the hub VPC's tables reach the overlay through their own hops
		}
		out[p.Target] = append(out[p.Target], p.Node)
	}
	return out
}

// One target fails after its retries (its mutating call throttled without
// end) while the others move: All names that target alone, its outcome
// shows where it was left, Where shows each target where the outcome says,
// and a re-run with the throttling gone converges the failed target
// without a single mutating call for the ones already done.
func TestAllPartialFailureConvergesOnRerun(t *testing.T) {
	cases := []struct {
		target, service, op string
		err                 *localaws.APIError
		attempts            int // mutating calls before giving up: 3 per call
		rerun               int // mutating calls of the re-run
	}{
		{reroute.TargetOverlayIP, "ec2", "ReplaceRoute", throttle, 3 * 4, 4},
		{reroute.TargetElasticIP, "ec2", "AssociateAddress", throttle, 3, 1},
		// Each of the two zones is tried on its own: 3 calls each.
		{reroute.TargetDNS, "route53", "ChangeResourceRecordSets", r53Throttle, 3 * 2, 2},
	}
	mutating := map[string]string{reroute.TargetOverlayIP: "ReplaceRoute", reroute.TargetElasticIP: "AssociateAddress",
		reroute.TargetDNS: "ChangeResourceRecordSets"}
	opts := []reroute.Option{reroute.WithRetry(time.Millisecond, 3), reroute.WithPollInterval(5 * time.Millisecond),
		reroute.WithVerifyTimeout(5 * time.Second)}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			l := newLocal(t, withoutSDKRetries())
			// The injected throttling alone, for exact call counts: the
			// emulator's own rate limits (Route 53's five calls a second)
			// would throttle the quick retries and the reads too.
			l.srv.SetThrottling(false)
			cfg := allConfig()
			before := l.pointsAt(t, cfg)
			l.srv.Faults().Add(localaws.Fault{Service: tc.service, Operation: tc.op, ErrorRate: 1, Error: tc.err})
			res, err := reroute.All(testCtx(t), l.clients, cfg, localNode2, opts...)
			var failed *reroute.ErrRerouteFailed
			if !errors.As(err, &failed) || !slices.Equal(failed.Failed, []string{tc.target}) || !awsapi.IsThrottle(err) {
				t.Fatalf("err = %v, want *ErrRerouteFailed for %s alone, throttled", err, tc.target)
			}
			if n := l.count(tc.op, "*"); n != tc.attempts {
				t.Errorf("%d %s calls, want %d", n, tc.op, tc.attempts)
			}
			checkOutcomes(t, res, tc.target)
			now := l.pointsAt(t, cfg)
			for target, nodes := range now {
				if target == tc.target && !slices.Equal(nodes, before[target]) {
					t.Errorf("%s, which failed, points at %v, want as before %v", target, nodes, before[target])
				}
				if target != tc.target && slices.ContainsFunc(nodes, func(n string) bool { return n != localNode2.Name }) {
					t.Errorf("%s, which succeeded, points at %v, want node2 throughout", target, nodes)
				}
			}

			l.srv.Faults().Clear()
			l.srv.ResetCalls()
			res, err = reroute.All(testCtx(t), l.clients, cfg, localNode2, opts...)
			if err != nil || res.Failed() != nil {
				t.Fatalf("re-run: %v (outcomes %+v)", err, res.Outcomes)
			}
			for target, op := range mutating {
				want := 0
				if target == tc.target {
					want = tc.rerun
				}
				if n := l.count(op, "*"); n != want {
					t.Errorf("re-run: %d %s calls, want %d", n, op, want)
				}
			}
			for target, nodes := range l.pointsAt(t, cfg) {
				if slices.ContainsFunc(nodes, func(n string) bool { return n != localNode2.Name }) {
					t.Errorf("after the re-run %s points at %v, want node2 throughout", target, nodes)
				}
			}
		})
	}
}

// checkOutcomes checks All's outcomes when failedTarget alone failed: one
// per target in order, the failed one with its error and the detail of
// where it was left (nothing changed), the others done.
func checkOutcomes(t *testing.T, res reroute.Result, failedTarget string) {
	t.Helper()
	want := []string{reroute.TargetOverlayIP, reroute.TargetElasticIP, reroute.TargetDNS}
	if len(res.Outcomes) != len(want) {
		t.Fatalf("outcomes %+v, want one per target", res.Outcomes)
	}
	for i, o := range res.Outcomes {
		if o.Target != want[i] || o.OK != (o.Target != failedTarget) || o.OK != (o.Error == "") {
			t.Errorf("outcome %d = %+v", i, o)
		}
		switch o.Target {
		case reroute.TargetOverlayIP:
			if o.Route == nil || (len(o.Route.Changed) == 0) == o.OK {
				t.Errorf("overlay outcome %+v: want the tables changed only when it succeeded", o.Route)
			}
		case reroute.TargetElasticIP:
			if o.ElasticIP == nil || o.ElasticIP.PreviousNetworkInterfaceID != localENI1 || o.ElasticIP.Changed != o.OK {
				t.Errorf("Elastic IP outcome %+v: want it taken from %s, changed only when it succeeded", o.ElasticIP, localENI1)
			}
		case reroute.TargetDNS:
			if o.DNS == nil || len(o.DNS.Records) != len(dnsRecords()) || !slices.Equal(o.DNS.Records[0].Previous, []string{node1IP}) ||
				o.DNS.Records[0].Changed != o.OK {
				t.Errorf("DNS outcome %+v: want pg.db.switchyard.internal found on %s, changed only when it succeeded", o.DNS, node1IP)
			}
		}
	}
}
