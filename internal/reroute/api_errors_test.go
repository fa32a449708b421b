package reroute_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/backoff"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/reroute"
)

// How reroute meets each API's errors: what it retries, what it names and
// leaves alone, and that a re-run converges.

// r53Throttle is Route 53's throttling answer.
var r53Throttle = &localaws.APIError{Code: "Throttling", Message: "Rate exceeded", HTTPStatus: http.StatusBadRequest}

// Wherever the Elastic IP is (node1, an interface of no node, nowhere),
// ElasticIP moves it with one AssociateAddress naming node2's interface and
// private IP, with AllowReassociation; already on node2, it makes no call
// and reports no change.
func TestElasticIPReassociatesFromAnywhere(t *testing.T) {
	cases := []struct {
		name string
		// place puts the address where the case starts, as another actor.
		place    func(t *testing.T, l *local)
		previous string
	}{
		{"from node1", func(*testing.T, *local) {}, localENI1},
		{"from an interface of no node", func(t *testing.T, l *local) {
			l.otherAssociate(t, staleENI, "10.0.2.33")
		}, staleENI},
		{"from nowhere", func(t *testing.T, l *local) {
			if _, err := l.other.EC2.DisassociateAddress(testCtx(t), &ec2.DisassociateAddressInput{
				AssociationId: l.address(t).AssociationId}); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"already on node2", func(t *testing.T, l *local) {
			l.otherAssociate(t, localENI2, localNode2.PrivateIP)
		}, localENI2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t)
			tc.place(t, l)
			var (
				mu    sync.Mutex
				forms []url.Values
			)
			l.setTap(func(action string, form url.Values, serve func()) {
				if action == "AssociateAddress" {
					mu.Lock()
					forms = append(forms, form)
					mu.Unlock()
				}
				serve()
			})
			res, err := reroute.ElasticIP(testCtx(t), l.clients.EC2, cluster.ElasticIP{AllocationID: localAlloc}, localNode2, localOpts...)
			if err != nil {
				t.Fatalf("ElasticIP: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			moved := tc.previous != localENI2
			if res.PreviousNetworkInterfaceID != tc.previous || res.Changed != moved {
				t.Errorf("result %+v: want previous %q, changed %v", res, tc.previous, moved)
			}
			if a := l.address(t); aws.ToString(a.NetworkInterfaceId) != localENI2 || aws.ToString(a.PrivateIpAddress) != localNode2.PrivateIP {
				t.Errorf("address on %s/%s, want node2's %s/%s", aws.ToString(a.NetworkInterfaceId), aws.ToString(a.PrivateIpAddress),
					localENI2, localNode2.PrivateIP)
			}
			switch {
			case !moved && len(forms) != 0:
				t.Errorf("%d AssociateAddress calls for an address on the target already", len(forms))
			case moved && len(forms) != 1:
				t.Errorf("%d AssociateAddress calls, want 1", len(forms))
			case moved:
				f := forms[0]
				if f.Get("AllowReassociation") != "true" || f.Get("NetworkInterfaceId") != localENI2 || f.Get("PrivateIpAddress") != localNode2.PrivateIP {
					t.Errorf("AssociateAddress %v: want AllowReassociation=true on %s/%s", f, localENI2, localNode2.PrivateIP)
				}
			}
		})
	}
}

// otherAssociate associates the Elastic IP with eni as another actor.
func (l *local) otherAssociate(t *testing.T, eni, ip string) {
	t.Helper()
	if _, err := l.other.EC2.AssociateAddress(testCtx(t), &ec2.AssociateAddressInput{AllocationId: aws.String(localAlloc),
		NetworkInterfaceId: aws.String(eni), PrivateIpAddress: aws.String(ip), AllowReassociation: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
}

// A resource that vanishes between reroute's read and its change: the
// change fails once with the API's not-found answer. Reroute must not
// retry it (one more call would succeed here), must name the code, and
// All must still move the other targets. For DNS the first hosted zone
// vanishes: the second zone is still changed (one call each).
func TestVanishedResourceIsNotRetried(t *testing.T) {
	cases := []struct {
		target, service, op, code string
		status                    int
		calls                     int
	}{
		{reroute.TargetElasticIP, "ec2", "AssociateAddress", "InvalidAllocationID.NotFound", http.StatusBadRequest, 1},
		{reroute.TargetDNS, "route53", "ChangeResourceRecordSets", "NoSuchHostedZone", http.StatusNotFound, 2},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			l := newLocal(t)
			l.srv.Faults().Add(localaws.Fault{Service: tc.service, Operation: tc.op, FailNext: 1,
				Error: &localaws.APIError{Code: tc.code, Message: tc.code + " (injected)", HTTPStatus: tc.status}})
			res, err := reroute.All(testCtx(t), l.clients, allConfig(), localNode2, localOpts...)
			var failed *reroute.ErrRerouteFailed
			if !errors.As(err, &failed) || !slices.Equal(failed.Failed, []string{tc.target}) {
				t.Fatalf("err = %v, want *ErrRerouteFailed for %s alone", err, tc.target)
			}
			if awsapi.ErrorCode(err) != tc.code || backoff.Transient(err) {
				t.Errorf("err = %v: want %s underneath, not transient", err, tc.code)
			}
			if n := l.count(tc.op, "*"); n != tc.calls {
				t.Errorf("%d %s calls, want %d (no retry)", n, tc.op, tc.calls)
			}
			if !slices.Equal(res.Failed(), []string{tc.target}) {
				t.Errorf("outcomes %+v", res.Outcomes)
			}
			wantENI, wantIP := localENI2, localNode2.PrivateIP // the target that failed stays on node1
			if tc.target == reroute.TargetElasticIP {
				wantENI = localENI1
			} else {
				wantIP = node1IP
			}
			if eni, _ := l.eipNode(); eni != wantENI {
				t.Errorf("Elastic IP on %s, want %s", eni, wantENI)
			}
			if got := l.r53.Resolve("pg.db.switchyard.internal", "A"); !slices.Equal(got, []string{wantIP}) {
				t.Errorf("pg.db.switchyard.internal = %v, want %s", got, wantIP)
			}
			if got := l.r53.Resolve("pg.switchyard.example.com", "A"); !slices.Equal(got, []string{localNode2.PrivateIP}) {
				t.Errorf("pg.switchyard.example.com (the other zone) = %v, want %s", got, localNode2.PrivateIP)
			}
			l.wantRoutes(t, localENI2)
		})
	}
}

// eipNode returns the interface the Elastic IP is associated with.
func (l *local) eipNode() (string, bool) {
	_, eni, ok := l.ec2.AddressTarget(localAlloc)
	return eni, ok
}

// A route table deleted between DescribeRouteTables and ReplaceRoute: EC2
// answers InvalidRouteTableID.NotFound. RouteTables names the table, does
// not retry it, reroutes the other tables, and a re-run no longer sees the
// table and converges without changing anything.
func TestRouteTablesTableDeleted(t *testing.T) {
	l := newLocal(t)
	l.setTap(func(action string, form url.Values, serve func()) {
		if action == "ReplaceRoute" && form.Get("RouteTableId") == rtbE1 {
			if err := l.ec2.RemoveRouteTable(rtbE1); err != nil {
				t.Errorf("removing %s: %v", rtbE1, err)
			}
		}
		serve()
	})
	res, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	if err == nil || !strings.Contains(err.Error(), rtbE1) || awsapi.ErrorCode(err) != "InvalidRouteTableID.NotFound" || backoff.Transient(err) {
		t.Fatalf("err = %v, want InvalidRouteTableID.NotFound naming %s, not transient", err, rtbE1)
	}
	tried := 0
	for _, c := range l.srv.Calls() {
		if c.AccessKeyID == testKey && c.Operation == "ReplaceRoute" && slices.Contains(c.Resources, rtbE1) {
			tried++
		}
	}
	if tried != 1 {
		t.Errorf("%d ReplaceRoute calls for %s, want 1 (no retry)", tried, rtbE1)
	}
	if got := changedIDs(res); !slices.Equal(got, []string{rtbA1, rtbC1, rtbF2}) {
		t.Fatalf("changed %v", got)
	}
	for _, id := range []string{rtbA1, rtbC1, rtbF1, rtbF2} {
		if got, _ := l.ec2.RouteTarget(id, overlayIP); got != localENI2 {
			t.Errorf("%s: overlay route → %s, want %s", id, got, localENI2)
		}
	}

	l.setTap(nil)
	l.srv.ResetCalls()
	res, err = reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	if err != nil || len(res.Changed) != 0 || !slices.Equal(res.AlreadyCorrect, []string{rtbA1, rtbC1, rtbF1, rtbF2}) ||
		l.count("ReplaceRoute", "*") != 0 {
		t.Fatalf("re-run: err %v, result %+v, %d ReplaceRoute calls", err, res, l.count("ReplaceRoute", "*"))
	}
}

// A record Route 53 refuses (outside the zone, or where a CNAME is): the
// zone's whole batch is refused with InvalidChangeBatch, which reroute
// does not retry and passes on with Route 53's message; nothing in the
// zone changes, the valid records of the batch included.
func TestDNSInvalidChangeBatch(t *testing.T) {
	cases := []struct {
		name, record, message string
	}{
		{"outside the zone", "pg.elsewhere.example", "is not permitted in zone"},
		{"where a CNAME is", "alias.db.switchyard.internal", "conflicting RRSet of type CNAME"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t, withTopology(func(topo *localaws.Topology) {
				for i := range topo.HostedZones {
					if topo.HostedZones[i].ID == privZone {
						topo.HostedZones[i].Records = append(topo.HostedZones[i].Records,
							localaws.Record{Name: "alias.db.switchyard.internal.", Type: "CNAME", TTL: 300, Values: []string{"pg.db.switchyard.internal"}})
					}
				}
			}))
			recs := []cluster.DNSRecord{
				{HostedZoneID: privZone, Name: "pg.db.switchyard.internal", TTL: 30},
				{HostedZoneID: privZone, Name: tc.record, TTL: 30},
			}
			res, err := reroute.DNS(testCtx(t), l.clients.Route53, recs, localNode2, localOpts...)
			var icb *r53types.InvalidChangeBatch
			if !errors.As(err, &icb) || len(icb.Messages) != 1 || !strings.Contains(icb.Messages[0], tc.message) {
				t.Fatalf("err = %v, want InvalidChangeBatch saying %q", err, tc.message)
			}
			if backoff.Transient(err) || l.count("ChangeResourceRecordSets", "*") != 1 {
				t.Errorf("%d ChangeResourceRecordSets calls (transient %v), want 1: a refused batch is not retried",
					l.count("ChangeResourceRecordSets", "*"), backoff.Transient(err))
			}
			if got := l.r53.Resolve("pg.db.switchyard.internal", "A"); !slices.Equal(got, []string{node1IP}) {
				t.Errorf("pg.db.switchyard.internal = %v: part of a refused batch was applied", got)
			}
			for _, r := range res.Records {
				if r.Changed {
					t.Errorf("record %+v reported changed", r)
				}
			}
		})
	}
}

