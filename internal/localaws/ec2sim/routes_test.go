package ec2sim_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/localaws"
)

func routeTableIDs(out *ec2.DescribeRouteTablesOutput) []string {
	var ids []string
	for _, rt := range out.RouteTables {
		ids = append(ids, aws.ToString(rt.RouteTableId))
	}
	return ids
}

func findRoute(rt ec2types.RouteTable, dest string) *ec2types.Route {
	for i := range rt.Routes {
		if aws.ToString(rt.Routes[i].DestinationCidrBlock) == dest {
			return &rt.Routes[i]
		}
	}
	return nil
}

func describeTable(t *testing.T, h *harness, id string) ec2types.RouteTable {
	t.Helper()
	out := must[*ec2.DescribeRouteTablesOutput](t)(h.client.DescribeRouteTables(ctx(t),
		&ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}}))
	if len(out.RouteTables) != 1 {
		t.Fatalf("describe %s: got %d tables", id, len(out.RouteTables))
	}
	return out.RouteTables[0]
}

func TestDescribeRouteTablesFilters(t *testing.T) {
	h := newHarness(t)
	all := []string{refMainRTB, refPublicRTB, refPrivateARTB, refPrivateCRTB}
	cases := []struct {
		name    string
		filters []ec2types.Filter
		want    []string
	}{
		{"none", nil, all},
		{"vpc-id", filter("vpc-id", refVPC), all},
		{"route-table-id", filter("route-table-id", refPrivateCRTB), []string{refPrivateCRTB}},
		{"association.subnet-id", filter("association.subnet-id", refSubnetA2), []string{refPrivateARTB}},
		{"association.subnet-id public", filter("association.subnet-id", refSubnetC1), []string{refPublicRTB}},
		{"association.main", filter("association.main", "true"), []string{refMainRTB}},
		{"route.destination-cidr-block", filter("route.destination-cidr-block", overlayCIDR), []string{refPrivateARTB, refPrivateCRTB}},
		{"route.network-interface-id", filter("route.network-interface-id", refENI1), []string{refPrivateARTB, refPrivateCRTB}},
		{"route.network-interface-id none", filter("route.network-interface-id", refENI2), nil},
		{"route.instance-id", filter("route.instance-id", refNode1), []string{refPrivateARTB, refPrivateCRTB}},
		{"route.gateway-id", filter("route.gateway-id", refIGW), []string{refPublicRTB}},
		{"route.nat-gateway-id", filter("route.nat-gateway-id", refNATC), []string{refPrivateCRTB}},
		{"tag:Name wildcard", filter("tag:Name", "private-?2"), []string{refPrivateARTB, refPrivateCRTB}},
		{"and", append(filter("route.destination-cidr-block", overlayCIDR), filter("association.subnet-id", refSubnetC2)...),
			[]string{refPrivateCRTB}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*ec2.DescribeRouteTablesOutput](t)(h.client.DescribeRouteTables(ctx(t),
				&ec2.DescribeRouteTablesInput{Filters: tc.filters}))
			if got := routeTableIDs(out); !sameSet(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	_, err := h.client.DescribeRouteTables(ctx(t), &ec2.DescribeRouteTablesInput{Filters: filter("route.bogus", "x")})
	wantCode(t, err, "InvalidParameterValue", 400)
	_, err = h.client.DescribeRouteTables(ctx(t), &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-0123456789abcdef0"}})
	wantCode(t, err, "InvalidRouteTableID.NotFound", 400)
}

func TestDescribeRouteTablesShowsRoutes(t *testing.T) {
	h := newHarness(t)
	rt := describeTable(t, h, refPrivateARTB)
	if aws.ToString(rt.VpcId) != refVPC || len(rt.Routes) != 3 {
		t.Fatalf("table: vpc %s, %d routes", aws.ToString(rt.VpcId), len(rt.Routes))
	}
	local := findRoute(rt, "10.0.0.0/16")
	if aws.ToString(local.GatewayId) != "local" || local.Origin != ec2types.RouteOriginCreateRouteTable || local.State != ec2types.RouteStateActive {
		t.Errorf("local route = %+v", *local)
	}
	overlay := findRoute(rt, overlayCIDR)
	if aws.ToString(overlay.NetworkInterfaceId) != refENI1 || aws.ToString(overlay.InstanceId) != refNode1 ||
		overlay.State != ec2types.RouteStateActive || overlay.Origin != ec2types.RouteOriginCreateRoute {
		t.Errorf("overlay route = %+v", *overlay)
	}
	if nat := findRoute(rt, "0.0.0.0/0"); aws.ToString(nat.NatGatewayId) != refNATA || nat.GatewayId != nil {
		t.Errorf("default route = %+v", *nat)
	}
	if len(rt.Associations) != 1 || aws.ToString(rt.Associations[0].SubnetId) != refSubnetA2 || aws.ToBool(rt.Associations[0].Main) {
		t.Errorf("associations = %+v", rt.Associations)
	}
}

func TestRouteToStoppedInstanceIsBlackhole(t *testing.T) {
	h := newHarness(t)
	if err := h.ec2.SetInstanceState(refNode1, "stopped"); err != nil {
		t.Fatal(err)
	}
	if r := findRoute(describeTable(t, h, refPrivateCRTB), overlayCIDR); r.State != ec2types.RouteStateBlackhole {
		t.Errorf("route to stopped node1: state %s, want blackhole", r.State)
	}
	out := must[*ec2.DescribeRouteTablesOutput](t)(h.client.DescribeRouteTables(ctx(t),
		&ec2.DescribeRouteTablesInput{Filters: filter("route.state", "blackhole")}))
	if got := routeTableIDs(out); !sameSet(got, []string{refPrivateARTB, refPrivateCRTB}) {
		t.Errorf("route.state=blackhole: %v", got)
	}
	if err := h.ec2.SetInstanceState(refNode1, "running"); err != nil {
		t.Fatal(err)
	}
	if r := findRoute(describeTable(t, h, refPrivateCRTB), overlayCIDR); r.State != ec2types.RouteStateActive {
		t.Errorf("route to running node1: state %s, want active", r.State)
	}
}

// paginationTopology has a VPC with n route tables.
func paginationTopology(n int) *localaws.Topology {
	topo := &localaws.Topology{Region: "us-east-1", AccountID: "123456789012",
		VPCs: []localaws.VPC{{ID: "vpc-0100000000000000a", CIDR: "10.0.0.0/16"}}}
	for i := range n {
		topo.RouteTables = append(topo.RouteTables, localaws.RouteTable{
			ID: fmt.Sprintf("rtb-0%016x", i+1), VPCID: "vpc-0100000000000000a",
			Routes: []localaws.Route{{Destination: "10.0.0.0/16", Target: "local"}},
		})
	}
	return topo
}

func TestDescribeRouteTablesPagination(t *testing.T) {
	h := newHarnessWith(t, paginationTopology(12))
	var seen []string
	pages := 0
	p := ec2.NewDescribeRouteTablesPaginator(h.client, &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out := must[*ec2.DescribeRouteTablesOutput](t)(p.NextPage(ctx(t)))
		pages++
		if len(out.RouteTables) > 5 {
			t.Fatalf("page %d has %d tables, MaxResults is 5", pages, len(out.RouteTables))
		}
		seen = append(seen, routeTableIDs(out)...)
	}
	if pages != 3 || len(seen) != 12 {
		t.Fatalf("got %d pages with %d tables, want 3 pages with 12", pages, len(seen))
	}
	unique := map[string]bool{}
	for _, id := range seen {
		unique[id] = true
	}
	if len(unique) != 12 {
		t.Fatalf("pages repeat tables: %v", seen)
	}

	for _, bad := range []int32{4, 101} {
		_, err := h.client.DescribeRouteTables(ctx(t), &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(bad)})
		wantCode(t, err, "InvalidParameterValue", 400)
	}
	_, err := h.client.DescribeRouteTables(ctx(t), &ec2.DescribeRouteTablesInput{NextToken: aws.String("not-a-token")})
	wantCode(t, err, "InvalidPaginationToken", 400)
}

func TestReplaceRoute(t *testing.T) {
	h := newHarness(t)
	_ = must[*ec2.ReplaceRouteOutput](t)(h.client.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{
		RouteTableId: aws.String(refPrivateARTB), DestinationCidrBlock: aws.String(overlayCIDR),
		NetworkInterfaceId: aws.String(refENI2)}))
	if target, ok := h.ec2.RouteTarget(refPrivateARTB, overlayCIDR); !ok || target != refENI2 {
		t.Fatalf("RouteTarget after ReplaceRoute = %q %v, want %s", target, ok, refENI2)
	}
	if target, _ := h.ec2.RouteTarget(refPrivateCRTB, overlayCIDR); target != refENI1 {
		t.Fatalf("the other table changed too: %s", target)
	}
	r := findRoute(describeTable(t, h, refPrivateARTB), overlayCIDR)
	if aws.ToString(r.NetworkInterfaceId) != refENI2 || aws.ToString(r.InstanceId) != refNode2 {
		t.Errorf("described route = %+v", *r)
	}

	// By instance id: the route keeps the instance's ENI.
	_ = must[*ec2.ReplaceRouteOutput](t)(h.client.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{
		RouteTableId: aws.String(refPrivateCRTB), DestinationCidrBlock: aws.String(overlayCIDR),
		InstanceId: aws.String(refNode2)}))
	if target, _ := h.ec2.RouteTarget(refPrivateCRTB, overlayCIDR); target != refENI2 {
		t.Fatalf("ReplaceRoute by instance: target %s, want %s", target, refENI2)
	}
	got := h.ec2.RouteTargets(overlayCIDR)
	if len(got) != 2 || got[refPrivateARTB] != refENI2 || got[refPrivateCRTB] != refENI2 {
		t.Errorf("RouteTargets = %v", got)
	}
}

