package probe

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/awsapi"
)

func heartbeats(n int, start time.Time, step time.Duration) []Sample {
	d := dims(DimCluster, "prod", DimNode, "node1")
	out := make([]Sample, n)
	for i := range out {
		out[i] = Sample{Metric: MetricHeartbeat, Dimensions: d, Value: 1, At: start.Add(time.Duration(i) * step)}
	}
	return out
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s", what, timeout)
		}
		<-time.After(5 * time.Millisecond)
	}
}

var _ awsapi.CloudWatchAPI = (*fakeCloudWatch)(nil)

func TestFlushBatchesIntoOneCall(t *testing.T) {
	cw := &fakeCloudWatch{}
	p := NewPublisher(cw, PublisherConfig{Namespace: "Switchyard"}, nil)
	start := time.Unix(5000, 0)
	p.Add(heartbeats(30, start, 500*time.Millisecond)...) // 30 samples over 15 seconds
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	accepted, attempts := cw.callCount()
	if accepted != 1 || attempts != 1 {
		t.Fatalf("%d calls (%d attempts), want all samples in one call", accepted, attempts)
	}
	ds := cw.datums()
	if len(ds) != 15 {
		t.Fatalf("%d datums, want one per second", len(ds))
	}
	if got := total(points(ds), MetricHeartbeat, byNode1, 1); got != 30 {
		t.Fatalf("counts add up to %v, want 30", got)
	}
	if st := p.Stats(); st.Sent != 30 || st.Buffered != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Nothing buffered: no call.
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, attempts := cw.callCount(); attempts != 1 {
		t.Fatalf("empty flush made a call")
	}
}

func TestFlushSplitsAt1000Datums(t *testing.T) {
	cw := &fakeCloudWatch{}
	p := NewPublisher(cw, PublisherConfig{Namespace: "Switchyard", MaxBuffered: 5000}, nil)
	p.Add(heartbeats(2500, time.Unix(6000, 0), time.Second)...)
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if accepted, _ := cw.callCount(); accepted != 3 {
		t.Fatalf("%d calls for 2500 datums, want 3", accepted)
	}
	if n := len(cw.datums()); n != 2500 {
		t.Fatalf("%d datums delivered", n)
	}
}

