package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/store"
)

const table = "switchyard-agenttest"

// testCluster is a real primary/standby pair, an emulated DynamoDB holding
// the cluster record, and one agent per node, each calling DynamoDB as
// "agent-<node>" so a test can partition one of them.
type testCluster struct {
	t           *testing.T
	cfg         *cluster.Config
	pair        *pgharness.Pair
	replication *dataplane.Link
	server      *localaws.Server
	records     *store.Store // the test's own view (caller "test")
	endpoint    string

	mu      sync.Mutex
	agents  map[string]*agent.Agent
	cancels map[string]context.CancelFunc
	dones   map[string]chan struct{}
	dogs    map[string]*countingWatchdog
	// published holds what each agent published under {Cluster}.
	published map[string][]float64
	// nodeMetrics holds what each agent published under {Cluster, Node}.
	nodeMetrics map[string][]metricValue
	pgctl       bool // clusterOptions.pgctl
}

type clusterOptions struct {
	async        bool
	noAutoRejoin bool
	noReclone    bool
	policy       string
	lease        cluster.PrimaryLease // zero fields: test defaults below
	// extraConfig is added to both nodes' postgresql.conf.
	extraConfig map[string]string
	// pgctl gives the agents the controller they use on a host
	// (agent.PGCtl: pg_ctl through runuser) instead of the harness's.
	pgctl bool
}

func startCluster(t *testing.T, o clusterOptions) *testCluster {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	tc := &testCluster{t: t, pgctl: o.pgctl, agents: map[string]*agent.Agent{}, cancels: map[string]context.CancelFunc{},
		dones: map[string]chan struct{}{}, dogs: map[string]*countingWatchdog{}, published: map[string][]float64{},
		nodeMetrics: map[string][]metricValue{}}
	extra := map[string]string{"wal_receiver_status_interval": "'1s'"}
	for k, v := range o.extraConfig {
		extra[k] = v
	}
	pair, err := pgharness.StartPair(ctx, pgharness.PairOptions{Sync: !o.async, Logf: t.Logf,
		ExtraConfig: extra,
		ReplicationAddr: func(primary *pgharness.Node) string {
			l, err := dataplane.NewLink("replication", primary.Addr())
			if err != nil {
				t.Fatalf("replication link: %v", err)
			}
			tc.replication = l
			return l.Addr()
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tc.stopAll()
		if o.pgctl { // servers pg_ctl started are not the harness's to stop
			for _, n := range []*pgharness.Node{pair.Primary, pair.Standby} {
				_ = hostController(t, n).StopImmediate(context.Background())
			}
		}
		if err := pair.Close(); err != nil {
			t.Errorf("closing the pair: %v", err)
		}
		if tc.replication != nil {
			tc.replication.Close()
		}
	})
	tc.pair = pair

	db := ddbsim.New(ddbsim.Options{})
	if err := db.CreateTable(ddbsim.TableSpec{Name: table, HashKey: "cluster", HashKeyType: "S"}); err != nil {
		t.Fatal(err)
	}
	tc.server = localaws.NewServer()
	tc.server.Register(db)
	hs := httptest.NewServer(tc.server)
	t.Cleanup(hs.Close)
	tc.endpoint = hs.URL
	tc.records = store.New(tc.dynamo("test"), table)

	lease := o.lease
	if lease.Seconds == 0 {
		lease = cluster.PrimaryLease{Seconds: 4, RenewSeconds: 1, ClockMarginMs: 500, StopBudgetMs: 1000, FailsafeReplySeconds: 3}
	}
	raw := map[string]any{
		"name": "agenttest", "table": table,
		"nodes": []map[string]string{
			{"name": "node1", "instanceId": "i-1", "networkInterfaceId": "eni-1", "privateIp": "10.0.2.10", "postgresAddr": pair.Primary.Addr()},
			{"name": "node2", "instanceId": "i-2", "networkInterfaceId": "eni-2", "privateIp": "10.0.3.10", "postgresAddr": pair.Standby.Addr()},
		},
		"routing":     map[string]any{"overlayIp": map[string]any{"cidr": "10.1.0.10/32", "vpcIds": []string{"vpc-1"}}, "clientEndpoint": "127.0.0.1:5432"},
		"database":    map[string]any{"secretId": "s"},
		"lease":       lease,
		"replication": map[string]any{"mode": map[bool]string{true: "async", false: "sync"}[o.async], "syncPolicy": o.policy, "degradeAfterSeconds": 2},
		"rejoin":      map[string]any{"disabled": o.noAutoRejoin, "noReclone": o.noReclone},
	}
	data, _ := json.Marshal(raw)
	if tc.cfg, err = cluster.Parse(data); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*pgharness.Node{pair.Primary, pair.Standby} {
		tc.startAgent(n.Name)
	}
	return tc
}

func (tc *testCluster) node(name string) *pgharness.Node {
	if name == tc.pair.Primary.Name {
		return tc.pair.Primary
	}
	return tc.pair.Standby
}

func (tc *testCluster) dynamo(caller string) awsapi.DynamoDBAPI {
	opts := append(awsall.LocalConfig(tc.endpoint, "us-east-1", caller), config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 2
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 10 * time.Millisecond, nil })
		})
	}))
	c, err := awsall.NewClients(context.Background(), opts...)
	if err != nil {
		tc.t.Fatal(err)
	}
	return c.DynamoDB
}