func TestRouteErrors(t *testing.T) {
	h := newHarness(t)
	replace := func(rtb, dest string, mod func(*ec2.ReplaceRouteInput)) error {
		in := &ec2.ReplaceRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String(dest),
			NetworkInterfaceId: aws.String(refENI2)}
		if mod != nil {
			mod(in)
		}
		_, err := h.client.ReplaceRoute(ctx(t), in)
		return err
	}
	create := func(dest string, mod func(*ec2.CreateRouteInput)) error {
		in := &ec2.CreateRouteInput{RouteTableId: aws.String(refPrivateARTB), DestinationCidrBlock: aws.String(dest),
			NetworkInterfaceId: aws.String(refENI2)}
		if mod != nil {
			mod(in)
		}
		_, err := h.client.CreateRoute(ctx(t), in)
		return err
	}
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"replace missing destination", replace(refPrivateARTB, "10.1.0.11/32", nil), "InvalidParameterValue"},
		{"replace unknown table", replace("rtb-0123456789abcdef0", overlayCIDR, nil), "InvalidRouteTableID.NotFound"},
		{"replace unknown ENI", replace(refPrivateARTB, overlayCIDR, func(in *ec2.ReplaceRouteInput) {
			in.NetworkInterfaceId = aws.String("eni-0123456789abcdef0")
		}), "InvalidNetworkInterfaceID.NotFound"},
		{"replace unknown instance", replace(refPrivateARTB, overlayCIDR, func(in *ec2.ReplaceRouteInput) {
			in.NetworkInterfaceId, in.InstanceId = nil, aws.String("i-0123456789abcdef0")
		}), "InvalidInstanceID.NotFound"},
		{"replace malformed instance", replace(refPrivateARTB, overlayCIDR, func(in *ec2.ReplaceRouteInput) {
			in.NetworkInterfaceId, in.InstanceId = nil, aws.String("node2")
		}), "InvalidInstanceID.Malformed"},
		{"replace two targets", replace(refPrivateARTB, overlayCIDR, func(in *ec2.ReplaceRouteInput) {
			in.InstanceId = aws.String(refNode2)
		}), "InvalidParameterCombination"},
		{"replace no target", replace(refPrivateARTB, overlayCIDR, func(in *ec2.ReplaceRouteInput) {
			in.NetworkInterfaceId = nil
		}), "MissingParameter"},
		{"replace unknown NAT", replace(refPrivateARTB, "0.0.0.0/0", func(in *ec2.ReplaceRouteInput) {
			in.NetworkInterfaceId, in.NatGatewayId = nil, aws.String("nat-0123456789abcdef0")
		}), "NatGatewayNotFound"},
		{"create existing destination", create(overlayCIDR, nil), "RouteAlreadyExists"},
		{"create existing local", create("10.0.0.0/16", nil), "RouteAlreadyExists"},
		{"create bad CIDR", create("10.1.0.10/8", nil), "InvalidParameterValue"},
		{"create unknown table", create("10.1.0.20/32", func(in *ec2.CreateRouteInput) {
			in.RouteTableId = aws.String("rtb-0123456789abcdef0")
		}), "InvalidRouteTableID.NotFound"},
		{"create unknown gateway", create("10.1.0.20/32", func(in *ec2.CreateRouteInput) {
			in.NetworkInterfaceId, in.GatewayId = nil, aws.String("igw-0123456789abcdef0")
		}), "InvalidGatewayID.NotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err, tc.code, 400) })
	}
	if target, _ := h.ec2.RouteTarget(refPrivateARTB, overlayCIDR); target != refENI1 {
		t.Errorf("failed calls changed the overlay route to %s", target)
	}
	if _, ok := h.ec2.RouteTarget(refPrivateARTB, "10.1.0.20/32"); ok {
		t.Errorf("a failed CreateRoute created a route")
	}
}

