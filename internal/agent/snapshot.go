package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/store"
)

// Tags every snapshot the agent requests carries (to find and expire
// them: nothing deletes them automatically).
const (
	TagCluster = "switchyard:cluster"
	TagNode    = "switchyard:node"
	TagReason  = "switchyard:reason"
)

// EBSSnapshots returns a Deps.Snapshot that requests a crash-consistent
// snapshot of every EBS volume of the instance (CreateSnapshots), tagged
// with the cluster and node. It does not wait for completion: a snapshot
// is the volume's state at the request, and the data directory is
// stopped and fenced while it is taken.
func EBSSnapshots(api awsapi.EC2Snapshotter, instanceID, clusterName, node string) func(ctx context.Context, reason string) ([]string, error) {
	return func(ctx context.Context, reason string) ([]string, error) {
		out, err := api.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
			InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String(instanceID), ExcludeBootVolume: aws.Bool(false)},
			Description:           aws.String(clip(fmt.Sprintf("switchyard %s %s: %s", clusterName, node, reason), 255)),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{
				{Key: aws.String(TagCluster), Value: aws.String(clusterName)},
				{Key: aws.String(TagNode), Value: aws.String(node)},
				{Key: aws.String(TagReason), Value: aws.String(clip(reason, 256))},
			}}},
		})
		if err != nil {
			return nil, fmt.Errorf("requesting EBS snapshots of %s: %w", instanceID, err)
		}
		var ids []string
		for _, s := range out.Snapshots {
			ids = append(ids, fmt.Sprintf("%s (%s)", aws.ToString(s.SnapshotId), aws.ToString(s.VolumeId)))
		}
		return ids, nil
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// snapshotBeforeRejoin requests the EBS snapshots once per former-primary
// episode (the epoch that replaced this node), so a rewind retried every
// minute does not snapshot every minute. It returns a sentence for the
// history ("" when snapshots are off or not available here); a failed
// request is said, not fatal: the divergent WAL is also kept on disk.
func (a *Agent) snapshotBeforeRejoin(ctx context.Context, rec store.Record) string {
	if a.deps.Snapshot == nil || a.cfg.Cluster.Rejoin.NoSnapshot {
		return ""
	}
	if a.snapshotEpoch == rec.Epoch && a.snapshotNote != "" {
		return a.snapshotNote
	}
	sctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	ids, err := a.deps.Snapshot(sctx, fmt.Sprintf("before rejoining %s at epoch %d (pg_rewind or re-clone)", rec.Primary, rec.Epoch))
	if err != nil {
		a.log.Error("EBS snapshot before the rejoin failed; rejoining anyway (the divergent WAL is kept on disk)", "error", err)
		return "EBS snapshot request failed: " + err.Error()
	}
	a.snapshotEpoch = rec.Epoch
	a.snapshotNote = "EBS snapshot(s) " + strings.Join(ids, ", ") + " requested before the rewind"
	a.log.Warn("EBS snapshots requested before the rejoin", "snapshots", ids)
	return a.snapshotNote
}
