package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/pgnode"
)

// fakeChecker answers checks from a switchable state. Test-only.
type fakeChecker struct {
	mu      sync.Mutex
	healthy bool
	status  pgnode.Status
	checks  int
}

func (f *fakeChecker) Check(context.Context) Observation {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	if !f.healthy {
		return Observation{At: time.Now(), Err: errors.New("connection refused")}
	}
	f.status.CurrentLSN = f.status.CurrentLSN.Add(100) // a busy primary
	return Observation{At: time.Now(), Status: f.status}
}

func (f *fakeChecker) set(healthy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healthy = healthy
}

type restartFunc func(context.Context) error

func (r restartFunc) Restart(ctx context.Context) error { return r(ctx) }

func testConfig() Config {
	return Config{
		Cluster: "prod", Node: "node1", DSN: "unused",
		Interval: 10 * time.Millisecond, CheckTimeout: time.Second,
		Recovery:       RecoveryPolicy{FailureThreshold: 2, MaxRestarts: 2, Window: time.Minute, Grace: 50 * time.Millisecond},
		RestartTimeout: time.Second,
		Publish: PublisherConfig{Namespace: "Switchyard", FlushInterval: 20 * time.Millisecond, Bucket: time.Second,
			MaxBuffered: 10000, MaxBackoff: 50 * time.Millisecond, CallTimeout: time.Second, ShutdownTimeout: time.Second},
	}
}

func startProbe(t *testing.T, cfg Config, deps Deps) (*Probe, func()) {
	t.Helper()
	p, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
	t.Cleanup(cancel)
	return p, stop
}

func TestProbeLocalRecoverySucceeds(t *testing.T) {
	cw := &fakeCloudWatch{}
	chk := &fakeChecker{healthy: true}
	var restarts int
	var mu sync.Mutex
	restarter := restartFunc(func(context.Context) error {
		mu.Lock()
		restarts++
		mu.Unlock()
		chk.set(true) // the restart brings PostgreSQL back
		return nil
	})
	p, stop := startProbe(t, testConfig(), Deps{CloudWatch: cw, Checker: chk, Restarter: restarter})
	waitFor(t, 5*time.Second, "healthy checks", func() bool { return p.Snapshot().Checks >= 3 })
	chk.set(false)
	waitFor(t, 5*time.Second, "a restart", func() bool { return p.Snapshot().Restarts == 1 })
	waitFor(t, 5*time.Second, "healthy again", func() bool { s := p.Snapshot(); return s.Healthy && s.Heartbeat == 1 })
	stop()

	ps := points(cw.datums())
	if n := total(ps, MetricHeartbeat, byNode1, 0) + total(ps, MetricHeartbeat, byPrimary, 0); n != 0 {
		t.Fatalf("published %v unhealthy heartbeats during a successful local recovery", n)
	}
	if total(ps, MetricHeartbeat, byNode1, 1) < 3 || total(ps, MetricHeartbeat, byPrimary, 1) < 3 {
		t.Fatalf("healthy heartbeats missing: %+v", ps)
	}
	var lsns int
	for _, pt := range ps {
		if pt.metric == MetricPrimaryLSN && (pt.dims == byNode1 || pt.dims == byPrimary) {
			lsns++
		}
	}
	if lsns == 0 {
		t.Fatal("no PrimaryLSN published")
	}
	mu.Lock()
	defer mu.Unlock()
	if restarts != 1 {
		t.Fatalf("%d restarts, want 1", restarts)
	}
}

func TestProbeDeclaresUnhealthyAfterBudget(t *testing.T) {
	cw := &fakeCloudWatch{}
	chk := &fakeChecker{healthy: true, status: pgnode.Status{InRecovery: true}}
	restarter := restartFunc(func(context.Context) error { return errors.New("pg_ctl: could not start server") })
	p, stop := startProbe(t, testConfig(), Deps{CloudWatch: cw, Checker: chk, Restarter: restarter})
	waitFor(t, 5*time.Second, "standby seen", func() bool { return p.Snapshot().Role == pgnode.RoleStandby })
	chk.set(false)
	waitFor(t, 5*time.Second, "declared unhealthy", func() bool { return p.Snapshot().Heartbeat == 0 })
	stop()
	s := p.Snapshot()
	if s.Restarts != 2 || s.RestartFailures != 2 || s.Role != pgnode.RoleStandby || s.LastError == "" {
		t.Fatalf("snapshot %+v", s)
	}
	ps := points(cw.datums())
	// The alarm on {Cluster, Role=standby} sees the 0: the role is the last one observed.
	if total(ps, MetricHeartbeat, byStandby, 0) < 1 || total(ps, MetricHeartbeat, byNode1, 0) < 1 {
		t.Fatalf("no unhealthy heartbeat under both dimension sets: %+v", ps)
	}
	if total(ps, MetricReplayLagBytes, byStandby, 0) < 1 {
		t.Fatalf("no ReplayLagBytes while healthy: %+v", ps)
	}
}

func TestProbeKeepsCheckingWhileCloudWatchHangs(t *testing.T) {
	cw := &fakeCloudWatch{block: make(chan struct{})}
	chk := &fakeChecker{healthy: true}
	cfg := testConfig()
	cfg.Publish.CallTimeout = time.Hour
	cfg.Publish.ShutdownTimeout = 100 * time.Millisecond
	p, stop := startProbe(t, cfg, Deps{CloudWatch: cw, Checker: chk})
	waitFor(t, 5*time.Second, "checks continue", func() bool { return p.Snapshot().Checks >= 20 })
	start := time.Now()
	stop()
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("shutdown took %s", took)
	}
	if _, attempts := cw.callCount(); attempts != 0 {
		t.Fatalf("a hung call completed?")
	}
}

func TestProbeWithoutLocalRecovery(t *testing.T) {
	cw := &fakeCloudWatch{}
	chk := &fakeChecker{healthy: false}
	cfg := testConfig()
	p, stop := startProbe(t, cfg, Deps{CloudWatch: cw, Checker: chk})
	waitFor(t, 5*time.Second, "declared unhealthy", func() bool { return p.Snapshot().Heartbeat == 0 })
	stop()
	if s := p.Snapshot(); s.Restarts != 0 || s.Role != pgnode.RoleUnknown {
		t.Fatalf("snapshot %+v", s)
	}
	ps := points(cw.datums())
	if total(ps, MetricHeartbeat, byNode1, 0) < 1 {
		t.Fatalf("no Heartbeat 0: %+v", ps)
	}
	for _, pt := range ps {
		if strings.Contains(pt.dims, "Role=") {
			t.Fatalf("published under a role never observed: %+v", pt)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cfg := testConfig()
	cfg.Interval = 0
	if _, err := New(cfg, Deps{CloudWatch: &fakeCloudWatch{}}); err == nil || !strings.Contains(err.Error(), "interval") {
		t.Fatalf("err = %v", err)
	}
	if _, err := New(testConfig(), Deps{}); err == nil {
		t.Fatal("no CloudWatch client accepted")
	}
}

func TestLoggerCarriesClusterAndNode(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, "info", "prod", "node1")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden")
	log.Warn("PostgreSQL check failed", "error", "connection refused")
	var rec map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &rec); err != nil {
		t.Fatalf("not one JSON record: %q (%v)", buf.String(), err)
	}
	if rec["cluster"] != "prod" || rec["node"] != "node1" || rec["level"] != "WARN" || rec["error"] != "connection refused" {
		t.Fatalf("record %v", rec)
	}
	if _, err := NewLogger(&buf, "loud", "c", "n"); err == nil {
		t.Fatal("bad level accepted")
	}
}
