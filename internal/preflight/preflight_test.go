package preflight_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/refaccount"
	"github.com/switchyard/switchyard/internal/preflight"
)

const repo = "../.."

// account serves the reference topology (testdata/topology), after edit,
// with EC2, Route 53 and Secrets Manager, and returns clients for it and
// the sample cluster configuration (events/), which describes that
// account.
func account(t *testing.T, edit func(*localaws.Topology)) (*awsall.Clients, *cluster.Config) {
	t.Helper()
	c := refaccount.Serve(t, repo, "preflight-test", edit).Clients
	cfg, err := cluster.Load(filepath.Join(repo, "events", "cluster-config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return c, cfg
}

func clientsOf(c *awsall.Clients) preflight.Clients {
	return preflight.Clients{EC2: c.EC2, Route53: c.Route53, Secrets: c.Secrets, Region: c.Config.Region}
}

func byName(checks []preflight.Check) map[string]preflight.Check {
	m := map[string]preflight.Check{}
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}

func run(t *testing.T, c *awsall.Clients, cfg *cluster.Config, o preflight.Options) map[string]preflight.Check {
	t.Helper()
	checks := preflight.Run(context.Background(), clientsOf(c), cfg, o)
	for _, ch := range checks {
		t.Logf("%-4s %-34s %s | %s", ch.Status, ch.Name, ch.Detail, ch.Fix)
	}
	return byName(checks)
}

func TestPreflightOnTheReferenceAccount(t *testing.T) {
	c, cfg := account(t, nil)
	checks := run(t, c, cfg, preflight.Options{LambdaSubnets: []string{"subnet-0374f21a8e1c22245"}})
	for name, ch := range checks {
		if ch.Status == preflight.Fail {
			t.Errorf("%s failed on the reference account: %s", name, ch.Detail)
		}
	}
	if len(checks) < 8 {
		t.Errorf("%d checks, want instances, ENIs, overlay, Elastic IP, zone, record and the subnet", len(checks))
	}
	// A public subnet (route to an internet gateway) cannot be the Lambdas'.
	public := run(t, c, cfg, preflight.Options{LambdaSubnets: []string{"subnet-0736fd41f08cf38cd"}})
	if ch := public["Lambda subnet subnet-0736fd41f08cf38cd"]; ch.Status != preflight.Fail || !strings.Contains(ch.Fix, "NAT gateway") {
		t.Errorf("public subnet: %+v", ch)
	}
}

func TestPreflightNamesWhatIsWrongAndTheFix(t *testing.T) {
	c, cfg := account(t, nil)
	ctx := context.Background()
	eni := cfg.Nodes[1].NetworkInterfaceID
	if _, err := c.EC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eni),
		SourceDestCheck: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	cfg.Nodes[0].InstanceID = "i-0000000000000dead"
	cfg.Routing.OverlayIP.CIDR = "10.0.2.99/32" // inside the VPC
	cfg.Routing.DNS[0].TTL = 10
	checks := run(t, c, cfg, preflight.Options{})
	for _, want := range []struct{ name, status, detail, fix string }{
		{"instance node1", preflight.Fail, "i-0000000000000dead", "nodes[].instanceId"},
		{"network interface node1", preflight.Fail, "is not attached to i-0000000000000dead", "ENI attached to the node's instance"},
		{"network interface node2", preflight.Fail, "source/destination check on", "--no-source-dest-check"},
		{"overlay address 10.0.2.99/32", preflight.Fail, "overlaps", "outside every VPC CIDR"},
		{"overlay routes", preflight.Fail, "no route table", "create-route"},
	} {
		ch, ok := checks[want.name]
		if !ok || ch.Status != want.status || !strings.Contains(ch.Detail, want.detail) || !strings.Contains(ch.Fix, want.fix) {
			t.Errorf("%s: %+v, want %s mentioning %q and the fix %q", want.name, ch, want.status, want.detail, want.fix)
		}
	}
	if preflight.Failed(preflight.Run(ctx, clientsOf(c), cfg, preflight.Options{})) != 5 {
		t.Error("Failed does not count the five failures")
	}
}

func TestPreflightPrivateZoneAndTTL(t *testing.T) {
	c, cfg := account(t, func(topo *localaws.Topology) {
		for i := range topo.HostedZones {
			if topo.HostedZones[i].Private {
				topo.HostedZones[i].VPCs = []string{"vpc-0ffffffffffffffff"}
			}
		}
	})
	cfg.Routing.DNS[0].TTL = 10
	checks := run(t, c, cfg, preflight.Options{})
	zone := checks["hosted zone "+cfg.Routing.DNS[0].HostedZoneID]
	if zone.Status != preflight.Fail || !strings.Contains(zone.Fix, "associate-vpc-with-hosted-zone") {
		t.Errorf("zone not associated with the client VPC: %+v", zone)
	}
	rec := checks["record "+strings.TrimSuffix(cfg.Routing.DNS[0].Name, ".")+"."]
	if rec.Status != preflight.Warn || !strings.Contains(rec.Detail, "TTL 30 s, the configuration says 10 s") {
		t.Errorf("record with another TTL: %+v", rec)
	}
}

func TestPreflightExplicitRouteTables(t *testing.T) {
	c, cfg := account(t, nil)
	cfg.Routing.OverlayIP.RouteTableIDs = []string{"rtb-0f8b6e0c9dcdab1f6"}
	if ch := run(t, c, cfg, preflight.Options{})["overlay routes"]; ch.Status != preflight.Warn || !strings.Contains(ch.Detail, "rtb-05f660c2254f91c10") {
		t.Errorf("a table with the route, not listed: %+v", ch)
	}
	cfg.Routing.OverlayIP.RouteTableIDs = []string{"rtb-0f8b6e0c9dcdab1f6", "rtb-05f660c2254f91c10", "rtb-0d6e3b30df197e5da"}
	if ch := run(t, c, cfg, preflight.Options{})["overlay routes"]; ch.Status != preflight.Fail || !strings.Contains(ch.Fix, "rtb-0d6e3b30df197e5da") {
		t.Errorf("a listed table without the route: %+v", ch)
	}
}
