package ec2sim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestDescribeVpcs(t *testing.T) {
	h := newHarness(t)
	out := must[*ec2.DescribeVpcsOutput](t)(h.client.DescribeVpcs(ctx(t), &ec2.DescribeVpcsInput{}))
	if len(out.Vpcs) != 1 {
		t.Fatalf("want 1 VPC, got %d", len(out.Vpcs))
	}
	v := out.Vpcs[0]
	if aws.ToString(v.VpcId) != refVPC || aws.ToString(v.CidrBlock) != "10.0.0.0/16" || v.State != ec2types.VpcStateAvailable {
		t.Errorf("VPC = %s %s %s", aws.ToString(v.VpcId), aws.ToString(v.CidrBlock), v.State)
	}
	if len(v.Tags) != 1 || aws.ToString(v.Tags[0].Value) != "switchyard-reference" {
		t.Errorf("VPC tags = %+v", v.Tags)
	}
	out = must[*ec2.DescribeVpcsOutput](t)(h.client.DescribeVpcs(ctx(t), &ec2.DescribeVpcsInput{Filters: filter("cidr", "10.9.*")}))
	if len(out.Vpcs) != 0 {
		t.Errorf("cidr filter 10.9.* matched %d VPCs", len(out.Vpcs))
	}
	_, err := h.client.DescribeVpcs(ctx(t), &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}})
	wantCode(t, err, "InvalidVpcID.NotFound", 400)
}

func TestDescribeSubnetsFilters(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name    string
		input   ec2.DescribeSubnetsInput
		wantIDs []string
	}{
		{"all", ec2.DescribeSubnetsInput{}, []string{refSubnetA1, refSubnetC1, refSubnetA2, refSubnetC2}},
		{"availability-zone", ec2.DescribeSubnetsInput{Filters: filter("availability-zone", "us-east-1c")},
			[]string{refSubnetC1, refSubnetC2}},
		{"vpc-id", ec2.DescribeSubnetsInput{Filters: filter("vpc-id", refVPC)},
			[]string{refSubnetA1, refSubnetC1, refSubnetA2, refSubnetC2}},
		{"vpc-id other", ec2.DescribeSubnetsInput{Filters: filter("vpc-id", "vpc-0aaaaaaaaaaaaaaaa")}, nil},
		{"subnet-id values are alternatives", ec2.DescribeSubnetsInput{Filters: filter("subnet-id", refSubnetA2, refSubnetC2)},
			[]string{refSubnetA2, refSubnetC2}},
		{"filters are ANDed", ec2.DescribeSubnetsInput{Filters: append(filter("availability-zone", "us-east-1a"),
			filter("tag:Name", "private-*")...)}, []string{refSubnetA2}},
		{"by id", ec2.DescribeSubnetsInput{SubnetIds: []string{refSubnetC1}}, []string{refSubnetC1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*ec2.DescribeSubnetsOutput](t)(h.client.DescribeSubnets(ctx(t), &tc.input))
			var got []string
			for _, s := range out.Subnets {
				got = append(got, aws.ToString(s.SubnetId))
			}
			if !sameSet(got, tc.wantIDs) {
				t.Errorf("got %v, want %v", got, tc.wantIDs)
			}
		})
	}
	out := must[*ec2.DescribeSubnetsOutput](t)(h.client.DescribeSubnets(ctx(t), &ec2.DescribeSubnetsInput{SubnetIds: []string{refSubnetA2}}))
	sn := out.Subnets[0]
	if aws.ToString(sn.AvailabilityZone) != "us-east-1a" || aws.ToString(sn.AvailabilityZoneId) != "use1-az1" ||
		aws.ToString(sn.CidrBlock) != "10.0.2.0/24" || aws.ToInt32(sn.AvailableIpAddressCount) != 250 {
		t.Errorf("subnet A2 = az %s (%s) cidr %s free %d", aws.ToString(sn.AvailabilityZone),
			aws.ToString(sn.AvailabilityZoneId), aws.ToString(sn.CidrBlock), aws.ToInt32(sn.AvailableIpAddressCount))
	}

	_, err := h.client.DescribeSubnets(ctx(t), &ec2.DescribeSubnetsInput{SubnetIds: []string{refSubnetA1, "subnet-0fffffffffffffff0"}})
	wantCode(t, err, "InvalidSubnetID.NotFound", 400)
	_, err = h.client.DescribeSubnets(ctx(t), &ec2.DescribeSubnetsInput{Filters: filter("no-such-filter", "x")})
	wantCode(t, err, "InvalidParameterValue", 400)
}