// EC2 answers ReplaceRoute of a destination the table has no route for
// with InvalidParameterValue and this message, not InvalidRoute.NotFound
// (getmoto/moto#6425 checked it against AWS). Callers that must tell a
// missing route from other invalid parameters match the message or
// describe the table, so the emulator must say it the same way.
func TestReplaceRouteOfMissingRoute(t *testing.T) {
	h := newHarness(t)
	_, err := h.client.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{RouteTableId: aws.String(refPrivateARTB),
		DestinationCidrBlock: aws.String("10.0.0.10/32"), NetworkInterfaceId: aws.String(refENI2)})
	wantCode(t, err, "InvalidParameterValue", 400)
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%v is not an API error", err)
	}
	const want = "There is no route defined for '10.0.0.10/32' in the route table. Use CreateRoute instead."
	if ae.ErrorMessage() != want {
		t.Errorf("message %q, want %q", ae.ErrorMessage(), want)
	}
	if _, ok := h.ec2.RouteTarget(refPrivateARTB, "10.0.0.10/32"); ok {
		t.Error("ReplaceRoute of a missing route created it")
	}
	if target, _ := h.ec2.RouteTarget(refPrivateARTB, overlayCIDR); target != refENI1 {
		t.Errorf("the table's overlay route changed to %s", target)
	}
}

