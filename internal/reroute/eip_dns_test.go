package reroute_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/reroute"
)

// address describes the Elastic IP as another actor sees it.
func (l *local) address(t *testing.T) ec2types.Address {
	t.Helper()
	out, err := l.other.EC2.DescribeAddresses(testCtx(t), &ec2.DescribeAddressesInput{AllocationIds: []string{localAlloc}})
	if err != nil || len(out.Addresses) != 1 {
		t.Fatalf("describing %s: %v", localAlloc, err)
	}
	return out.Addresses[0]
}

func TestElasticIPMoves(t *testing.T) {
	l := newLocal(t)
	before := aws.ToString(l.address(t).AssociationId)
	// More throttling than the SDK's own retries absorb.
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "AssociateAddress", FailNext: 4, Error: throttle})
	res, err := reroute.ElasticIP(testCtx(t), l.clients.EC2, cluster.ElasticIP{AllocationID: localAlloc}, localNode2, localOpts...)
	if err != nil {
		t.Fatalf("ElasticIP: %v", err)
	}
	if !res.Changed || res.PreviousNetworkInterfaceID != localENI1 || res.PublicIP != publicIP ||
		res.AssociationID == "" || res.AssociationID == before {
		t.Fatalf("result %+v (association before %s)", res, before)
	}
	if inst, eni, ok := l.ec2.AddressTarget(localAlloc); !ok || eni != localENI2 || inst != localNode2.InstanceID {
		t.Fatalf("Elastic IP on %s/%s", inst, eni)
	}
	if a := l.address(t); aws.ToString(a.PrivateIpAddress) != localNode2.PrivateIP || aws.ToString(a.AssociationId) != res.AssociationID {
		t.Fatalf("address now %+v, want on %s with association %s", a, localNode2.PrivateIP, res.AssociationID)
	}

	l.srv.ResetCalls()
	res, err = reroute.ElasticIP(testCtx(t), l.clients.EC2, cluster.ElasticIP{AllocationID: localAlloc}, localNode2, localOpts...)
	if err != nil || res.Changed {
		t.Fatalf("retry: %v %+v", err, res)
	}
	if n := l.count("AssociateAddress", "*"); n != 0 {
		t.Fatalf("retry made %d AssociateAddress calls", n)
	}
}

func TestElasticIPRetriesThrottling(t *testing.T) {
	l := newLocal(t, withoutSDKRetries())
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "AssociateAddress", FailNext: 2, Error: throttle})
	if _, err := reroute.ElasticIP(testCtx(t), l.clients.EC2, cluster.ElasticIP{AllocationID: localAlloc}, localNode2, localOpts...); err != nil {
		t.Fatalf("ElasticIP under throttling: %v", err)
	}
	if _, eni, _ := l.ec2.AddressTarget(localAlloc); eni != localENI2 || l.count("AssociateAddress", "*") != 3 {
		t.Fatalf("address on %s after %d AssociateAddress calls, want %s after 3", eni, l.count("AssociateAddress", "*"), localENI2)
	}
}

func TestElasticIPErrors(t *testing.T) {
	l := newLocal(t)
	_, err := reroute.ElasticIP(testCtx(t), l.clients.EC2, cluster.ElasticIP{AllocationID: "eipalloc-0aaa00000000000ff"}, localNode2, localOpts...)
	if err == nil || !awsapi.IsNotFound(err) || l.count("AssociateAddress", "*") != 0 {
		t.Fatalf("unknown allocation: err %v, AssociateAddress calls %d", err, l.count("AssociateAddress", "*"))
	}

	// AssociateAddress is accepted, but another actor takes the address
	// back at once: DescribeAddresses never shows it on the target.
	ctx := testCtx(t)
	l.setTap(func(action string, _ url.Values, serve func()) {
		serve()
		if action == "AssociateAddress" {
			_, err := l.other.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(localAlloc),
				NetworkInterfaceId: aws.String(localENI1), PrivateIpAddress: aws.String(node1IP), AllowReassociation: aws.Bool(true)})
			if err != nil {
				t.Errorf("the other actor's AssociateAddress: %v", err)
			}
		}
	})
	_, err = reroute.ElasticIP(ctx, l.clients.EC2, cluster.ElasticIP{AllocationID: localAlloc}, localNode2, quickGiveUp...)
	var nc *reroute.ErrNotConverged
	if !errors.As(err, &nc) || nc.Target != reroute.TargetElasticIP {
		t.Fatalf("err = %v, want *ErrNotConverged", err)
	}
}

