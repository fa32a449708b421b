package probe

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/internal/pgnode"
)

const (
	byNode1    = "Cluster=prod;Node=node1;"
	byPrimary  = "Cluster=prod;Role=primary;"
	byStandby  = "Cluster=prod;Role=standby;"
	clusterLbl = "prod"
)

func TestSamplesForPrimaryAndStandby(t *testing.T) {
	at := time.Unix(1000, 0)
	primary := &pgnode.Status{CurrentLSN: pgnode.MustParseLSN("16/B374D848")}
	got := points(aggregate(samplesFor(clusterLbl, "node1", at, heartbeatHealthy, pgnode.RolePrimary, primary), time.Second))
	want := map[[2]string]float64{
		{MetricHeartbeat, byNode1}:   1,
		{MetricHeartbeat, byPrimary}: 1,
		{MetricPrimaryLSN, byNode1}:  float64(0x16B374D848),
	}
	if len(got) != len(want) {
		t.Fatalf("primary samples %+v, want %d", got, len(want))
	}
	for _, p := range got {
		if v, ok := want[[2]string{p.metric, p.dims}]; !ok || v != p.value || p.at != 1000 {
			t.Errorf("unexpected point %+v", p)
		}
	}

	standby := &pgnode.Status{InRecovery: true, ReceiveLSN: pgnode.MustParseLSN("0/5000"), ReplayLSN: pgnode.MustParseLSN("0/4000")}
	got = points(aggregate(samplesFor(clusterLbl, "node1", at, heartbeatHealthy, pgnode.RoleStandby, standby), time.Second))
	if total(got, MetricReplayLagBytes, byStandby, 0x1000) != 1 || len(got) != 1 {
		t.Fatalf("standby samples %+v, want only ReplayLagBytes under Role=standby", got)
	}

	// A writable node the agent does not let publish as primary (not the
	// recorded primary with a lease) publishes nothing while healthy: its
	// heartbeats must not keep the primary's series alive.
	if s := samplesFor(clusterLbl, "node1", at, heartbeatHealthy, pgnode.RoleUnknown, primary); len(s) != 0 {
		t.Fatalf("writable node without the primary role published %+v", s)
	}
	// Only bad values are urgent.
	for _, s := range samplesFor(clusterLbl, "node1", at, heartbeatHealthy, pgnode.RolePrimary, primary) {
		if s.Urgent {
			t.Errorf("healthy sample %+v is urgent", s)
		}
	}
	for _, s := range samplesFor(clusterLbl, "node1", at, heartbeatUnhealthy, pgnode.RolePrimary, nil) {
		if !s.Urgent {
			t.Errorf("unhealthy sample %+v is not urgent", s)
		}
	}
}

func TestSamplesForFailures(t *testing.T) {
	at := time.Unix(1000, 0)
	// Unhealthy: 0 under the node and under the role last seen; no LSN.
	got := points(aggregate(samplesFor(clusterLbl, "node1", at, heartbeatUnhealthy, pgnode.RolePrimary, nil), time.Second))
	if len(got) != 2 || total(got, MetricHeartbeat, byNode1, 0) != 1 || total(got, MetricHeartbeat, byPrimary, 0) != 1 {
		t.Fatalf("unhealthy samples %+v", got)
	}
	// Role never observed: only the node series.
	got = points(aggregate(samplesFor(clusterLbl, "node1", at, heartbeatUnhealthy, pgnode.RoleUnknown, nil), time.Second))
	if len(got) != 1 || total(got, MetricHeartbeat, byNode1, 0) != 1 {
		t.Fatalf("unhealthy, role unknown: %+v", got)
	}
	// Being recovered: nothing at all.
	if s := samplesFor(clusterLbl, "node1", at, heartbeatNone, pgnode.RolePrimary, nil); len(s) != 0 {
		t.Fatalf("samples while recovering: %+v", s)
	}
}

func TestAggregateValuesCounts(t *testing.T) {
	d := dims(DimCluster, "prod", DimNode, "node1")
	base := time.Unix(2000, 0)
	var in []Sample
	// Four samples in second 2000 (1,1,0,1), two in 2001 (1,1).
	for i, v := range []float64{1, 1, 0, 1} {
		in = append(in, Sample{Metric: MetricHeartbeat, Dimensions: d, Value: v, At: base.Add(time.Duration(i) * 200 * time.Millisecond)})
	}
	in = append(in, Sample{Metric: MetricHeartbeat, Dimensions: d, Value: 1, At: base.Add(time.Second)},
		Sample{Metric: MetricHeartbeat, Dimensions: d, Value: 1, At: base.Add(1500 * time.Millisecond)})
	out := aggregate(in, time.Second)
	if len(out) != 2 {
		t.Fatalf("%d datums, want one per second", len(out))
	}
	first := out[0]
	if aws.ToTime(first.Timestamp) != base || len(first.Values) != 2 || first.Values[0] != 1 || first.Counts[0] != 3 ||
		first.Values[1] != 0 || first.Counts[1] != 1 || aws.ToInt32(first.StorageResolution) != 1 {
		t.Fatalf("first datum %+v", first)
	}
	if aws.ToTime(out[1].Timestamp) != base.Add(time.Second) || out[1].Counts[0] != 2 {
		t.Fatalf("second datum %+v", out[1])
	}
	// A 10-second bucket folds all six into one datum stamped at its start.
	out = aggregate(in, 10*time.Second)
	if len(out) != 1 || aws.ToTime(out[0].Timestamp) != base.Truncate(10*time.Second) || out[0].Counts[0] != 5 {
		t.Fatalf("10s bucket: %+v", out)
	}
}

func TestAggregateSplitsAt150Values(t *testing.T) {
	d := dims(DimCluster, "prod", DimNode, "node1")
	at := time.Unix(3000, 0)
	var in []Sample
	for i := range 320 {
		in = append(in, Sample{Metric: MetricPrimaryLSN, Unit: types.StandardUnitBytes, Dimensions: d, Value: float64(i), At: at})
	}
	out := aggregate(in, time.Second)
	if len(out) != 3 || len(out[0].Values) != 150 || len(out[1].Values) != 150 || len(out[2].Values) != 20 {
		t.Fatalf("split into %d datums", len(out))
	}
	if err := validatePut(putInput("Switchyard", out)); err != nil {
		t.Fatal(err)
	}
	if samplesIn(out) != 320 || len(expand(out)) != 320 {
		t.Fatalf("samplesIn/expand lost values")
	}
}
