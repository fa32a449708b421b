package demo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/localstack"
)

// Checks shared by the scenario tests: where each target points, read
// back through the emulator's API; which calls changed it; where a new
// client connection through each address lands.

// pointing is where one scenario's target sends clients.
type pointing struct {
	node string // the node it points at; "" when neither, or not one node
	raw  string // what AWS says it points at
}

// mutatingOps are the calls that change each scenario's target.
var mutatingOps = map[string][]string{
	localstack.ScenarioRouteTable: {"ReplaceRoute", "CreateRoute", "DeleteRoute"},
	localstack.ScenarioEIP:        {"AssociateAddress", "DisassociateAddress"},
	localstack.ScenarioRoute53:    {"ChangeResourceRecordSets"},
}

// checkTargets reads every scenario's target with real SDK clients against
// the stack's emulator endpoint: those of moved must point at node2 and
// have been changed by a successful call, the others must still point at
// node1 and no call may have tried to change them.
func checkTargets(ctx context.Context, t *testing.T, s *localstack.Stack, moved []string) {
	t.Helper()
	calls := s.Server.Calls()
	for _, sc := range localstack.Scenarios {
		p, err := readTarget(ctx, s, sc)
		want := "node1"
		if slices.Contains(moved, sc) {
			want = "node2"
		}
		if err != nil || p.node != want {
			t.Errorf("%s target points at %q (%s, %v), want %s", sc, p.node, p.raw, err, want)
		}
		tried, succeeded := 0, 0
		for _, c := range calls {
			if slices.Contains(mutatingOps[sc], c.Operation) {
				tried++
				if c.ErrorCode == "" {
					succeeded++
				}
			}
		}
		switch {
		case want == "node2" && succeeded == 0:
			t.Errorf("%s target: no successful %v call, yet it moved", sc, mutatingOps[sc])
		case want == "node1" && tried > 0:
			t.Errorf("%s target is not configured, yet %d %v calls were made", sc, tried, mutatingOps[sc])
		}
	}
}

// readTarget reads where a scenario's target points, through the API.
func readTarget(ctx context.Context, s *localstack.Stack, scenario string) (pointing, error) {
	c := s.Client("scenario-test")
	nodeWhere := func(match func(*localstack.Node) bool) string {
		for name, n := range s.Nodes {
			if match(n) {
				return name
			}
		}
		return ""
	}
	switch scenario {
	case localstack.ScenarioRouteTable:
		in := &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
			{Name: aws.String("route.destination-cidr-block"), Values: []string{localstack.OverlayCIDR}}}}
		var raws []string
		nodes := map[string]bool{}
		for pages := ec2.NewDescribeRouteTablesPaginator(c.EC2, in); pages.HasMorePages(); {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return pointing{}, err
			}
			for _, rt := range page.RouteTables {
				for _, r := range rt.Routes {
					if aws.ToString(r.DestinationCidrBlock) != localstack.OverlayCIDR {
						continue
					}
					eni, inst := aws.ToString(r.NetworkInterfaceId), aws.ToString(r.InstanceId)
					raws = append(raws, aws.ToString(rt.RouteTableId)+"→"+cmp.Or(eni, inst))
					nodes[nodeWhere(func(n *localstack.Node) bool { return eni == n.ENI || (eni == "" && inst == n.Instance.ID) })] = true
				}
			}
		}
		p := pointing{raw: strings.Join(raws, ", ")}
		if len(raws) == 0 {
			return p, fmt.Errorf("no route table has a route to %s", localstack.OverlayCIDR)
		}
		if len(nodes) == 1 { // every table points at the same node
			for n := range nodes {
				p.node = n
			}
		}
		return p, nil
	case localstack.ScenarioEIP:
		alloc := s.Topology.Addresses[0].AllocationID
		out, err := c.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{alloc}})
		if err != nil {
			return pointing{}, err
		}
		if len(out.Addresses) != 1 {
			return pointing{}, fmt.Errorf("%d addresses for %s", len(out.Addresses), alloc)
		}
		eni, ip := aws.ToString(out.Addresses[0].NetworkInterfaceId), aws.ToString(out.Addresses[0].PrivateIpAddress)
		return pointing{raw: eni + " " + ip,
			node: nodeWhere(func(n *localstack.Node) bool { return eni == n.ENI && ip == n.Instance.PrivateIP })}, nil
	case localstack.ScenarioRoute53:
		zone := ""
		for _, z := range s.Topology.HostedZones {
			for _, r := range z.Records {
				if strings.TrimSuffix(r.Name, ".") == localstack.DNSName && r.Type == "A" {
					zone = z.ID
				}
			}
		}
		out, err := c.Route53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone),
			StartRecordName: aws.String(localstack.DNSName), StartRecordType: r53types.RRTypeA, MaxItems: aws.Int32(1)})
		if err != nil {
			return pointing{}, err
		}
		for _, rrs := range out.ResourceRecordSets {
			if strings.TrimSuffix(aws.ToString(rrs.Name), ".") != localstack.DNSName || rrs.Type != r53types.RRTypeA {
				continue
			}
			var values []string
			for _, v := range rrs.ResourceRecords {
				values = append(values, aws.ToString(v.Value))
			}
			return pointing{raw: fmt.Sprintf("%v ttl %d", values, aws.ToInt64(rrs.TTL)),
				node: nodeWhere(func(n *localstack.Node) bool { return slices.Equal(values, []string{n.Instance.PrivateIP}) })}, nil
		}
		return pointing{}, fmt.Errorf("no A record %s in hosted zone %q", localstack.DNSName, zone)
	}
	return pointing{}, fmt.Errorf("scenario %q", scenario)
}

// checkNextConnections opens a new connection through the address of each
// scenario of names, as a client reconnecting after the failover would:
// it must reach node2 and commit a write there.
func checkNextConnections(ctx context.Context, t *testing.T, s *localstack.Stack, names []string) {
	t.Helper()
	node2 := s.Nodes["node2"].PG.Addr()
	for _, sc := range names {
		path, err := s.ClientPath(sc)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := writeThrough(ctx, s, path.Forwarder.Addr()); err != nil || got != node2 {
			t.Errorf("a new connection through the %s: reached %s (%v); want node2 (%s), writable", path.Label, got, err, node2)
		}
	}
}

// writeThrough connects to addr as the demo's client does, commits a write
// (a temporary table: PostgreSQL refuses it in recovery) and returns the
// address of the server that took it.
func writeThrough(ctx context.Context, s *localstack.Stack, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.ClientDSN(addr))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var port string
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT current_setting('port')").Scan(&port); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TEMPORARY TABLE scenario_probe (x int) ON COMMIT DROP"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO scenario_probe VALUES (1)")
		return err
	})
	return "127.0.0.1:" + port, err
}