// Every call reroute makes, throttled twice with the SDK's own retries
// off: reroute retries it and every target converges.
func TestEveryCallRetriesThrottling(t *testing.T) {
	cases := []struct {
		service, op string
		err         *localaws.APIError
	}{
		{"ec2", "DescribeNetworkInterfaces", throttle},
		{"ec2", "DescribeRouteTables", throttle},
		{"ec2", "ReplaceRoute", throttle},
		{"ec2", "DescribeAddresses", throttle},
		{"ec2", "AssociateAddress", throttle},
		{"route53", "ListResourceRecordSets", r53Throttle},
		{"route53", "ChangeResourceRecordSets", r53Throttle},
		{"route53", "GetChange", r53Throttle},
	}
	for _, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			l := newLocal(t, withoutSDKRetries())
			l.srv.Faults().Add(localaws.Fault{Service: tc.service, Operation: tc.op, FailNext: 2, Error: tc.err})
			if _, err := reroute.All(testCtx(t), l.clients, allConfig(), localNode2, localOpts...); err != nil {
				t.Fatalf("All with %s throttled: %v", tc.op, err)
			}
			if n := l.count(tc.op, tc.err.Code); n != 2 {
				t.Errorf("%d %s calls answered %s, want the 2 injected", n, tc.op, tc.err.Code)
			}
			l.wantRoutes(t, localENI2)
			if eni, _ := l.eipNode(); eni != localENI2 {
				t.Errorf("Elastic IP on %s", eni)
			}
			for _, r := range dnsRecords() {
				if got := l.r53.Resolve(r.Name, "A"); !slices.Equal(got, []string{localNode2.PrivateIP}) {
					t.Errorf("%s resolves to %v", r.Name, got)
				}
			}
		})
	}
}
