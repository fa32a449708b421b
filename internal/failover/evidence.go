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
// evidencePeriod the granularity (high-resolution metrics allow 10 s).
const (
	evidenceWindow = 15 * time.Minute
	evidencePeriod = 10
)

// describeInstanceViews reads EC2 state and status checks of the instances.
func describeInstanceViews(ctx context.Context, api awsapi.EC2API, ids []string) (map[string]instanceView, error) {
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
// published WAL position from CloudWatch.
func (h *AssessStep) heartbeats(ctx context.Context, primary string) heartbeatEvidence {
	now := h.now()
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
