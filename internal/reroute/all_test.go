package reroute_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/reroute"
)

func allConfig() *cluster.Config {
	o := overlayConfig()
	return &cluster.Config{
		Name:  "pg",
		Nodes: []cluster.Node{localNode1, localNode2},
		Routing: cluster.Routing{
			OverlayIP: &o,
			ElasticIP: &cluster.ElasticIP{AllocationID: localAlloc},
			DNS:       dnsRecords(),
		},
	}
}

func TestAllReroutesEveryTarget(t *testing.T) {
	l := newLocal(t)
	res, err := reroute.All(testCtx(t), l.clients, allConfig(), localNode2, localOpts...)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	if len(res.Outcomes) != 3 || res.Failed() != nil {
		t.Fatalf("outcomes %+v", res.Outcomes)
	}
	want := []string{reroute.TargetOverlayIP, reroute.TargetElasticIP, reroute.TargetDNS}
	for i, o := range res.Outcomes {
		if o.Target != want[i] || !o.OK {
			t.Errorf("outcome %d = %+v, want %s ok", i, o, want[i])
		}
	}
	if len(res.Outcomes[0].Route.Changed) != 4 || !res.Outcomes[1].ElasticIP.Changed || len(res.Outcomes[2].DNS.Records) != 3 {
		t.Fatalf("details missing: %+v", res.Outcomes)
	}
	l.wantRoutes(t, localENI2)
	if _, eni, _ := l.ec2.AddressTarget(localAlloc); eni != localENI2 {
		t.Fatalf("Elastic IP on %s", eni)
	}
	for _, r := range dnsRecords() {
		if got := l.r53.Resolve(r.Name, "A"); !slices.Equal(got, []string{localNode2.PrivateIP}) {
			t.Errorf("%s resolves to %v", r.Name, got)
		}
	}
}

func TestAllNamesEachFailedTarget(t *testing.T) {
	// The overlay IP must refuse (source/destination check on) and one DNS
	// record is in a hosted zone that does not exist.
	l := newLocal(t, withTopology(func(topo *localaws.Topology) {
		for i := range topo.NetworkInterfaces {
			if topo.NetworkInterfaces[i].ID == localENI2 {
				topo.NetworkInterfaces[i].SourceDestCheck = true
			}
		}
	}))
	cfg := allConfig()
	cfg.Routing.DNS = append(cfg.Routing.DNS, cluster.DNSRecord{HostedZoneID: "Z0AAA00000000000NOPE", Name: "x.example", TTL: 10})
	res, err := reroute.All(testCtx(t), l.clients, cfg, localNode2, localOpts...)
	var failed *reroute.ErrRerouteFailed
	if !errors.As(err, &failed) || !slices.Equal(failed.Failed, []string{reroute.TargetOverlayIP, reroute.TargetDNS}) {
		t.Fatalf("err = %v, want *ErrRerouteFailed for overlay-ip and dns", err)
	}
	var sd *reroute.ErrSourceDestCheck
	if !errors.As(err, &sd) {
		t.Fatalf("the source/dest refusal is not reachable through %v", err)
	}
	if !strings.Contains(err.Error(), "overlay-ip: ") || !strings.Contains(err.Error(), "dns: ") {
		t.Fatalf("error %q does not name the targets", err)
	}
	if _, eni, _ := l.ec2.AddressTarget(localAlloc); !res.Outcomes[1].OK || eni != localENI2 {
		t.Fatalf("the Elastic IP should have moved regardless: outcome %+v, on %s", res.Outcomes[1], eni)
	}
	if res.Outcomes[0].OK || res.Outcomes[0].Error == "" || res.Outcomes[2].OK {
		t.Fatalf("outcomes %+v", res.Outcomes)
	}
	if !slices.Equal(res.Failed(), []string{reroute.TargetOverlayIP, reroute.TargetDNS}) {
		t.Fatalf("Failed() = %v", res.Failed())
	}
	l.wantRoutes(t, localENI1, rtbF1, rtbF2)
}

func TestAllOnlyConfiguredTargets(t *testing.T) {
	l := newLocal(t)
	cfg := allConfig()
	cfg.Routing.OverlayIP, cfg.Routing.DNS = nil, nil
	res, err := reroute.All(testCtx(t), reroute.Clients{EC2: l.clients.EC2}, cfg, localNode2, localOpts...)
	if err != nil || len(res.Outcomes) != 1 || res.Outcomes[0].Target != reroute.TargetElasticIP {
		t.Fatalf("err %v, outcomes %+v", err, res.Outcomes)
	}
	if n := l.count("DescribeRouteTables", "*"); n != 0 {
		t.Fatalf("route tables were read (%d calls) although no overlay IP is configured", n)
	}
	cfg.Routing.ElasticIP = nil
	if _, err := reroute.All(testCtx(t), reroute.Clients{EC2: l.clients.EC2}, cfg, localNode2, localOpts...); err == nil {
		t.Fatal("no target configured, no error")
	}
}
