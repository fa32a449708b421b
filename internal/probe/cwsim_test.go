package probe

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/pgnode"
)

// emulatedCloudWatch starts the local AWS emulator with CloudWatch and
// returns a real SDK client pointed at it (one attempt per call, so the
// publisher's own retrying is what is tested).
func emulatedCloudWatch(t *testing.T) (*localaws.Server, *cwsim.Service, awsapi.CloudWatchAPI) {
	t.Helper()
	srv := localaws.NewServer()
	cw := cwsim.New(cwsim.Options{})
	srv.Register(cw)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	opts := append(awsall.LocalConfig(hs.URL, "us-east-1", "AKIDNODEPROBE"), config.WithRetryMaxAttempts(1))
	clients, err := awsall.NewClients(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, cw, clients.CloudWatch
}

func heartbeatMetric(dims ...cwsim.Dimension) cwsim.Metric {
	return cwsim.Metric{Namespace: "Switchyard", Name: MetricHeartbeat, Dimensions: dims}
}

func TestPublishThroughSDKToEmulator(t *testing.T) {
	srv, cw, client := emulatedCloudWatch(t)
	p := NewPublisher(client, PublisherConfig{Namespace: "Switchyard"}, nil)
	now := time.Now().Truncate(time.Second)
	// Three samples in one second (Values/Counts), two in the next.
	d := dims(DimCluster, "prod", DimNode, "node1")
	p.Add(Sample{Metric: MetricHeartbeat, Dimensions: d, Value: 1, At: now.Add(-2 * time.Second)},
		Sample{Metric: MetricHeartbeat, Dimensions: d, Value: 1, At: now.Add(-2*time.Second + 300*time.Millisecond)},
		Sample{Metric: MetricHeartbeat, Dimensions: d, Value: 0, At: now.Add(-2*time.Second + 600*time.Millisecond)},
		Sample{Metric: MetricHeartbeat, Dimensions: d, Value: 1, At: now.Add(-time.Second)},
		Sample{Metric: MetricHeartbeat, Dimensions: d, Value: 1, At: now.Add(-time.Second + 500*time.Millisecond)})

	// CloudWatch throttles the first attempt: samples stay buffered.
	srv.Faults().Add(localaws.Fault{Service: "monitoring", Operation: "PutMetricData", FailNext: 1,
		Error: localaws.BadRequest("Throttling", "Rate exceeded")})
	err := p.Flush(context.Background())
	if !awsapi.IsThrottle(err) {
		t.Fatalf("first flush: %v, want Throttling from the emulator", err)
	}
	if st := p.Stats(); st.Buffered != 5 {
		t.Fatalf("after throttling: %+v", st)
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	dps := cw.Datapoints(heartbeatMetric(cwsim.Dimension{Name: DimCluster, Value: "prod"}, cwsim.Dimension{Name: DimNode, Value: "node1"}))
	if len(dps) != 2 {
		t.Fatalf("datapoints %+v, want one per second", dps)
	}
	first, second := dps[0], dps[1]
	if !first.Timestamp.Equal(now.Add(-2*time.Second)) || first.SampleCount != 3 || first.Sum != 2 || first.Minimum != 0 ||
		second.SampleCount != 2 || second.Minimum != 1 {
		t.Fatalf("datapoints %+v", dps)
	}
	var puts int
	for _, c := range srv.Calls() {
		if c.Operation == "PutMetricData" {
			puts++
		}
	}
	if puts != 2 {
		t.Fatalf("%d PutMetricData calls, want 2 (throttled + batched retry)", puts)
	}

	// A request CloudWatch rejects (AWS/ namespace) is dropped, not retried.
	bad := NewPublisher(client, PublisherConfig{Namespace: "AWS/EC2"}, nil)
	bad.Add(Sample{Metric: MetricHeartbeat, Dimensions: d, Value: 1, At: now})
	if err := bad.Flush(context.Background()); err != nil {
		t.Fatalf("invalid request retried: %v", err)
	}
	if st := bad.Stats(); st.Dropped != 1 || st.Failures != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestProbePublishesRoleSeriesToEmulator(t *testing.T) {
	_, cw, client := emulatedCloudWatch(t)
	chk := &fakeChecker{healthy: true}
	p, stop := startProbe(t, testConfig(), Deps{CloudWatch: client, Checker: chk})
	waitFor(t, 10*time.Second, "heartbeats stored", func() bool {
		return len(cw.Datapoints(heartbeatMetric(cwsim.Dimension{Name: DimCluster, Value: "prod"},
			cwsim.Dimension{Name: DimRole, Value: "primary"}))) > 0
	})
	stop()
	if p.Snapshot().Role != pgnode.RolePrimary {
		t.Fatalf("snapshot %+v", p.Snapshot())
	}
	lsn := cw.Datapoints(cwsim.Metric{Namespace: "Switchyard", Name: MetricPrimaryLSN,
		Dimensions: []cwsim.Dimension{{Name: DimCluster, Value: "prod"}, {Name: DimNode, Value: testConfig().Node}}})
	if len(lsn) == 0 || lsn[len(lsn)-1].Maximum <= 0 || lsn[0].Unit != "Bytes" {
		t.Fatalf("PrimaryLSN datapoints %+v", lsn)
	}
}