// withWriterRecord adds writer.db.switchyard.internal, on node1, to the
// private zone.
func withWriterRecord(ttl int64, value string) localOpt {
	return withTopology(func(topo *localaws.Topology) {
		for i := range topo.HostedZones {
			if topo.HostedZones[i].ID == privZone {
				topo.HostedZones[i].Records = append(topo.HostedZones[i].Records,
					localaws.Record{Name: "writer.db.switchyard.internal.", Type: "A", TTL: ttl, Values: []string{value}})
			}
		}
	})
}

func dnsRecords() []cluster.DNSRecord {
	return []cluster.DNSRecord{
		{HostedZoneID: privZone, Name: "pg.db.switchyard.internal", TTL: 30},
		{HostedZoneID: privZone, Name: "writer.db.switchyard.internal.", TTL: 10},
		{HostedZoneID: publZone, Name: "pg.switchyard.example.com", TTL: 60},
	}
}

// changeCalls counts ChangeResourceRecordSets calls per hosted zone.
func (l *local) changeCalls() map[string]int {
	n := map[string]int{}
	for _, c := range l.srv.Calls() {
		if c.AccessKeyID == testKey && c.Operation == "ChangeResourceRecordSets" {
			for _, zone := range []string{privZone, publZone} {
				if slices.Contains(c.Resources, zone) {
					n[zone]++
				}
			}
		}
	}
	return n
}

func TestDNSOneChangePerZone(t *testing.T) {
	l := newLocal(t, withWriterRecord(10, node1IP))
	res, err := reroute.DNS(testCtx(t), l.clients.Route53, dnsRecords(), localNode2, localOpts...)
	if err != nil {
		t.Fatalf("DNS: %v", err)
	}
	if got := l.changeCalls(); got[privZone] != 1 || got[publZone] != 1 {
		t.Fatalf("change calls per zone = %v, want one each", got)
	}
	for _, r := range dnsRecords() {
		// DNS returned after INSYNC, so resolvers already see the new address.
		if got := l.r53.Resolve(r.Name, "A"); !slices.Equal(got, []string{localNode2.PrivateIP}) {
			t.Errorf("%s resolves to %v, want %s", r.Name, got, localNode2.PrivateIP)
		}
	}
	if got := l.r53.Resolve("node1.db.switchyard.internal", "A"); !slices.Equal(got, []string{node1IP}) {
		t.Errorf("an unrelated record changed: %v", got)
	}
	for _, r := range res.Records {
		if !r.Changed || r.ChangeID == "" || !slices.Equal(r.Previous, []string{node1IP}) {
			t.Errorf("record result %+v", r)
		}
	}
	if l.count("GetChange", "*") < 2 {
		t.Errorf("%d GetChange calls: DNS did not wait for both changes", l.count("GetChange", "*"))
	}

	// Retry: nothing to change.
	l.srv.ResetCalls()
	res, err = reroute.DNS(testCtx(t), l.clients.Route53, dnsRecords(), localNode2, localOpts...)
	if err != nil || len(l.changeCalls()) != 0 || res.Records[0].Changed {
		t.Fatalf("retry: err %v, change calls %v, records %+v", err, l.changeCalls(), res.Records)
	}
}

