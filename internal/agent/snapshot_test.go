package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/store"
)

type fakeSnapshotter struct {
	calls []*ec2.CreateSnapshotsInput
	err   error
}

func (f *fakeSnapshotter) CreateSnapshots(_ context.Context, in *ec2.CreateSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	return &ec2.CreateSnapshotsOutput{Snapshots: []ec2types.SnapshotInfo{
		{SnapshotId: aws.String("snap-1"), VolumeId: aws.String("vol-a")}, {SnapshotId: aws.String("snap-2"), VolumeId: aws.String("vol-b")}}}, nil
}

// The agent requests the snapshots once per former-primary episode (a
// rewind retried every minute does not snapshot every minute), says what
// it requested, and rejoins anyway when the request fails.
func TestSnapshotOncePerEpisode(t *testing.T) {
	ec2api := &fakeSnapshotter{}
	a := &Agent{cfg: Config{Cluster: &cluster.Config{Name: "orders"}, Node: "node1", CheckTimeout: time.Second},
		deps: Deps{Snapshot: EBSSnapshots(ec2api, "i-0abc", "orders", "node1")}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec := store.Record{Primary: "node2", Epoch: 7}
	note := a.snapshotBeforeRejoin(context.Background(), rec)
	if note != "EBS snapshot(s) snap-1 (vol-a), snap-2 (vol-b) requested before the rewind" {
		t.Errorf("note %q", note)
	}
	if again := a.snapshotBeforeRejoin(context.Background(), rec); again != note || len(ec2api.calls) != 1 {
		t.Errorf("second attempt of the same episode: %q, %d calls; want the same note and one call", again, len(ec2api.calls))
	}
	in := ec2api.calls[0]
	if aws.ToString(in.InstanceSpecification.InstanceId) != "i-0abc" || aws.ToBool(in.InstanceSpecification.ExcludeBootVolume) ||
		len(in.TagSpecifications) != 1 || in.TagSpecifications[0].ResourceType != ec2types.ResourceTypeSnapshot {
		t.Errorf("request %+v", in)
	}
	tags := map[string]string{}
	for _, tg := range in.TagSpecifications[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags[TagCluster] != "orders" || tags[TagNode] != "node1" || !strings.Contains(tags[TagReason], "epoch 7") {
		t.Errorf("tags %v", tags)
	}
	// A new episode snapshots again; a failure is said, not fatal.
	ec2api.err = errors.New("UnauthorizedOperation")
	if note := a.snapshotBeforeRejoin(context.Background(), store.Record{Primary: "node2", Epoch: 9}); !strings.Contains(note, "request failed") ||
		len(ec2api.calls) != 2 {
		t.Errorf("failed request: %q after %d calls", note, len(ec2api.calls))
	}
	// Turned off, or off EC2: nothing requested.
	a.cfg.Cluster.Rejoin.NoSnapshot = true
	if note := a.snapshotBeforeRejoin(context.Background(), store.Record{Primary: "node2", Epoch: 11}); note != "" || len(ec2api.calls) != 2 {
		t.Errorf("noSnapshot: %q, %d calls", note, len(ec2api.calls))
	}
}
