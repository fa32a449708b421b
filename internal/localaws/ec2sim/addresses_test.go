package ec2sim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/localaws"
)

func TestDescribeAddresses(t *testing.T) {
	h := newHarness(t)
	out := must[*ec2.DescribeAddressesOutput](t)(h.client.DescribeAddresses(ctx(t), &ec2.DescribeAddressesInput{}))
	if len(out.Addresses) != 1 {
		t.Fatalf("want 1 address, got %d", len(out.Addresses))
	}
	a := out.Addresses[0]
	if aws.ToString(a.AllocationId) != refEIP || aws.ToString(a.PublicIp) != refEIPAddress || a.Domain != ec2types.DomainTypeVpc ||
		aws.ToString(a.InstanceId) != refNode1 || aws.ToString(a.NetworkInterfaceId) != refENI1 ||
		aws.ToString(a.PrivateIpAddress) != "10.0.2.10" || aws.ToString(a.AssociationId) == "" {
		t.Errorf("address = %+v", a)
	}
	for _, f := range [][]ec2types.Filter{
		filter("allocation-id", refEIP), filter("public-ip", refEIPAddress),
		filter("instance-id", refNode1), filter("network-interface-id", refENI1),
	} {
		out := must[*ec2.DescribeAddressesOutput](t)(h.client.DescribeAddresses(ctx(t), &ec2.DescribeAddressesInput{Filters: f}))
		if len(out.Addresses) != 1 {
			t.Errorf("filter %s=%v matched %d addresses, want 1", aws.ToString(f[0].Name), f[0].Values, len(out.Addresses))
		}
	}
	for _, f := range [][]ec2types.Filter{filter("instance-id", refNode2), filter("public-ip", "198.51.100.1")} {
		out := must[*ec2.DescribeAddressesOutput](t)(h.client.DescribeAddresses(ctx(t), &ec2.DescribeAddressesInput{Filters: f}))
		if len(out.Addresses) != 0 {
			t.Errorf("filter %s=%v matched %d addresses, want 0", aws.ToString(f[0].Name), f[0].Values, len(out.Addresses))
		}
	}
	_, err := h.client.DescribeAddresses(ctx(t), &ec2.DescribeAddressesInput{AllocationIds: []string{"eipalloc-0123456789abcdef0"}})
	wantCode(t, err, "InvalidAllocationID.NotFound", 400)
	_, err = h.client.DescribeAddresses(ctx(t), &ec2.DescribeAddressesInput{PublicIps: []string{"198.51.100.1"}})
	wantCode(t, err, "InvalidAddress.NotFound", 400)
}

