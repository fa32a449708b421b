package reroute

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/cluster"
)

func allConfig() *cluster.Config {
	o := overlayCfg()
	return &cluster.Config{
		Name:  "pg",
		Nodes: []cluster.Node{node1, node2},
		Routing: cluster.Routing{
			OverlayIP: &o,
			ElasticIP: &cluster.ElasticIP{AllocationID: allocID},
			DNS:       dnsRecords(),
		},
	}
}

func fakeAll() (*fakeEC2, *fakeRoute53) {
	ec2 := fakeNetwork()
	ec2.addresses[allocID] = &fakeAddress{publicIP: "198.51.100.7", eni: eni1, privateIP: node1.PrivateIP, assoc: "eipassoc-0old"}
	return ec2, fakeDNS()
}

func TestAllReroutesEveryTarget(t *testing.T) {
	ec2, r53 := fakeAll()
	res, err := All(context.Background(), Clients{EC2: ec2, Route53: r53}, allConfig(), node2, fast...)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	if len(res.Outcomes) != 3 || res.Failed() != nil {
		t.Fatalf("outcomes %+v", res.Outcomes)
	}
	want := []string{TargetOverlayIP, TargetElasticIP, TargetDNS}
	for i, o := range res.Outcomes {
		if o.Target != want[i] || !o.OK {
			t.Errorf("outcome %d = %+v, want %s ok", i, o, want[i])
		}
	}
	if len(res.Outcomes[0].Route.Changed) != 3 || !res.Outcomes[1].ElasticIP.Changed || len(res.Outcomes[2].DNS.Records) != 3 {
		t.Fatalf("details missing: %+v", res.Outcomes)
	}
	if ec2.addresses[allocID].eni != eni2 || !slices.Equal(r53.values("Z0PUBLIC", "db.example.com"), []string{node2.PrivateIP}) {
		t.Fatal("Elastic IP or DNS not moved")
	}
}

func TestAllNamesEachFailedTarget(t *testing.T) {
	ec2, r53 := fakeAll()
	ec2.enis[eni2] = fakeENI{vpc: "vpc-0app", sourceDestCheck: true} // the overlay IP must refuse
	delete(r53.zones, "Z0PUBLIC")
	res, err := All(context.Background(), Clients{EC2: ec2, Route53: r53}, allConfig(), node2, fast...)
	var failed *ErrRerouteFailed
	if !errors.As(err, &failed) || !slices.Equal(failed.Failed, []string{TargetOverlayIP, TargetDNS}) {
		t.Fatalf("err = %v, want *ErrRerouteFailed for overlay-ip and dns", err)
	}
	var sd *ErrSourceDestCheck
	if !errors.As(err, &sd) {
		t.Fatalf("the source/dest refusal is not reachable through %v", err)
	}
	if !strings.Contains(err.Error(), "overlay-ip: ") || !strings.Contains(err.Error(), "dns: ") {
		t.Fatalf("error %q does not name the targets", err)
	}
	if !res.Outcomes[1].OK || ec2.addresses[allocID].eni != eni2 {
		t.Fatal("the Elastic IP should have moved regardless")
	}
	if res.Outcomes[0].OK || res.Outcomes[0].Error == "" || res.Outcomes[2].OK {
		t.Fatalf("outcomes %+v", res.Outcomes)
	}
	if !slices.Equal(res.Failed(), []string{TargetOverlayIP, TargetDNS}) {
		t.Fatalf("Failed() = %v", res.Failed())
	}
}

func TestAllOnlyConfiguredTargets(t *testing.T) {
	ec2, _ := fakeAll()
	cfg := allConfig()
	cfg.Routing.OverlayIP, cfg.Routing.DNS = nil, nil
	res, err := All(context.Background(), Clients{EC2: ec2}, cfg, node2, fast...)
	if err != nil || len(res.Outcomes) != 1 || res.Outcomes[0].Target != TargetElasticIP {
		t.Fatalf("err %v, outcomes %+v", err, res.Outcomes)
	}
	if ec2.calls("DescribeRouteTables") != 0 {
		t.Fatal("route tables were read although no overlay IP is configured")
	}
	cfg.Routing.ElasticIP = nil
	if _, err := All(context.Background(), Clients{EC2: ec2}, cfg, node2, fast...); err == nil {
		t.Fatal("no target configured, no error")
	}
}
