package failover

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/decide"
	"github.com/switchyard/switchyard/internal/store"
)

// Metric names and dimensions the node probes publish (see internal/probe).
const (
	MetricHeartbeat  = "Heartbeat"
	MetricPrimaryLSN = "PrimaryLSN"
	DimCluster       = "Cluster"
	DimNode          = "Node"
	DimRole          = "Role"
)

// evidenceWindow is how far back Assess looks for heartbeats, and
// evidencePeriod the granularity in seconds: the probes publish
// high-resolution metrics in 1 s buckets, so a heartbeat's instant is known
// to the second (the fresh-data gate compares it with the primary lease's
// expiry).
const (
	evidenceWindow = 15 * time.Minute
	evidencePeriod = 1
)

// cloudWatchEvidenceBound is how old CloudWatch's evidence may be when the
// cluster record holds no primary lease to bound what the primary wrote: an
// alarm-driven execution reaches Assess about one heartbeat stale limit
// after the last heartbeat, so evidence older than twice that limit means
// the primary may have written unseen for longer than detection explains.
func cloudWatchEvidenceBound(cfg *cluster.Config) time.Duration { return 2 * cfg.HeartbeatStale() }

// recordEvidence copies what the cluster record says about the primary's
// lease and the standby's eligibility into obs, and returns notes for the
// evidence on anything a reader of the assessment should know.
func recordEvidence(obs *decide.Observation, rec store.Record) []string {
	var notes []string
	if rec.Primary != obs.RecordPrimary {
		notes = append(notes, fmt.Sprintf("cluster record: names primary %q now; the failover lock was taken when it named %q", rec.Primary, obs.RecordPrimary))
	}
	if l := rec.PrimaryLease; l != nil {
		obs.Lease = &decide.PrimaryLease{Node: l.Node, LSN: l.LSN, Renewed: l.Renewed, Expires: l.Expires, SyncStandby: l.SyncStandby}
		if l.Revoked() {
			notes = append(notes, fmt.Sprintf("cluster record: the primary lease of %s was revoked by %s at %s", l.Node, l.RevokedBy, l.RevokedAt.Format(time.RFC3339)))
		}
	}
	if st := rec.Standby; st != nil {
		obs.Standby = &decide.StandbyState{Node: st.Node, Eligible: st.Eligible, Reason: st.Reason, Changed: st.Changed}
	}
	return notes
}

// describeInstanceViews reads EC2 state and status checks of the instances.
func describeInstanceViews(ctx context.Context, api awsapi.EC2Reader, ids []string) (map[string]instanceView, error) {
	out := map[string]instanceView{}
	di, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		return out, fmt.Errorf("DescribeInstances: %w", err)
	}
	for _, r := range di.Reservations {
		for _, in := range r.Instances {
			if in.InstanceId != nil && in.State != nil {
				out[*in.InstanceId] = instanceView{state: string(in.State.Name)}
			}
		}
	}
	st, err := api.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids, IncludeAllInstances: aws.Bool(true)})
	if err != nil {
		return out, fmt.Errorf("DescribeInstanceStatus: %w", err)
	}
	for _, s := range st.InstanceStatuses {
		if s.InstanceId == nil {
			continue
		}
		v := out[*s.InstanceId]
		if (s.InstanceStatus != nil && s.InstanceStatus.Status == "impaired") || (s.SystemStatus != nil && s.SystemStatus.Status == "impaired") {
			v.impaired = true
		}
		out[*s.InstanceId] = v
	}
	return out, nil
}

// heartbeats reads the primary's newest healthy heartbeat and newest
// published WAL position from CloudWatch, their ages relative to now.
func (h *AssessStep) heartbeats(ctx context.Context, primary string, now time.Time) heartbeatEvidence {
	dims := []cwtypes.Dimension{{Name: aws.String(DimCluster), Value: aws.String(h.Config.Name)}, {Name: aws.String(DimNode), Value: aws.String(primary)}}
	query := func(id, metric string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(h.Config.Detection.Namespace), MetricName: aws.String(metric), Dimensions: dims},
			Period: aws.Int32(evidencePeriod), Stat: aws.String("Maximum")}}
	}
	out, err := h.CloudWatch.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-evidenceWindow)), EndTime: aws.Time(now),
		ScanBy:            cwtypes.ScanByTimestampDescending,
		MetricDataQueries: []cwtypes.MetricDataQuery{query("hb", MetricHeartbeat), query("lsn", MetricPrimaryLSN)},
	})
	if err != nil {
		return heartbeatEvidence{err: fmt.Errorf("GetMetricData: %w", err)}
	}
	var ev heartbeatEvidence
	age := func(ts time.Time) time.Duration {
		a := now.Sub(ts.Add(evidencePeriod * time.Second))
		if a < 0 {
			return 0
		}
		return a
	}
	for _, r := range out.MetricDataResults {
		newest := -1
		for i := range r.Timestamps {
			if i >= len(r.Values) || (aws.ToString(r.Id) == "hb" && r.Values[i] < 1) {
				continue
			}
			if newest < 0 || r.Timestamps[i].After(r.Timestamps[newest]) {
				newest = i
			}
		}
		if newest < 0 {
			continue
		}
		switch aws.ToString(r.Id) {
		case "hb":
			ev.heartbeatKnown, ev.heartbeatAge = true, age(r.Timestamps[newest])
		case "lsn":
			ev.lsnKnown, ev.lsn, ev.lsnAge = true, uint64(r.Values[newest]), age(r.Timestamps[newest])
		}
	}
	return ev
}
