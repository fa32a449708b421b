package ec2sim_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// CreateSnapshots snapshots the instance's volumes (the data volume only
// when the boot volume is excluded), tagged, and the call log names the
// instance, the volume and the snapshot, as IAM authorizes them.
func TestCreateSnapshotsOfAnInstance(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	out, err := h.client.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
		InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String(refNode1), ExcludeBootVolume: aws.Bool(true)},
		Description:           aws.String("switchyard demo node1 before pg_rewind"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot,
			Tags: []ec2types.Tag{{Key: aws.String("switchyard:cluster"), Value: aws.String("demo")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	vols := h.ec2.VolumeIDs(refNode1)
	if len(out.Snapshots) != 1 || aws.ToString(out.Snapshots[0].VolumeId) != vols[1] || out.Snapshots[0].State != ec2types.SnapshotStatePending {
		t.Fatalf("snapshots %+v, want one pending snapshot of the data volume %s", out.Snapshots, vols[1])
	}
	id := aws.ToString(out.Snapshots[0].SnapshotId)
	desc, err := h.client.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
	if err != nil || len(desc.Snapshots) != 1 || len(desc.Snapshots[0].Tags) != 1 || aws.ToString(desc.Snapshots[0].Description) != "switchyard demo node1 before pg_rewind" {
		t.Fatalf("DescribeSnapshots %+v (%v)", desc, err)
	}
	var arns []string
	for _, c := range h.server.Calls() {
		if c.Operation == "CreateSnapshots" {
			arns = c.ARNs
		}
	}
	want := map[string]bool{"arn:aws:ec2:us-east-1:123456789012:instance/" + refNode1: true,
		"arn:aws:ec2:us-east-1:123456789012:volume/" + vols[1]: true, "arn:aws:ec2:us-east-1::snapshot/" + id: true}
	if len(arns) != len(want) {
		t.Fatalf("call ARNs %v, want %v", arns, want)
	}
	for _, a := range arns {
		if !want[a] {
			t.Errorf("unexpected ARN %s (want %v)", a, want)
		}
	}

	all, err := h.client.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String(refNode2)}})
	if err != nil || len(all.Snapshots) != 2 {
		t.Fatalf("with the boot volume: %+v (%v), want 2 snapshots", all, err)
	}
	_, err = h.client.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String("i-0000000000000dead")}})
	wantCode(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = h.client.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-0000000000000dead"}})
	wantCode(t, err, "InvalidSnapshot.NotFound", 400)
}
