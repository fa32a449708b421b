package ec2sim_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func eniIDs(out *ec2.DescribeNetworkInterfacesOutput) []string {
	var ids []string
	for _, n := range out.NetworkInterfaces {
		ids = append(ids, aws.ToString(n.NetworkInterfaceId))
	}
	return ids
}

func TestDescribeNetworkInterfaces(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name  string
		input ec2.DescribeNetworkInterfacesInput
		want  []string
	}{
		{"all", ec2.DescribeNetworkInterfacesInput{}, []string{refENI1, refENI2}},
		{"by id", ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{refENI2}}, []string{refENI2}},
		{"network-interface-id", ec2.DescribeNetworkInterfacesInput{Filters: filter("network-interface-id", refENI1)}, []string{refENI1}},
		{"attachment.instance-id", ec2.DescribeNetworkInterfacesInput{Filters: filter("attachment.instance-id", refNode2)}, []string{refENI2}},
		{"subnet-id", ec2.DescribeNetworkInterfacesInput{Filters: filter("subnet-id", refSubnetA2)}, []string{refENI1}},
		{"subnet-id public", ec2.DescribeNetworkInterfacesInput{Filters: filter("subnet-id", refSubnetA1)}, nil},
		{"vpc-id", ec2.DescribeNetworkInterfacesInput{Filters: filter("vpc-id", refVPC)}, []string{refENI1, refENI2}},
		{"association.allocation-id", ec2.DescribeNetworkInterfacesInput{Filters: filter("association.allocation-id", refEIP)}, []string{refENI1}},
		{"group-id", ec2.DescribeNetworkInterfacesInput{Filters: filter("group-id", refSGIsolation)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*ec2.DescribeNetworkInterfacesOutput](t)(h.client.DescribeNetworkInterfaces(ctx(t), &tc.input))
			if got := eniIDs(out); !sameSet(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	out := must[*ec2.DescribeNetworkInterfacesOutput](t)(h.client.DescribeNetworkInterfaces(ctx(t),
		&ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{refENI1}}))
	n := out.NetworkInterfaces[0]
	if n.Status != ec2types.NetworkInterfaceStatusInUse || n.Attachment == nil || aws.ToString(n.Attachment.InstanceId) != refNode1 ||
		aws.ToString(n.PrivateIpAddress) != "10.0.2.10" || aws.ToBool(n.SourceDestCheck) ||
		n.Association == nil || aws.ToString(n.Association.PublicIp) != refEIPAddress {
		t.Errorf("eni1 = status %s attachment %+v ip %s sdc %v assoc %+v", n.Status, n.Attachment,
			aws.ToString(n.PrivateIpAddress), aws.ToBool(n.SourceDestCheck), n.Association)
	}
	_, err := h.client.DescribeNetworkInterfaces(ctx(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-0123456789abcdef0"}})
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound", 400)
}

func TestModifyNetworkInterfaceAttribute(t *testing.T) {
	h := newHarness(t)
	// Isolation fence: swap node1's groups for the isolation group.
	_ = must[*ec2.ModifyNetworkInterfaceAttributeOutput](t)(h.client.ModifyNetworkInterfaceAttribute(ctx(t),
		&ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(refENI1), Groups: []string{refSGIsolation}}))
	if got := h.ec2.SecurityGroups(refENI1); !slices.Equal(got, []string{refSGIsolation}) {
		t.Fatalf("SecurityGroups = %v", got)
	}
	out := must[*ec2.DescribeNetworkInterfacesOutput](t)(h.client.DescribeNetworkInterfaces(ctx(t),
		&ec2.DescribeNetworkInterfacesInput{Filters: filter("group-name", "switchyard-isolation")}))
	if got := eniIDs(out); !slices.Equal(got, []string{refENI1}) {
		t.Errorf("ENIs in the isolation group: %v", got)
	}

	_ = must[*ec2.ModifyNetworkInterfaceAttributeOutput](t)(h.client.ModifyNetworkInterfaceAttribute(ctx(t),
		&ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(refENI2),
			SourceDestCheck: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	if on, ok := h.ec2.SourceDestCheck(refENI2); !ok || !on {
		t.Errorf("SourceDestCheck(eni2) = %v %v, want on", on, ok)
	}

	_, err := h.client.ModifyNetworkInterfaceAttribute(ctx(t), &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String("eni-0123456789abcdef0"), Groups: []string{refSGDB}})
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound", 400)
	_, err = h.client.ModifyNetworkInterfaceAttribute(ctx(t), &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String(refENI1), Groups: []string{refSGDB, "sg-0123456789abcdef0"}})
	wantCode(t, err, "InvalidGroup.NotFound", 400)
	if got := h.ec2.SecurityGroups(refENI1); !slices.Equal(got, []string{refSGIsolation}) {
		t.Errorf("a failed modify changed the groups to %v", got)
	}
	_, err = h.client.ModifyNetworkInterfaceAttribute(ctx(t), &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String(refENI1)})
	wantCode(t, err, "MissingParameter", 400)
}

func TestAccessors(t *testing.T) {
	h := newHarness(t)
	if rt, ok := h.ec2.RouteTableOfSubnet(refSubnetC2); !ok || rt != refPrivateCRTB {
		t.Errorf("RouteTableOfSubnet(C2) = %s %v", rt, ok)
	}
	if inst, ip, ok := h.ec2.NetworkInterface(refENI2); !ok || inst != refNode2 || ip != "10.0.12.10" {
		t.Errorf("NetworkInterface(eni2) = %s %s %v", inst, ip, ok)
	}
	if _, _, ok := h.ec2.NetworkInterface("eni-0123456789abcdef0"); ok {
		t.Error("NetworkInterface found an unknown ENI")
	}
	if eni, ip, ok := h.ec2.InstanceNetworkInterface(refNode1); !ok || eni != refENI1 || ip != "10.0.2.10" {
		t.Errorf("InstanceNetworkInterface(node1) = %s %s %v", eni, ip, ok)
	}
	if alloc, ok := h.ec2.AddressByPublicIP(refEIPAddress); !ok || alloc != refEIP {
		t.Errorf("AddressByPublicIP = %s %v", alloc, ok)
	}
	if got := h.ec2.InstanceIDs(); !slices.Equal(got, []string{refNode1, refNode2}) {
		t.Errorf("InstanceIDs = %v", got)
	}
	if got := h.ec2.InstanceState("i-0123456789abcdef0"); got != "" {
		t.Errorf("InstanceState(unknown) = %q", got)
	}
}
