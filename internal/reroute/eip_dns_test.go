package reroute

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
)

const allocID = "eipalloc-0main"

func fakeWithEIP() *fakeEC2 {
	f := newFakeEC2()
	f.enis[eni1], f.enis[eni2] = fakeENI{vpc: "vpc-0app"}, fakeENI{vpc: "vpc-0app"}
	f.addresses[allocID] = &fakeAddress{publicIP: "198.51.100.7", eni: eni1, privateIP: node1.PrivateIP, assoc: "eipassoc-0old"}
	return f
}

func TestElasticIPMoves(t *testing.T) {
	f := fakeWithEIP()
	res, err := ElasticIP(context.Background(), f, cluster.ElasticIP{AllocationID: allocID}, node2, fast...)
	if err != nil {
		t.Fatalf("ElasticIP: %v", err)
	}
	if !res.Changed || res.PreviousNetworkInterfaceID != eni1 || res.PublicIP != "198.51.100.7" || res.AssociationID == "eipassoc-0old" {
		t.Fatalf("result %+v", res)
	}
	if a := f.addresses[allocID]; a.eni != eni2 || a.privateIP != node2.PrivateIP {
		t.Fatalf("address now %+v, want on %s/%s", a, eni2, node2.PrivateIP)
	}
	res, err = ElasticIP(context.Background(), f, cluster.ElasticIP{AllocationID: allocID}, node2, fast...)
	if err != nil || res.Changed || f.calls("AssociateAddress") != 1 {
		t.Fatalf("retry: err %v, result %+v, AssociateAddress calls %d", err, res, f.calls("AssociateAddress"))
	}
}

func TestElasticIPRetriesThrottling(t *testing.T) {
	f := fakeWithEIP()
	f.failNext["AssociateAddress"] = []error{apiErr("RequestLimitExceeded"), apiErr("RequestLimitExceeded")}
	if _, err := ElasticIP(context.Background(), f, cluster.ElasticIP{AllocationID: allocID}, node2, fast...); err != nil {
		t.Fatalf("ElasticIP under throttling: %v", err)
	}
	if f.addresses[allocID].eni != eni2 || f.calls("AssociateAddress") != 3 {
		t.Fatalf("address on %s after %d calls", f.addresses[allocID].eni, f.calls("AssociateAddress"))
	}
}

func TestElasticIPErrors(t *testing.T) {
	f := fakeWithEIP()
	_, err := ElasticIP(context.Background(), f, cluster.ElasticIP{AllocationID: "eipalloc-0missing"}, node2, fast...)
	if err == nil || f.calls("AssociateAddress") != 0 {
		t.Fatalf("unknown allocation: err %v", err)
	}
	f.ignoreReplace = true
	_, err = ElasticIP(context.Background(), f, cluster.ElasticIP{AllocationID: allocID}, node2, fast...)
	var nc *ErrNotConverged
	if !errors.As(err, &nc) || nc.Target != TargetElasticIP {
		t.Fatalf("err = %v, want *ErrNotConverged", err)
	}
}

func dnsRecords() []cluster.DNSRecord {
	return []cluster.DNSRecord{
		{HostedZoneID: "Z0PRIVATE", Name: "db.internal.example", TTL: 10},
		{HostedZoneID: "Z0PRIVATE", Name: "writer.internal.example.", TTL: 10},
		{HostedZoneID: "Z0PUBLIC", Name: "db.example.com", TTL: 30},
	}
}

func fakeDNS() *fakeRoute53 {
	f := newFakeRoute53("Z0PRIVATE", "Z0PUBLIC")
	f.put("Z0PRIVATE", "db.internal.example", 10, node1.PrivateIP)
	f.put("Z0PRIVATE", "writer.internal.example", 10, node1.PrivateIP)
	f.put("Z0PRIVATE", "zz.internal.example", 60, "10.9.9.9")
	f.put("Z0PUBLIC", "db.example.com", 30, node1.PrivateIP)
	return f
}

