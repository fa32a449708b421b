package ec2sim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/switchyard/switchyard/internal/localaws"
)

// A route table removed by another actor is gone for every caller: by id
// (InvalidRouteTableID.NotFound for Describe and ReplaceRoute alike), by
// filter and in-process. The main table and an associated table stay.
func TestRemoveRouteTable(t *testing.T) {
	const (
		vpcID      = "vpc-0100000000000000a"
		subnetID   = "subnet-0100000000000000a"
		eniID      = "eni-0100000000000000a"
		mainRTB    = "rtb-0100000000000000a"
		subnetRTB  = "rtb-0100000000000000b"
		detached   = "rtb-0100000000000000c"
		overlay    = "10.1.0.10/32"
		unknownRTB = "rtb-0100000000000000f"
	)
	local := localaws.Route{Destination: "10.0.0.0/16", Target: "local"}
	toENI := localaws.Route{Destination: overlay, Target: eniID}
	topo := &localaws.Topology{
		VPCs:              []localaws.VPC{{ID: vpcID, CIDR: "10.0.0.0/16"}},
		Subnets:           []localaws.Subnet{{ID: subnetID, VPCID: vpcID, CIDR: "10.0.1.0/24"}},
		NetworkInterfaces: []localaws.NetworkInterface{{ID: eniID, SubnetID: subnetID, PrivateIP: "10.0.1.5"}},
		RouteTables: []localaws.RouteTable{
			{ID: mainRTB, VPCID: vpcID, Main: true, Routes: []localaws.Route{local}},
			{ID: subnetRTB, VPCID: vpcID, Subnets: []string{subnetID}, Routes: []localaws.Route{local, toENI}},
			{ID: detached, VPCID: vpcID, Routes: []localaws.Route{local, toENI}},
		},
	}
	h := newHarnessWith(t, topo)
	for _, id := range []string{mainRTB, subnetRTB, unknownRTB} {
		if err := h.ec2.RemoveRouteTable(id); err == nil {
			t.Errorf("RemoveRouteTable(%s) succeeded, want refused", id)
		}
	}
	if err := h.ec2.RemoveRouteTable(detached); err != nil {
		t.Fatalf("RemoveRouteTable(%s): %v", detached, err)
	}
	if err := h.ec2.RemoveRouteTable(detached); err == nil {
		t.Error("removing the table twice succeeded")
	}

	_, err := h.client.DescribeRouteTables(ctx(t), &ec2.DescribeRouteTablesInput{RouteTableIds: []string{detached}})
	wantCode(t, err, "InvalidRouteTableID.NotFound", 400)
	_, err = h.client.ReplaceRoute(ctx(t), &ec2.ReplaceRouteInput{RouteTableId: aws.String(detached),
		DestinationCidrBlock: aws.String(overlay), NetworkInterfaceId: aws.String(eniID)})
	wantCode(t, err, "InvalidRouteTableID.NotFound", 400)
	out := must[*ec2.DescribeRouteTablesOutput](t)(h.client.DescribeRouteTables(ctx(t),
		&ec2.DescribeRouteTablesInput{Filters: filter("route.destination-cidr-block", overlay)}))
	var ids []string
	for _, rt := range out.RouteTables {
		ids = append(ids, aws.ToString(rt.RouteTableId))
	}
	if !sameSet(ids, []string{subnetRTB}) {
		t.Errorf("tables with the overlay route: %v, want only %s", ids, subnetRTB)
	}
	if _, ok := h.ec2.RouteTarget(detached, overlay); ok {
		t.Error("RouteTarget still finds the removed table's route")
	}
	if got := h.ec2.RouteTargets(overlay); len(got) != 1 || got[subnetRTB] != eniID {
		t.Errorf("RouteTargets = %v, want only %s → %s", got, subnetRTB, eniID)
	}
	if rt, ok := h.ec2.RouteTableOfSubnet(subnetID); !ok || rt != subnetRTB {
		t.Errorf("the subnet's table is %s (%v), want %s", rt, ok, subnetRTB)
	}
}
