package reroute_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
	"github.com/switchyard/switchyard/internal/localaws/route53sim"
	"github.com/switchyard/switchyard/internal/reroute"
)

// Ids of testdata/two-vpcs.yaml.
const (
	appVPC     = "vpc-0aaa0000000000001"
	hubVPC     = "vpc-0bbb0000000000002"
	overlayIP  = "10.1.0.10/32"
	localENI1  = "eni-0aaa0000000000011"
	localENI2  = "eni-0aaa0000000000022"
	localAlloc = "eipalloc-0aaa0000000000001"
	privZone   = "Z0AAA00000000000PRIV"
	publZone   = "Z0AAA00000000000PUBL"
)

var (
	localNode2 = cluster.Node{Name: "node2", InstanceID: "i-0aaa0000000000022", NetworkInterfaceID: localENI2, PrivateIP: "10.0.12.10"}
	localOpts  = []reroute.Option{reroute.WithPollInterval(20 * time.Millisecond), reroute.WithRetry(5*time.Millisecond, 5),
		reroute.WithVerifyTimeout(5 * time.Second)}
	throttle = &localaws.APIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded.", HTTPStatus: http.StatusServiceUnavailable}
)

type local struct {
	topo    *localaws.Topology
	srv     *localaws.Server
	ec2     *ec2sim.Service
	r53     *route53sim.Service
	clients reroute.Clients
}

// newLocal serves testdata/two-vpcs.yaml (after edit, if given) from the
// EC2 and Route 53 emulators over HTTP and returns real SDK clients for
// them, with quick SDK retry backoff.
func newLocal(t *testing.T, edit func(*localaws.Topology)) *local {
	t.Helper()
	topo, err := localaws.LoadTopology("testdata/two-vpcs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(topo)
	}
	l := &local{topo: topo, srv: localaws.NewServer(), ec2: ec2sim.New(topo)}
	if l.r53, err = route53sim.New(topo); err != nil {
		t.Fatal(err)
	}
	l.r53.SetPropagationDelay(200 * time.Millisecond)
	l.srv.Register(l.ec2)
	l.srv.Register(l.r53)
	hs := httptest.NewServer(l.srv)
	t.Cleanup(hs.Close)
	opts := append(awsapi.LocalConfig(hs.URL, "us-east-1", "reroute-test"), config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 2 * time.Millisecond, nil })
		})
	}))
	clients, err := awsapi.NewClients(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	l.clients = reroute.Clients{EC2: clients.EC2, Route53: clients.Route53}
	return l
}

// wantRoutes checks every route of the topology: the overlay route of each
// table of the app VPC goes to overlayTarget, everything else is as seeded.
func (l *local) wantRoutes(t *testing.T, overlayTarget string) {
	t.Helper()
	for _, rt := range l.topo.RouteTables {
		for _, r := range rt.Routes {
			want := r.Target
			if strings.HasPrefix(want, "i-") {
				want, _, _ = l.ec2.InstanceNetworkInterface(want)
			}
			if rt.VPCID == appVPC && r.Destination == overlayIP {
				want = overlayTarget
			}
			if got, _ := l.ec2.RouteTarget(rt.ID, r.Destination); got != want {
				t.Errorf("%s: route %s → %s, want %s", rt.ID, r.Destination, got, want)
			}
		}
	}
}

func (l *local) count(op, code string) int {
	n := 0
	for _, c := range l.srv.Calls() {
		if c.Operation == op && (code == "*" || c.ErrorCode == code) {
			n++
		}
	}
	return n
}

func overlayConfig() cluster.OverlayIP {
	return cluster.OverlayIP{CIDR: overlayIP, VPCIDs: []string{appVPC, hubVPC}}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLocalRouteTablesAcrossVPCs(t *testing.T) {
	l := newLocal(t, nil)
	l.wantRoutes(t, localENI1)
	res, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	if err != nil {
		t.Fatalf("RouteTables: %v", err)
	}
	l.wantRoutes(t, localENI2)
	var changed []string
	for _, c := range res.Changed {
		changed = append(changed, c.RouteTableID)
		if c.PreviousTarget != localENI1 || c.VPCID != appVPC {
			t.Errorf("change %+v", c)
		}
	}
	if want := []string{"rtb-0aaa00000000000a1", "rtb-0aaa00000000000c1", "rtb-0aaa00000000000e1"}; !slices.Equal(changed, want) {
		t.Fatalf("changed %v, want %v", changed, want)
	}
	want := []reroute.ForeignRoute{
		{RouteTableID: "rtb-0bbb00000000000a1", VPCID: hubVPC, Target: "vgw-0bbb0000000000001"},
		{RouteTableID: "rtb-0bbb00000000000a2", VPCID: hubVPC, Target: "eni-0bbb0000000000011"},
	}
	if !slices.Equal(res.OtherVPC, want) {
		t.Fatalf("other-VPC tables %+v, want %+v", res.OtherVPC, want)
	}

	l.srv.ResetCalls()
	res, err = reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	if err != nil || len(res.Changed) != 0 || len(res.AlreadyCorrect) != 3 || l.count("ReplaceRoute", "*") != 0 {
		t.Fatalf("retry: err %v, result %+v, ReplaceRoute calls %d", err, res, l.count("ReplaceRoute", "*"))
	}
}

func TestLocalThrottledReplaceRouteConverges(t *testing.T) {
	l := newLocal(t, nil)
	// More failures than the SDK's three attempts for each of the three
	// calls can absorb: only the extra retry gets through.
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "ReplaceRoute", FailNext: 12, Error: throttle})
	if _, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...); err != nil {
		t.Fatalf("RouteTables under throttling: %v", err)
	}
	l.wantRoutes(t, localENI2)
	if n := l.count("ReplaceRoute", "RequestLimitExceeded"); n != 12 {
		t.Fatalf("%d ReplaceRoute calls throttled, want the 12 injected", n)
	}
}