func TestDNSOneChangePerZone(t *testing.T) {
	f := fakeDNS()
	res, err := DNS(context.Background(), f, dnsRecords(), node2, fast...)
	if err != nil {
		t.Fatalf("DNS: %v", err)
	}
	if f.changeCalls["Z0PRIVATE"] != 1 || f.changeCalls["Z0PUBLIC"] != 1 {
		t.Fatalf("change calls per zone = %v, want one each", f.changeCalls)
	}
	for _, r := range dnsRecords() {
		if got := f.values(r.HostedZoneID, r.Name); !slices.Equal(got, []string{node2.PrivateIP}) {
			t.Errorf("%s = %v, want %s", r.Name, got, node2.PrivateIP)
		}
	}
	if got := f.values("Z0PRIVATE", "zz.internal.example"); !slices.Equal(got, []string{"10.9.9.9"}) {
		t.Errorf("unrelated record changed: %v", got)
	}
	for _, r := range res.Records {
		if !r.Changed || r.ChangeID == "" || !slices.Equal(r.Previous, []string{node1.PrivateIP}) {
			t.Errorf("record result %+v", r)
		}
	}
	// Retry: nothing to change.
	res, err = DNS(context.Background(), f, dnsRecords(), node2, fast...)
	if err != nil || f.changeCalls["Z0PRIVATE"] != 1 || f.changeCalls["Z0PUBLIC"] != 1 || res.Records[0].Changed {
		t.Fatalf("retry: err %v, change calls %v", err, f.changeCalls)
	}
}

func TestDNSCreatesMissingRecordAndFixesTTL(t *testing.T) {
	f := newFakeRoute53("Z0PRIVATE")
	f.put("Z0PRIVATE", "writer.internal.example", 300, node2.PrivateIP)
	res, err := DNS(context.Background(), f, dnsRecords()[:2], node2, fast...)
	if err != nil {
		t.Fatalf("DNS: %v", err)
	}
	if len(res.Records[0].Previous) != 0 || !res.Records[0].Changed || !res.Records[1].Changed {
		t.Fatalf("records %+v", res.Records)
	}
	if got := f.zones["Z0PRIVATE"]["writer.internal.example.|A"].ttl; got != 10 {
		t.Fatalf("TTL = %d, want 10", got)
	}
}

func TestDNSNotInSyncBeforeDeadline(t *testing.T) {
	f := fakeDNS()
	f.neverInSync = true
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := DNS(ctx, f, dnsRecords(), node2, fast...)
	var ns *ErrDNSNotInSync
	if !errors.As(err, &ns) || ns.HostedZoneID != "Z0PRIVATE" || ns.ChangeID == "" {
		t.Fatalf("err = %v, want *ErrDNSNotInSync for Z0PRIVATE", err)
	}
}

func TestDNSRetriesPriorRequestNotComplete(t *testing.T) {
	f := fakeDNS()
	f.failNext["ChangeResourceRecordSets"] = []error{apiErr("PriorRequestNotComplete"), apiErr("Throttling")}
	if _, err := DNS(context.Background(), f, dnsRecords(), node2, fast...); err != nil {
		t.Fatalf("DNS: %v", err)
	}
	if got := f.values("Z0PUBLIC", "db.example.com"); !slices.Equal(got, []string{node2.PrivateIP}) {
		t.Fatalf("db.example.com = %v", got)
	}
}

func TestDNSUnknownZone(t *testing.T) {
	f := fakeDNS()
	_, err := DNS(context.Background(), f, []cluster.DNSRecord{{HostedZoneID: "Z0NOPE", Name: "x.example", TTL: 10}}, node2, fast...)
	if awsapi.ErrorCode(err) != "NoSuchHostedZone" || f.changeCalls["Z0NOPE"] != 0 {
		t.Fatalf("err = %v", err)
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
		if got := canonicalName(in); got != want {
			t.Errorf("canonicalName(%q) = %q, want %q", in, got, want)
		}
	}
}