func (tc *testCluster) startAgent(name string) {
	tc.t.Helper()
	n := tc.node(name)
	tc.mu.Lock()
	dog := tc.dogs[name]
	if dog == nil {
		dog = &countingWatchdog{}
		tc.dogs[name] = dog
	}
	tc.mu.Unlock()
	a, err := agent.New(agent.Config{Cluster: tc.cfg, Node: name, AdminDSN: n.DSN("postgres", pgharness.Superuser),
		Interval: 200 * time.Millisecond, CheckTimeout: 500 * time.Millisecond, StartRetry: time.Second},
		agent.Deps{Store: store.New(tc.dynamo("agent-"+name), table), Controller: tc.controller(n), Watchdog: dog,
			Publish: func(metric string, v float64, _ time.Time) {
				tc.mu.Lock()
				tc.nodeMetrics[name] = append(tc.nodeMetrics[name], metricValue{metric, v})
				tc.mu.Unlock()
			},
			PublishCluster: func(metric string, v float64, _ time.Time) {
				if metric != agent.MetricPrimaryUnreachableSeconds {
					tc.t.Errorf("%s published %s under {Cluster}", name, metric)
				}
				tc.mu.Lock()
				tc.published[name] = append(tc.published[name], v)
				tc.mu.Unlock()
			},
			Log: slog.New(slog.NewTextHandler(testWriter{tc.t, name}, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		tc.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	tc.mu.Lock()
	tc.agents[name], tc.cancels[name], tc.dones[name] = a, cancel, done
	tc.mu.Unlock()
}

// controller is the agent's controller of n: the harness's, or with
// clusterOptions.pgctl the host's pg_ctl one.
func (tc *testCluster) controller(n *pgharness.Node) agent.Controller {
	if !tc.pgctl {
		return pgharness.Controller{Node: n}
	}
	ctl := hostController(tc.t, n)
	ctl.RejoinDSN = "dbname=postgres user=" + pgharness.Superuser + " sslmode=disable connect_timeout=5"
	return ctl
}

func (tc *testCluster) stopAgent(name string) {
	tc.mu.Lock()
	cancel, done := tc.cancels[name], tc.dones[name]
	delete(tc.cancels, name)
	tc.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (tc *testCluster) stopAll() {
	for _, n := range []string{"node1", "node2"} {
		tc.stopAgent(n)
	}
}

func (tc *testCluster) agent(name string) *agent.Agent {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.agents[name]
}

// partition cuts the agent of node from DynamoDB (connections closed
// without an answer); the returned function heals it.
func (tc *testCluster) partition(node string) func() {
	id := tc.server.Faults().Add(localaws.Fault{Service: "dynamodb", AccessKeyID: "agent-" + node, Partition: true})
	return func() { tc.server.Faults().Remove(id) }
}

// waitFor polls cond every 50 ms until it holds or limit passes.
func (tc *testCluster) waitFor(what string, limit time.Duration, cond func() bool) {
	tc.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tc.t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// steady waits until node1 holds the lease and, under synchronous
// replication, node2 is recorded eligible.
func (tc *testCluster) steady() store.Record {
	tc.t.Helper()
	var rec store.Record
	tc.waitFor("a steady cluster record", 30*time.Second, func() bool {
		var err error
		rec, err = tc.records.Get(context.Background(), tc.cfg.Name)
		if err != nil || rec.PrimaryLease == nil || rec.PrimaryLease.Node != "node1" || rec.PrimaryLease.LSN == 0 {
			return false
		}
		return !tc.cfg.Synchronous() || (rec.Standby != nil && rec.Standby.Eligible)
	})
	return rec
}

func (tc *testCluster) connect(name string) *pgx.Conn {
	tc.t.Helper()
	conn, err := tc.node(name).Connect(testCtx(tc.t, 10*time.Second), "postgres", pgharness.Superuser)
	if err != nil {
		tc.t.Fatalf("connecting to %s: %v", name, err)
	}
	tc.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// countingWatchdog records what the agent did with its watchdog.
type countingWatchdog struct {
	mu                 sync.Mutex
	arms, pets, disarm int
	armed              bool
	timeout            time.Duration
}

func (w *countingWatchdog) Arm(d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.arms++
	w.armed, w.timeout = true, d
	return nil
}

func (w *countingWatchdog) Pet() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pets++
	return nil
}

func (w *countingWatchdog) Disarm() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.disarm++
	w.armed = false
	return nil
}

func (w *countingWatchdog) state() (armed bool, timeout time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.armed, w.timeout
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

type testWriter struct {
	t    *testing.T
	node string
}

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("AGENT_TEST_LOG") != "" {
		w.t.Logf("%s: %s", w.node, p)
	}
	return len(p), nil
}

var _ = fmt.Sprintf

// metricValue is one value an agent published under {Cluster, Node}.
type metricValue struct {
	metric string
	value  float64
}

// nodeMetric is what node's agent has published as metric under
// {Cluster, Node}, oldest first.
func (tc *testCluster) nodeMetric(node, metric string) []float64 {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	var out []float64
	for _, mv := range tc.nodeMetrics[node] {
		if mv.metric == metric {
			out = append(out, mv.value)
		}
	}
	return out
}

// reachability is what node's agent has published as PrimaryUnreachableSeconds.
func (tc *testCluster) reachability(node string) []float64 {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return append([]float64(nil), tc.published[node]...)
}