func TestLocalSourceDestCheckRefusal(t *testing.T) {
	l := newLocal(t, func(topo *localaws.Topology) {
		for i := range topo.NetworkInterfaces {
			if topo.NetworkInterfaces[i].ID == localENI2 {
				topo.NetworkInterfaces[i].SourceDestCheck = true
			}
		}
	})
	_, err := reroute.RouteTables(testCtx(t), l.clients.EC2, overlayConfig(), localNode2, localOpts...)
	var sd *reroute.ErrSourceDestCheck
	if !errors.As(err, &sd) || sd.NetworkInterfaceID != localENI2 {
		t.Fatalf("err = %v, want *ErrSourceDestCheck", err)
	}
	l.wantRoutes(t, localENI1)
	for _, c := range l.srv.Calls() {
		if c.Operation != "DescribeNetworkInterfaces" {
			t.Errorf("refusal made a %s call", c.Operation)
		}
	}
}

func TestLocalElasticIP(t *testing.T) {
	l := newLocal(t, nil)
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "AssociateAddress", FailNext: 4, Error: throttle})
	res, err := reroute.ElasticIP(testCtx(t), l.clients.EC2, cluster.ElasticIP{AllocationID: localAlloc}, localNode2, localOpts...)
	if err != nil {
		t.Fatalf("ElasticIP: %v", err)
	}
	if inst, eni, ok := l.ec2.AddressTarget(localAlloc); !ok || eni != localENI2 || inst != localNode2.InstanceID {
		t.Fatalf("Elastic IP on %s/%s", inst, eni)
	}
	if res.PreviousNetworkInterfaceID != localENI1 || res.PublicIP != "203.0.113.10" || !res.Changed || res.AssociationID == "" {
		t.Fatalf("result %+v", res)
	}
	l.srv.ResetCalls()
	if res, err := reroute.ElasticIP(testCtx(t), l.clients.EC2, cluster.ElasticIP{AllocationID: localAlloc}, localNode2, localOpts...); err != nil || res.Changed {
		t.Fatalf("retry: %v %+v", err, res)
	}
	if n := l.count("AssociateAddress", "*"); n != 0 {
		t.Fatalf("retry made %d AssociateAddress calls", n)
	}
}

func TestLocalDNSWaitsForInSync(t *testing.T) {
	l := newLocal(t, nil)
	recs := []cluster.DNSRecord{
		{HostedZoneID: privZone, Name: "pg.db.switchyard.internal", TTL: 10},
		{HostedZoneID: privZone, Name: "writer.db.switchyard.internal", TTL: 10},
		{HostedZoneID: publZone, Name: "pg.switchyard.example.com.", TTL: 60},
	}
	res, err := reroute.DNS(testCtx(t), l.clients.Route53, recs, localNode2, localOpts...)
	if err != nil {
		t.Fatalf("DNS: %v", err)
	}
	// DNS returned after INSYNC, so resolvers already see the new address.
	for _, r := range recs {
		if got := l.r53.Resolve(r.Name, "A"); !slices.Equal(got, []string{localNode2.PrivateIP}) {
			t.Errorf("%s resolves to %v", r.Name, got)
		}
	}
	if got := l.r53.Resolve("node1.db.switchyard.internal", "A"); !slices.Equal(got, []string{"10.0.2.10"}) {
		t.Errorf("an unrelated record changed: %v", got)
	}
	if n := l.count("ChangeResourceRecordSets", "*"); n != 2 {
		t.Fatalf("%d ChangeResourceRecordSets calls, want one per zone", n)
	}
	if l.count("GetChange", "*") < 2 || len(res.Records[1].Previous) != 0 || !slices.Equal(res.Records[0].Previous, []string{"10.0.2.10"}) {
		t.Fatalf("result %+v", res.Records)
	}
}

func TestLocalAll(t *testing.T) {
	l := newLocal(t, nil)
	o := overlayConfig()
	cfg := &cluster.Config{Name: "pg", Routing: cluster.Routing{
		OverlayIP: &o,
		ElasticIP: &cluster.ElasticIP{AllocationID: localAlloc},
		DNS:       []cluster.DNSRecord{{HostedZoneID: privZone, Name: "pg.db.switchyard.internal", TTL: 10}},
	}}
	res, err := reroute.All(testCtx(t), l.clients, cfg, localNode2, localOpts...)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	if len(res.Outcomes) != 3 || res.Failed() != nil {
		t.Fatalf("outcomes %+v", res.Outcomes)
	}
	l.wantRoutes(t, localENI2)
	if _, eni, _ := l.ec2.AddressTarget(localAlloc); eni != localENI2 {
		t.Fatalf("Elastic IP on %s", eni)
	}
	if got := l.r53.Resolve("pg.db.switchyard.internal", "A"); !slices.Equal(got, []string{localNode2.PrivateIP}) {
		t.Fatalf("DNS resolves to %v", got)
	}
}
