package main

import (
	"bytes"
	"context"
	"math"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/probe"
)

func executeArgs(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	err := execute(ctx, args, &out)
	return out.String(), err
}

func TestBadSettingsFail(t *testing.T) {
	t.Setenv("SWITCHYARD_CLUSTER", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--node", "n1", "--imds=false"}, "cluster name is empty"},
		{[]string{"--cluster", "c", "--node", "n1", "--imds=false", "--interval", "0s"}, "interval must be positive"},
		{[]string{"--cluster", "c", "--node", "n1", "--imds=false", "--flush-interval", "-1s"}, "flush interval must be positive"},
		{[]string{"--cluster", "c", "--imds=false"}, "node name is empty"},
		{[]string{"--interval", "often"}, "invalid argument"},
		{[]string{"extra"}, "unknown command"},
		// The agent owns PostgreSQL unless told to only monitor.
		{[]string{"--cluster", "c", "--node", "n1", "--imds=false"}, "give --pgdata and --cluster-config"},
	} {
		_, err := executeArgs(context.Background(), c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
	}
}

// A flush interval the cluster's stale limit does not allow for would make
// a healthy primary's heartbeat look stale to Assess: refused at start,
// before any AWS call, naming both settings.
func TestFlushIntervalMustFitTheStaleLimit(t *testing.T) {
	t.Setenv("SWITCHYARD_CLUSTER", "")
	example, err := os.ReadFile("../events/cluster-config.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(example), `"heartbeatStaleSeconds": 90`, `"heartbeatStaleSeconds": 30`, 1)
	if cfg == string(example) {
		t.Fatal("events/cluster-config.json no longer sets heartbeatStaleSeconds 90")
	}
	path := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--cluster", "demo", "--node", "node1", "--imds=false", "--pgdata", t.TempDir(), "--cluster-config", path}
	_, err = executeArgs(context.Background(), args...)
	if err == nil || !strings.Contains(err.Error(), "flush interval 50s does not fit") || !strings.Contains(err.Error(), "heartbeatStaleSeconds (30s)") {
		t.Errorf("default flush with a 30-s stale limit: err = %v, want a refusal naming both", err)
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	out, err := executeArgs(context.Background(), "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"cluster", "node", "dsn", "interval", "restart-command", "flush-interval", "namespace", "config-file"} {
		if !strings.Contains(out, "--"+flag) || !strings.Contains(out, "$"+probe.EnvName(flag)) {
			t.Errorf("--help does not explain --%s / $%s", flag, probe.EnvName(flag))
		}
	}
	// The AWS credential sources the agent reads (awsconfig.go), and those
	// it does not.
	for _, s := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "EC2 instance role", "AWS_REGION", "AWS_ENDPOINT_URL", "no AWS_PROFILE",
		"GOGC=50", "12 MiB"} {
		if !strings.Contains(out, s) {
			t.Errorf("--help does not say %q about AWS credentials, region and endpoints", s)
		}
	}
}

// TestRunPublishesToEmulator runs the whole command against the local AWS
// emulator, with PostgreSQL unreachable: it must publish Heartbeat 0 and
// stop cleanly when its context ends.
func TestRunPublishesToEmulator(t *testing.T) {
	srv := localaws.NewServer()
	cw := cwsim.New(cwsim.Options{})
	srv.Register(cw)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	t.Setenv("AWS_ENDPOINT_URL", hs.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDNODEPROBE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local-secret")
	t.Setenv("SWITCHYARD_CLUSTER", "prod")

	// A port with nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := executeArgs(ctx, "--node", "node1", "--imds=false", "--monitor-only", "--interval", "50ms", "--failure-threshold", "1",
			"--flush-interval", "50ms", "--check-timeout", "1s", "--log-level", "error",
			"--dsn", "host=127.0.0.1 port="+strconv.Itoa(addr.Port)+" user=postgres sslmode=disable")
		done <- err
	}()
	metric := cwsim.Metric{Namespace: "Switchyard", Name: probe.MetricHeartbeat,
		Dimensions: []cwsim.Dimension{{Name: "Cluster", Value: "prod"}, {Name: "Node", Value: "node1"}}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		dps := cw.Datapoints(metric)
		if len(dps) > 0 && dps[0].Maximum == 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no Heartbeat 0 reached the emulator; datapoints %+v", dps)
		}
		select {
		case err := <-done:
			t.Fatalf("nodeprobe exited early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("nodeprobe returned %v after its context ended", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("nodeprobe did not stop")
	}
}

// Without GOGC and GOMEMLIMIT the agent sets its defaults; with them, the
// runtime's values (read at start-up) stay.
func TestRuntimeDefaults(t *testing.T) {
	gc, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	debug.SetMemoryLimit(math.MaxInt64)
	setRuntimeDefaults(func(string) (string, bool) { return "", false })
	if got := gcPercent(); got != defaultGCPercent {
		t.Errorf("GC percent without GOGC: %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("memory limit without GOMEMLIMIT: %d, want %d", got, defaultMemoryLimit)
	}
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	setRuntimeDefaults(func(k string) (string, bool) { return "set", k == "GOGC" || k == "GOMEMLIMIT" })
	if got := gcPercent(); got != 100 {
		t.Errorf("GC percent with GOGC set: %d, want it left alone", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit with GOMEMLIMIT set: %d, want it left alone", got)
	}
}