func TestDNSCreatesMissingRecordAndFixesTTL(t *testing.T) {
	l := newLocal(t, withWriterRecord(300, localNode2.PrivateIP))
	recs := []cluster.DNSRecord{
		{HostedZoneID: privZone, Name: "new.db.switchyard.internal", TTL: 10},
		{HostedZoneID: privZone, Name: "writer.db.switchyard.internal", TTL: 10},
	}
	res, err := reroute.DNS(testCtx(t), l.clients.Route53, recs, localNode2, localOpts...)
	if err != nil {
		t.Fatalf("DNS: %v", err)
	}
	if len(res.Records[0].Previous) != 0 || !res.Records[0].Changed || !res.Records[1].Changed {
		t.Fatalf("records %+v", res.Records)
	}
	for _, name := range []string{"new.db.switchyard.internal.", "writer.db.switchyard.internal."} {
		r, ok := l.record(t, privZone, name)
		if !ok || r.TTL != 10 || !slices.Equal(r.Values, []string{localNode2.PrivateIP}) {
			t.Errorf("%s: %+v (exists %v), want %s with TTL 10", name, r, ok, localNode2.PrivateIP)
		}
	}
}

func TestDNSNotInSyncBeforeDeadline(t *testing.T) {
	l := newLocal(t)
	l.r53.SetPropagationDelay(time.Hour)
	ctx, cancel := context.WithTimeout(testCtx(t), time.Second)
	defer cancel()
	_, err := reroute.DNS(ctx, l.clients.Route53, dnsRecords(), localNode2, localOpts...)
	var ns *reroute.ErrDNSNotInSync
	if !errors.As(err, &ns) || ns.HostedZoneID != privZone || ns.ChangeID == "" {
		t.Fatalf("err = %v, want *ErrDNSNotInSync for %s", err, privZone)
	}
}

// Route 53 answers a change to a zone with one still pending
// PriorRequestNotComplete, and throttles with Throttling (both HTTP 400):
// reroute retries both.
func TestDNSRetriesPriorRequestNotComplete(t *testing.T) {
	for _, code := range []string{"PriorRequestNotComplete", "Throttling"} {
		t.Run(code, func(t *testing.T) {
			l := newLocal(t, withoutSDKRetries())
			l.srv.Faults().Add(localaws.Fault{Service: "route53", Operation: "ChangeResourceRecordSets", FailNext: 2,
				Error: &localaws.APIError{Code: code, Message: code + " (injected)", HTTPStatus: http.StatusBadRequest}})
			if _, err := reroute.DNS(testCtx(t), l.clients.Route53, dnsRecords(), localNode2, localOpts...); err != nil {
				t.Fatalf("DNS: %v", err)
			}
			if got := l.r53.Resolve("pg.switchyard.example.com", "A"); !slices.Equal(got, []string{localNode2.PrivateIP}) {
				t.Fatalf("pg.switchyard.example.com = %v", got)
			}
			if n := l.count("ChangeResourceRecordSets", code); n != 2 {
				t.Fatalf("%d calls answered %s, want the 2 injected", n, code)
			}
		})
	}
}

func TestDNSUnknownZone(t *testing.T) {
	l := newLocal(t)
	const zone = "Z0AAA00000000000NOPE"
	_, err := reroute.DNS(testCtx(t), l.clients.Route53, []cluster.DNSRecord{{HostedZoneID: zone, Name: "x.example", TTL: 10}}, localNode2, localOpts...)
	if awsapi.ErrorCode(err) != "NoSuchHostedZone" || l.count("ChangeResourceRecordSets", "*") != 0 {
		t.Fatalf("err = %v, ChangeResourceRecordSets calls %d", err, l.count("ChangeResourceRecordSets", "*"))
	}
}

func TestCanonicalName(t *testing.T) {
	for in, want := range map[string]string{
		"DB.Example.com.":        "db.example.com",
		`\052.example.com.`:      "*.example.com",
		"db.example.com":         "db.example.com",
		`odd\05`:                 `odd\05`,
		`back\\slash.example.`:   `back\\slash.example`,
		`\100at.example.com`:     "@at.example.com",
		`\97x.example.com.`:      `\97x.example.com`,
		`trailing\052`:           "trailing*",
		`UPPER\052LOWER.example`: "upper*lower.example",
	} {
		if got := reroute.CanonicalName(in); got != want {
			t.Errorf("CanonicalName(%q) = %q, want %q", in, got, want)
		}
	}
}