func TestAssociateAndDisassociateAddress(t *testing.T) {
	h := newHarness(t)
	before := must[*ec2.DescribeAddressesOutput](t)(h.client.DescribeAddresses(ctx(t), &ec2.DescribeAddressesInput{}))
	oldAssoc := aws.ToString(before.Addresses[0].AssociationId)

	_, err := h.client.AssociateAddress(ctx(t), &ec2.AssociateAddressInput{
		AllocationId: aws.String(refEIP), InstanceId: aws.String(refNode2)})
	wantCode(t, err, "Resource.AlreadyAssociated", 400)
	if inst, _, _ := h.ec2.AddressTarget(refEIP); inst != refNode1 {
		t.Fatalf("refused association moved the address to %s", inst)
	}

	out := must[*ec2.AssociateAddressOutput](t)(h.client.AssociateAddress(ctx(t), &ec2.AssociateAddressInput{
		AllocationId: aws.String(refEIP), InstanceId: aws.String(refNode2), AllowReassociation: aws.Bool(true)}))
	newAssoc := aws.ToString(out.AssociationId)
	if newAssoc == "" || newAssoc == oldAssoc {
		t.Fatalf("association id %q, want a new one (old %q)", newAssoc, oldAssoc)
	}
	if inst, eni, ok := h.ec2.AddressTarget(refEIP); !ok || inst != refNode2 || eni != refENI2 {
		t.Fatalf("AddressTarget = %s %s %v, want node2 on eni2", inst, eni, ok)
	}
	in := must[*ec2.DescribeInstancesOutput](t)(h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{refNode1}}))
	if ip := in.Reservations[0].Instances[0].PublicIpAddress; ip != nil {
		t.Errorf("node1 still shows public IP %s", *ip)
	}

	// Associating again with the same target is idempotent.
	same := must[*ec2.AssociateAddressOutput](t)(h.client.AssociateAddress(ctx(t), &ec2.AssociateAddressInput{
		AllocationId: aws.String(refEIP), NetworkInterfaceId: aws.String(refENI2)}))
	if aws.ToString(same.AssociationId) != newAssoc {
		t.Errorf("re-association to the same ENI returned %s, want %s", aws.ToString(same.AssociationId), newAssoc)
	}

	_, err = h.client.DisassociateAddress(ctx(t), &ec2.DisassociateAddressInput{AssociationId: aws.String(oldAssoc)})
	wantCode(t, err, "InvalidAssociationID.NotFound", 400)
	_ = must[*ec2.DisassociateAddressOutput](t)(h.client.DisassociateAddress(ctx(t), &ec2.DisassociateAddressInput{AssociationId: aws.String(newAssoc)}))
	if _, _, ok := h.ec2.AddressTarget(refEIP); ok {
		t.Error("address still associated after DisassociateAddress")
	}
	_, err = h.client.DisassociateAddress(ctx(t), &ec2.DisassociateAddressInput{AssociationId: aws.String(newAssoc)})
	wantCode(t, err, "InvalidAssociationID.NotFound", 400)

	// Unassociated: associating needs no AllowReassociation.
	_ = must[*ec2.AssociateAddressOutput](t)(h.client.AssociateAddress(ctx(t), &ec2.AssociateAddressInput{
		AllocationId: aws.String(refEIP), NetworkInterfaceId: aws.String(refENI1)}))
	if inst, _, _ := h.ec2.AddressTarget(refEIP); inst != refNode1 {
		t.Errorf("address on %s, want node1", inst)
	}

	_, err = h.client.AssociateAddress(ctx(t), &ec2.AssociateAddressInput{
		AllocationId: aws.String("eipalloc-0123456789abcdef0"), InstanceId: aws.String(refNode2)})
	wantCode(t, err, "InvalidAllocationID.NotFound", 400)
	_, err = h.client.AssociateAddress(ctx(t), &ec2.AssociateAddressInput{
		AllocationId: aws.String(refEIP), InstanceId: aws.String("i-0123456789abcdef0"), AllowReassociation: aws.Bool(true)})
	wantCode(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = h.client.AssociateAddress(ctx(t), &ec2.AssociateAddressInput{
		AllocationId: aws.String(refEIP), NetworkInterfaceId: aws.String("eni-0123456789abcdef0"), AllowReassociation: aws.Bool(true)})
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound", 400)
}

// An Elastic IP associated with an ENI that already has one replaces it.
func TestAssociateAddressReplacesAddressOnTarget(t *testing.T) {
	topo := &localaws.Topology{
		VPCs:      []localaws.VPC{{ID: "vpc-0100000000000000a", CIDR: "10.0.0.0/16"}},
		Subnets:   []localaws.Subnet{{ID: "subnet-0100000000000000a", VPCID: "vpc-0100000000000000a", CIDR: "10.0.1.0/24"}},
		Instances: []localaws.Instance{{ID: "i-0100000000000000a", SubnetID: "subnet-0100000000000000a", PrivateIP: "10.0.1.5"}},
		Addresses: []localaws.Address{
			{AllocationID: "eipalloc-0100000000000000a", PublicIP: "198.51.100.1", InstanceID: "i-0100000000000000a"},
			{AllocationID: "eipalloc-0100000000000000b", PublicIP: "198.51.100.2"},
		},
	}
	h := newHarnessWith(t, topo)
	_ = must[*ec2.AssociateAddressOutput](t)(h.client.AssociateAddress(ctx(t), &ec2.AssociateAddressInput{
		AllocationId: aws.String("eipalloc-0100000000000000b"), InstanceId: aws.String("i-0100000000000000a")}))
	if _, _, ok := h.ec2.AddressTarget("eipalloc-0100000000000000a"); ok {
		t.Error("the instance's previous Elastic IP is still associated")
	}
	if inst, _, ok := h.ec2.AddressTarget("eipalloc-0100000000000000b"); !ok || inst != "i-0100000000000000a" {
		t.Errorf("new address target %s %v", inst, ok)
	}
}
