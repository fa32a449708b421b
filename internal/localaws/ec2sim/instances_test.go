package ec2sim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func instanceIDs(out *ec2.DescribeInstancesOutput) []string {
	var ids []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	return ids
}

func TestDescribeInstances(t *testing.T) {
	h := newHarness(t)
	out := must[*ec2.DescribeInstancesOutput](t)(h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{
		InstanceIds: []string{refNode1}}))
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 || aws.ToString(out.Reservations[0].ReservationId) == "" {
		t.Fatalf("reservations = %+v", out.Reservations)
	}
	in := out.Reservations[0].Instances[0]
	if in.State == nil || in.State.Name != ec2types.InstanceStateNameRunning || aws.ToInt32(in.State.Code) != 16 {
		t.Errorf("state = %+v", in.State)
	}
	if aws.ToString(in.PrivateIpAddress) != "10.0.2.10" || aws.ToString(in.SubnetId) != refSubnetA2 ||
		aws.ToString(in.VpcId) != refVPC || aws.ToString(in.Placement.AvailabilityZone) != "us-east-1a" {
		t.Errorf("placement: ip %s subnet %s vpc %s az %s", aws.ToString(in.PrivateIpAddress), aws.ToString(in.SubnetId),
			aws.ToString(in.VpcId), aws.ToString(in.Placement.AvailabilityZone))
	}
	if aws.ToString(in.PublicIpAddress) != refEIPAddress {
		t.Errorf("public IP = %q, want the Elastic IP %s", aws.ToString(in.PublicIpAddress), refEIPAddress)
	}
	if aws.ToBool(in.SourceDestCheck) || len(in.SecurityGroups) != 1 || aws.ToString(in.SecurityGroups[0].GroupName) != "switchyard-db" {
		t.Errorf("sourceDestCheck %v groups %+v", aws.ToBool(in.SourceDestCheck), in.SecurityGroups)
	}
	if len(in.NetworkInterfaces) != 1 || aws.ToString(in.NetworkInterfaces[0].NetworkInterfaceId) != refENI1 ||
		aws.ToString(in.NetworkInterfaces[0].PrivateIpAddress) != "10.0.2.10" || in.NetworkInterfaces[0].Association == nil {
		t.Errorf("network interfaces = %+v", in.NetworkInterfaces)
	}
	if in.LaunchTime == nil || in.LaunchTime.IsZero() {
		t.Errorf("launch time missing")
	}

	cases := []struct {
		name    string
		filters []ec2types.Filter
		want    []string
	}{
		{"none", nil, []string{refNode1, refNode2}},
		{"instance-id", filter("instance-id", refNode2), []string{refNode2}},
		{"instance-state-name", filter("instance-state-name", "running"), []string{refNode1, refNode2}},
		{"instance-state-name stopped", filter("instance-state-name", "stopped"), nil},
		{"tag:Name", filter("tag:Name", "node2"), []string{refNode2}},
		{"tag:Name wildcard", filter("tag:Name", "node*"), []string{refNode1, refNode2}},
		{"tag-key", filter("tag-key", "switchyard:cluster"), []string{refNode1, refNode2}},
		{"tag-key absent", filter("tag-key", "owner"), nil},
		{"private-ip-address", filter("private-ip-address", "10.0.12.10"), []string{refNode2}},
		{"availability-zone", filter("availability-zone", "us-east-1a"), []string{refNode1}},
		{"network-interface id", filter("network-interface.network-interface-id", refENI2), []string{refNode2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*ec2.DescribeInstancesOutput](t)(h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{Filters: tc.filters}))
			if got := instanceIDs(out); !sameSet(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	_, err := h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{"node1"}})
	wantCode(t, err, "InvalidInstanceID.Malformed", 400)
	_, err = h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{refNode1}, MaxResults: aws.Int32(5)})
	wantCode(t, err, "InvalidParameterCombination", 400)
	_, err = h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{Filters: filter("instance-state", "running")})
	wantCode(t, err, "InvalidParameterValue", 400)
}

func TestDescribeInstanceStatus(t *testing.T) {
	h := newHarness(t)
	if err := h.ec2.SetInstanceState(refNode2, "stopped"); err != nil {
		t.Fatal(err)
	}
	out := must[*ec2.DescribeInstanceStatusOutput](t)(h.client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{}))
	if len(out.InstanceStatuses) != 1 || aws.ToString(out.InstanceStatuses[0].InstanceId) != refNode1 {
		t.Fatalf("without IncludeAllInstances want only running node1, got %+v", out.InstanceStatuses)
	}
	st := out.InstanceStatuses[0]
	if st.InstanceStatus.Status != ec2types.SummaryStatusOk || st.SystemStatus.Status != ec2types.SummaryStatusOk ||
		st.InstanceState.Name != ec2types.InstanceStateNameRunning || aws.ToString(st.AvailabilityZone) != "us-east-1a" {
		t.Errorf("node1 status = %+v / %+v / %+v", st.InstanceStatus, st.SystemStatus, st.InstanceState)
	}

	out = must[*ec2.DescribeInstanceStatusOutput](t)(h.client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{
		InstanceIds: []string{refNode2}, IncludeAllInstances: aws.Bool(true)}))
	if len(out.InstanceStatuses) != 1 || out.InstanceStatuses[0].InstanceState.Name != ec2types.InstanceStateNameStopped ||
		out.InstanceStatuses[0].InstanceStatus.Status != ec2types.SummaryStatusNotApplicable {
		t.Fatalf("stopped node2 with IncludeAllInstances = %+v", out.InstanceStatuses)
	}

	if err := h.ec2.SetImpaired(refNode1, false, true); err != nil {
		t.Fatal(err)
	}
	out = must[*ec2.DescribeInstanceStatusOutput](t)(h.client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{
		InstanceIds: []string{refNode1}}))
	st = out.InstanceStatuses[0]
	if st.SystemStatus.Status != ec2types.SummaryStatusImpaired || st.InstanceStatus.Status != ec2types.SummaryStatusOk {
		t.Fatalf("after SetImpaired(system): system %s instance %s", st.SystemStatus.Status, st.InstanceStatus.Status)
	}
	if d := st.SystemStatus.Details; len(d) != 1 || d[0].Status != ec2types.StatusTypeFailed || d[0].ImpairedSince == nil {
		t.Errorf("impaired details = %+v", d)
	}
	out = must[*ec2.DescribeInstanceStatusOutput](t)(h.client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{
		Filters: filter("system-status.status", "impaired"), IncludeAllInstances: aws.Bool(true)}))
	if len(out.InstanceStatuses) != 1 || aws.ToString(out.InstanceStatuses[0].InstanceId) != refNode1 {
		t.Errorf("system-status.status=impaired: %+v", out.InstanceStatuses)
	}

	_, err := h.client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = h.client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-xyz"}})
	wantCode(t, err, "InvalidInstanceID.Malformed", 400)
}