func TestThrottledSamplesAreKeptAndRetried(t *testing.T) {
	cw := &fakeCloudWatch{}
	cw.failWith(throttling(), internalServiceError())
	p := NewPublisher(cw, PublisherConfig{Namespace: "Switchyard", FlushInterval: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}, nil)
	start := time.Unix(7000, 0)
	p.Add(heartbeats(5, start, time.Second)...)
	err := p.Flush(context.Background())
	if !awsapi.IsThrottle(err) {
		t.Fatalf("first flush: %v, want the throttling error", err)
	}
	if st := p.Stats(); st.Buffered != 5 || st.Failures != 1 || st.Sent != 0 {
		t.Fatalf("after throttling: %+v; want the 5 samples kept", st)
	}
	// Newer samples arrive while CloudWatch is failing.
	p.Add(heartbeats(5, start.Add(5*time.Second), time.Second)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	waitFor(t, 5*time.Second, "all samples delivered", func() bool { return p.Stats().Sent == 10 })
	cancel()
	<-done
	ps := points(cw.datums())
	if total(ps, MetricHeartbeat, byNode1, 1) != 10 || len(ps) != 10 {
		t.Fatalf("delivered %+v, want each of the 10 samples exactly once", ps)
	}
	if ps[0].at != 7000 || ps[9].at != 7009 {
		t.Fatalf("timestamps changed across retries: %+v", ps)
	}
	if st := p.Stats(); st.Failures != 2 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestInvalidDataIsDroppedNotRetried(t *testing.T) {
	cw := &fakeCloudWatch{}
	p := NewPublisher(cw, PublisherConfig{Namespace: "AWS/EC2"}, nil) // CloudWatch refuses AWS/ namespaces
	p.Add(heartbeats(3, time.Unix(8000, 0), time.Second)...)
	if err := p.Flush(context.Background()); err != nil {
		t.Fatalf("a rejected batch must not be retried: %v", err)
	}
	st := p.Stats()
	if st.Dropped != 3 || st.Buffered != 0 || st.Failures != 1 || st.LastError == "" {
		t.Fatalf("stats %+v", st)
	}
}

func TestBufferDropsOldest(t *testing.T) {
	cw := &fakeCloudWatch{}
	p := NewPublisher(cw, PublisherConfig{Namespace: "Switchyard", MaxBuffered: 10}, nil)
	start := time.Unix(9000, 0)
	p.Add(heartbeats(25, start, time.Second)...)
	if st := p.Stats(); st.Buffered != 10 || st.Dropped != 15 {
		t.Fatalf("stats %+v", st)
	}
	// A failed flush re-queues; with new samples beyond the bound, the
	// oldest go.
	cw.failWith(throttling())
	if err := p.Flush(context.Background()); err == nil {
		t.Fatal("flush succeeded against throttling")
	}
	p.Add(heartbeats(4, start.Add(25*time.Second), time.Second)...)
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ps := points(cw.datums())
	if len(ps) != 10 || ps[0].at != 9000+19 || ps[9].at != 9000+28 {
		t.Fatalf("kept %+v, want the newest 10 (seconds 19..28)", ps)
	}
	if st := p.Stats(); st.Dropped != 19 {
		t.Fatalf("dropped %d, want 19", st.Dropped)
	}
}

func TestAddNeverWaitsForCloudWatch(t *testing.T) {
	cw := &fakeCloudWatch{block: make(chan struct{})}
	p := NewPublisher(cw, PublisherConfig{Namespace: "Switchyard", FlushInterval: 5 * time.Millisecond,
		CallTimeout: time.Hour, ShutdownTimeout: 300 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	p.Add(heartbeats(1, time.Unix(9500, 0), time.Second)...)
	waitFor(t, 5*time.Second, "a call in flight", func() bool { return p.Stats().Buffered == 0 })
	// PutMetricData is hanging now; Add must still return at once.
	start := time.Now()
	for i := range 1000 {
		p.Add(heartbeats(1, time.Unix(9501+int64(i), 0), time.Second)...)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Add took %s while CloudWatch hung", took)
	}
	// Shutdown is bounded even though the call never returns.
	start = time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("shutdown took %s with a 300ms bound", took)
	}
}

func TestFinalFlushOnShutdown(t *testing.T) {
	cw := &fakeCloudWatch{}
	p := NewPublisher(cw, PublisherConfig{Namespace: "Switchyard", FlushInterval: time.Hour}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	p.Add(heartbeats(3, time.Unix(9900, 0), time.Second)...)
	cancel()
	<-done
	if accepted, _ := cw.callCount(); accepted != 1 || p.Stats().Sent != 3 {
		t.Fatalf("final flush: %d calls, stats %+v", accepted, p.Stats())
	}
}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{throttling(), true},
		{internalServiceError(), true},
		{context.DeadlineExceeded, true},
		{errors.New("dial tcp: connection refused"), true},
		{invalidParameter("bad"), false},
	} {
		if got := retryable(c.err); got != c.want {
			t.Errorf("retryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// An urgent sample is sent within UrgentDelay although the next regular
// flush is an hour away; healthy samples wait for it.
func TestUrgentSampleFlushesAtOnce(t *testing.T) {
	cw := &fakeCloudWatch{}
	p := NewPublisher(cw, PublisherConfig{Namespace: "Switchyard", FlushInterval: time.Hour, UrgentDelay: 10 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	p.Add(heartbeats(3, time.Unix(9900, 0), time.Second)...)
	// Nothing urgent: no call until the hour is up. Give Run the time an
	// urgent flush would take, several times over, and count the calls.
	p.Add(Sample{Metric: "Probe", Dimensions: dims(DimCluster, "prod"), Value: 1, At: time.Unix(9903, 0)})
	time.Sleep(100 * time.Millisecond) // asserting that nothing happens: a bounded wait, not synchronisation
	if accepted, _ := cw.callCount(); accepted != 0 {
		t.Fatalf("%d calls without an urgent sample and an hour's flush interval", accepted)
	}
	bad := Sample{Metric: MetricHeartbeat, Dimensions: dims(DimCluster, "prod", DimNode, "node1"), Value: 0, At: time.Unix(9904, 0), Urgent: true}
	p.Add(bad)
	waitFor(t, 5*time.Second, "the urgent flush", func() bool { return p.Stats().Sent == 5 })
	if accepted, _ := cw.callCount(); accepted != 1 {
		t.Fatalf("%d calls, want one urgent call carrying all 5 samples", accepted)
	}
}

// While calls fail, urgent samples wait for the backoff like the rest:
// bad news must not turn throttling into a retry storm.
func TestUrgentSamplesRespectTheBackoff(t *testing.T) {
	cw := &fakeCloudWatch{}
	cw.failWith(throttling())
	// The backoff after a failure starts at the flush interval: an hour.
	p := NewPublisher(cw, PublisherConfig{Namespace: "Switchyard", FlushInterval: time.Hour, UrgentDelay: time.Millisecond,
		MaxBackoff: time.Hour}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	p.Add(Sample{Metric: MetricHeartbeat, Dimensions: dims(DimCluster, "prod", DimNode, "node1"), Value: 0, At: time.Unix(9900, 0), Urgent: true})
	waitFor(t, 5*time.Second, "the throttled urgent call", func() bool { return p.Stats().Failures == 1 })
	for i := range 20 {
		p.Add(Sample{Metric: MetricHeartbeat, Dimensions: dims(DimCluster, "prod", DimNode, "node1"), Value: 0, At: time.Unix(9901+int64(i), 0), Urgent: true})
	}
	time.Sleep(100 * time.Millisecond) // asserting that nothing happens: a bounded wait, not synchronisation
	if st := p.Stats(); st.Calls != 1 {
		t.Fatalf("%d calls during the backoff after a throttled call, want 1", st.Calls)
	}
}
