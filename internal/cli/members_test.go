package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
	"github.com/switchyard/switchyard/internal/store"
)

// healthyPair seeds a record as the agents keep it: node1 renewing with
// its timeline and pg_stat_replication, node2 its eligible synchronous
// standby 4096 bytes behind.
func healthyPair(t *testing.T, em *emulator) {
	t.Helper()
	ctx := context.Background()
	st := em.store(t)
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RenewPrimaryLease(ctx, "demo", store.Renewal{Node: "node1", Now: healthNow, Duration: 10 * time.Second,
		LSN: 0x3_0000_1000, SyncStandby: "node2", Timeline: 2,
		Replicas: []store.ReplicaState{{Node: "node2", State: "streaming", Sync: "sync", ReplayLSN: 0x3_0000_0000, ReplayLagMs: 1500}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetStandbyEligibility(ctx, "demo", "node1", "node2", true, "synchronous standby, streaming, caught up", healthNow); err != nil {
		t.Fatal(err)
	}
}

func TestStatusMembersTable(t *testing.T) {
	em := newEmulator(t)
	em.now = func() time.Time { return healthNow.Add(2 * time.Second) }
	healthyPair(t, em)
	res := em.run(t, "status", "--cluster", "demo", "--table", testTable)
	if res.code != cli.ExitOK {
		t.Fatalf("healthy pair: exit %d, %s", res.code, res.stderr)
	}
	mustContain(t, "status", res.stdout,
		"MEMBER  ROLE     STATE",
		"node1   primary  writable, lease 8s left",
		"3/1000",
		"node2   standby  streaming",
		"3/0     4096 B, 1.5s  sync  yes",
		"(positions as of the primary's renewal at ")

	res = em.run(t, "status", "--cluster", "demo", "--table", testTable, "--output", "json")
	var out struct {
		Members []struct {
			Node       string   `json:"node"`
			Role       string   `json:"role"`
			Timeline   uint32   `json:"timeline"`
			LagBytes   *uint64  `json:"lagBytes"`
			LagSeconds *float64 `json:"lagSeconds"`
			Eligible   *bool    `json:"eligible"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("%v: %s", err, res.stdout)
	}
	if len(out.Members) != 2 || out.Members[1].Node != "node2" || out.Members[1].LagBytes == nil || *out.Members[1].LagBytes != 4096 ||
		*out.Members[1].LagSeconds != 1.5 || out.Members[1].Eligible == nil || !*out.Members[1].Eligible || out.Members[0].Timeline != 2 {
		t.Errorf("members %+v", out.Members)
	}
}

// A standby the primary no longer sees streaming is listed from the
// record's standby state, with why it may not be promoted; the verdict is
// degraded (exit 4).
func TestStatusMembersStandbyNotStreaming(t *testing.T) {
	em := newEmulator(t)
	em.now = func() time.Time { return healthNow }
	ctx := context.Background()
	st := em.store(t)
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RenewPrimaryLease(ctx, "demo", store.Renewal{Node: "node1", Now: healthNow, Duration: 10 * time.Second, LSN: 42, Timeline: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetStandbyEligibility(ctx, "demo", "node1", "node2", false, "not streaming for 12 s", healthNow); err != nil {
		t.Fatal(err)
	}
	res := em.run(t, "status", "--cluster", "demo", "--table", testTable)
	if res.code != cli.ExitDegraded {
		t.Fatalf("exit %d, want %d (degraded); %s", res.code, cli.ExitDegraded, res.stderr)
	}
	mustContain(t, "status", res.stdout, "node2   standby  not streaming from the primary", "no: not streaming for 12 s")
}

func TestStatusConfigMustNameTheCluster(t *testing.T) {
	em := newEmulator(t)
	healthyPair(t, em)
	// The sample configuration of events/ describes another cluster.
	path := filepath.Join("..", "..", "events", "cluster-config.json")
	res := em.run(t, "status", "--cluster", "demo", "--table", testTable, "--config", filepath.Join(t.TempDir(), "missing.json"))
	if res.code != cli.ExitUsage || !strings.Contains(res.stderr, "--config") {
		t.Errorf("missing config: exit %d, %s", res.code, res.stderr)
	}
	res = em.run(t, "status", "--cluster", "other", "--table", testTable, "--config", path)
	if res.code != cli.ExitUsage || !strings.Contains(res.stderr, "describes cluster") {
		t.Errorf("config of another cluster: exit %d, %s", res.code, res.stderr)
	}
}

// --watch prints the status again at each interval until interrupted.
func TestStatusWatch(t *testing.T) {
	em := newEmulator(t)
	healthyPair(t, em)
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"--endpoint-url", em.url, "status", "--cluster", "demo", "--table", testTable, "--watch", "50ms"},
			testOptions(&stdout, &stderr))
	}()
	waitFor(t, "three status prints", func() bool { return strings.Count(stdout.String(), "(positions as of") >= 3 })
	cancel()
	if code := <-done; code != cli.ExitOK {
		t.Errorf("watch ended with exit %d, %s", code, stderr.String())
	}
	if n := strings.Count(stdout.String(), "--- "); n < 3 {
		t.Errorf("%d headers in:\n%s", n, stdout.String())
	}
}

// failover takes --to as switchover does; status --config names the
// replication mode and policy, and each node's instance as EC2 has it.
func TestFailoverToAndStatusMode(t *testing.T) {
	em := newEmulator(t)
	arn := em.machine(t, "switchyard-failover", passDefinition)
	res := em.run(t, "failover", "--state-machine-arn", arn, "--cluster", "demo", "--to", "node2", "--dry-run")
	if res.code != cli.ExitOK || !strings.Contains(res.stdout, `"target": "node2"`) {
		t.Errorf("failover --to: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	healthyPair(t, em)
	topo, err := localaws.LoadTopology(filepath.Join("..", "..", "testdata", "topology", "reference.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	em.srv.Register(ec2sim.New(topo))
	res = em.run(t, "status", "--cluster", "demo", "--table", testTable, "--config", filepath.Join("..", "..", "events", "cluster-config.json"))
	mustContain(t, "status --config", res.stdout, "mode     sync replication, policy available (asynchronous 5 s after the standby stops confirming)",
		"NODE   INSTANCE             STATE    AZ          PRIVATE IP  INTERFACE",
		"node1  i-0c460e6afa6d2ca4c  running  us-east-1a  10.0.2.10   eni-0d132fa596468253e")
	if strings.Contains(res.stdout, "DIFFERS") || strings.Contains(res.stdout, "UNREADABLE: operation error EC2") {
		t.Errorf("status --config on the account the configuration describes shows a difference:\n%s", res.stdout)
	}
}