func TestRemoveRoute(t *testing.T) {
	h := newHarness(t)
	if err := h.ec2.RemoveRoute(refPrivateARTB, overlayCIDR); err != nil {
		t.Fatalf("RemoveRoute: %v", err)
	}
	if r := findRoute(describeTable(t, h, refPrivateARTB), overlayCIDR); r != nil {
		t.Fatalf("the removed route is still described: %+v", *r)
	}
	if target, _ := h.ec2.RouteTarget(refPrivateCRTB, overlayCIDR); target != refENI1 {
		t.Errorf("the other table's route changed to %q", target)
	}
	_, err := h.client.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{RouteTableId: aws.String(refPrivateARTB),
		DestinationCidrBlock: aws.String(overlayCIDR), NetworkInterfaceId: aws.String(refENI2)})
	wantCode(t, err, "InvalidParameterValue", 400)
	for _, bad := range []struct{ table, dest string }{
		{refPrivateARTB, overlayCIDR},          // gone already
		{refPrivateARTB, "10.0.0.0/16"},        // the local route
		{"rtb-0123456789abcdef0", overlayCIDR}, // no such table
	} {
		if err := h.ec2.RemoveRoute(bad.table, bad.dest); err == nil {
			t.Errorf("RemoveRoute(%s, %s) succeeded", bad.table, bad.dest)
		}
	}
}

func TestCreateRoute(t *testing.T) {
	h := newHarness(t)
	_ = must[*ec2.CreateRouteOutput](t)(h.client.CreateRoute(ctx(t), &ec2.CreateRouteInput{
		RouteTableId: aws.String(refPublicRTB), DestinationCidrBlock: aws.String(overlayCIDR), InstanceId: aws.String(refNode1)}))
	r := findRoute(describeTable(t, h, refPublicRTB), overlayCIDR)
	if r == nil || aws.ToString(r.NetworkInterfaceId) != refENI1 || aws.ToString(r.InstanceId) != refNode1 ||
		r.Origin != ec2types.RouteOriginCreateRoute || r.State != ec2types.RouteStateActive {
		t.Fatalf("created route = %+v", r)
	}
	_ = must[*ec2.CreateRouteOutput](t)(h.client.CreateRoute(ctx(t), &ec2.CreateRouteInput{
		RouteTableId: aws.String(refMainRTB), DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(refNATA)}))
	if target, ok := h.ec2.RouteTarget(refMainRTB, "0.0.0.0/0"); !ok || target != refNATA {
		t.Fatalf("NAT route target = %q %v", target, ok)
	}
	_, err := h.client.CreateRoute(ctx(t), &ec2.CreateRouteInput{
		RouteTableId: aws.String(refPublicRTB), DestinationCidrBlock: aws.String(overlayCIDR), InstanceId: aws.String(refNode2)})
	wantCode(t, err, "RouteAlreadyExists", 400)
}
