package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
	"github.com/switchyard/switchyard/internal/localaws/eventbus"
	"github.com/switchyard/switchyard/internal/localaws/route53sim"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
	"github.com/switchyard/switchyard/internal/localaws/smsim"
	"github.com/switchyard/switchyard/internal/localaws/snssim"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/store"
)

// Options configure a Stack. The zero value is the demo: a synchronous
// pair in the reference network, with the template's default alarm.
type Options struct {
	// RepoDir is the Switchyard checkout (default: found from the working
	// directory).
	RepoDir string
	// Async makes replication asynchronous (default synchronous).
	Async bool
	// SyncPolicy is the synchronous policy, "strict" or "available"
	// (default: the cluster package's default).
	SyncPolicy string
	// ClusterName defaults to "demo".
	ClusterName string
	// TemplateParams override template.yaml parameters (e.g.
	// HeartbeatEvaluationPeriods).
	TemplateParams map[string]string
	// StopDelay is how long an emulated instance takes from stopping to
	// stopped (default 2 s; AWS takes tens of seconds).
	StopDelay time.Duration
	// MaxLagBytes is the cluster's promotion lag limit (default: the
	// cluster package's default).
	MaxLagBytes int64
	// FastPath lets the standby's agent start the failover itself when it
	// sees the primary lost (default off: most tests trigger by hand).
	FastPath bool
	// Rejoin lets a former primary's agent rejoin it as a standby by itself
	// (the product's default; off here because most tests look at the
	// fenced former primary).
	Rejoin bool
	// StreamBatchingWindow caps the batching window of the template's
	// DynamoDB stream events (the notify function's 5 s), as the local
	// stack evaluates alarms every second instead of every period
	// (default 200 ms).
	StreamBatchingWindow time.Duration
	// Routes are the client-routing scenarios the cluster configures
	// (ScenarioRouteTable, ScenarioEIP, ScenarioRoute53), as a deployment
	// using only those addresses would; Verify writes through the first
	// one's address. Empty: every target the topology has, Verify through
	// the overlay IP.
	Routes []string
	// ProbeInterval is the node probes' check interval (default 1 s).
	ProbeInterval time.Duration
	// StateMachineSleep replaces real time in the state machine's Wait
	// states and Retry intervals (tests compress them); nil is real time.
	StateMachineSleep func(ctx context.Context, d time.Duration) error
	// StateMachineTimeoutSleep waits out the TimeoutSeconds of Task states
	// and of executions (tests fire a hung task's timeout without waiting
	// for it); nil is real time.
	StateMachineTimeoutSleep func(ctx context.Context, d time.Duration) error
	// Log receives the stack's and the handlers' structured logs (default:
	// discarded).
	Log *slog.Logger
	// Logf receives progress lines of the PostgreSQL harness.
	Logf func(format string, args ...any)
}

// Stack is a running local stack. Close stops everything it started.
type Stack struct {
	Options  Options
	Topology *localaws.Topology
	Config   *cluster.Config

	Server   *localaws.Server
	Endpoint string // http://127.0.0.1:port of the emulator
	EC2      *ec2sim.Service
	Route53  *route53sim.Service
	CW       *cwsim.Service
	SFN      *sfnsim.Service
	DynamoDB *ddbsim.Service
	Secrets  *smsim.Service
	SNS      *snssim.Service
	Bus      *eventbus.Bus

	Pair  *pgharness.Pair
	Nodes map[string]*Node // by node name
	// Replication is the path the standby streams WAL through.
	Replication *dataplane.Link

	// ClientOverlay forwards the overlay IP as seen from the client subnet
	// A2; ClientEIP the Elastic IP; ClientDNS the DNS name.
	ClientOverlay, ClientEIP, ClientDNS *dataplane.Forwarder

	StateMachineARN string
	AlarmName       string
	// NotificationTopicARN is the topic the notify function publishes to
	// (SNS.Published lists what it received).
	NotificationTopicARN string

	tasks   map[string]asl.TaskFunc
	taskARN map[string]string // function logical id → the ARN its Task states name
	// writers counts the writers started (each gets its own id range).
	writers int
	// dns is the clients' caching resolver of DNSName.
	dns dnsCache
	// functionEnv holds each template function's environment variables.
	functionEnv map[string]map[string]string
	log         *slog.Logger
	httpSrv     *http.Server
	mu          sync.Mutex
	closers     []func() error
}

// Start brings the whole stack up. On error it tears down what it started.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Stack{Options: opts, Nodes: map[string]*Node{}, log: opts.Log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Topology, err = localaws.LoadTopology(filepath.Join(opts.RepoDir, "testdata", "topology", "reference.yaml")); err != nil {
		return nil, err
	}
	// The client-facing record exists with the TTL the cluster
	// configures, as docs/deploy.md says to create it: clients cache the
	// TTL they were given before a failover, not the one Reroute writes.
	for i := range s.Topology.HostedZones {
		for j, r := range s.Topology.HostedZones[i].Records {
			if strings.TrimSuffix(r.Name, ".") == DNSName && r.Type == "A" {
				s.Topology.HostedZones[i].Records[j].TTL = cluster.DefaultDNSTTL
			}
		}
	}
	if err = s.startEmulator(); err != nil {
		return nil, fmt.Errorf("starting the AWS emulator: %w", err)
	}
	if err = s.startDatabase(ctx); err != nil {
		return nil, fmt.Errorf("starting PostgreSQL: %w", err)
	}
	if err = s.startDataPlane(); err != nil {
		return nil, fmt.Errorf("starting the data plane: %w", err)
	}
	if s.Config, err = s.clusterConfig(); err != nil {
		return nil, err
	}
	// As in a real installation, the node probes run before the stack is
	// deployed: an alarm created before any heartbeat exists would go to
	// ALARM at once (missing data is breaching) and start a needless
	// execution.
	if err = s.startProbes(); err != nil {
		return nil, fmt.Errorf("starting node probes: %w", err)
	}
	// 60 s: on CI's two cores, with many stacks starting at once, the
	// first heartbeat under Role=primary (published once the agent holds
	// the lease) once took longer than 30 s.
	if err = s.waitFirstHeartbeat(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	if err = s.deployTemplate(ctx); err != nil {
		return nil, fmt.Errorf("creating alarm, rule and state machine from template.yaml: %w", err)
	}
	// The cluster record is bootstrapped by the agent of the node observed
	// writable (node1), not by the stack.
	return s, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.RepoDir == "" {
		dir, err := FindRepo(".")
		if err != nil {
			return o, err
		}
		o.RepoDir = dir
	}
	if o.ClusterName == "" {
		o.ClusterName = "demo"
	}
	if o.StopDelay == 0 {
		o.StopDelay = 2 * time.Second
	}
	if o.ProbeInterval == 0 {
		o.ProbeInterval = time.Second
	}
	if o.StreamBatchingWindow == 0 {
		o.StreamBatchingWindow = 200 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o, nil
}

func (s *Stack) onClose(fn func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closers = append(s.closers, fn)
}

// Close stops probes, PostgreSQL, the data plane and the emulator, in the
// reverse order of their start.
func (s *Stack) Close() error {
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Stack) startEmulator() error {
	t := s.Topology
	var err error
	s.Server = localaws.NewServer()
	s.EC2 = ec2sim.New(t)
	s.EC2.SetStopDelay(s.Options.StopDelay)
	if s.Route53, err = route53sim.New(t); err != nil {
		return err
	}
	s.Route53.SetPropagationDelay(200 * time.Millisecond)
	if s.Secrets, err = smsim.New(t); err != nil {
		return err
	}
	s.DynamoDB = ddbsim.New(ddbsim.Options{Region: t.Region, AccountID: t.AccountID})
	s.SNS = snssim.New(snssim.Options{Region: t.Region, AccountID: t.AccountID})
	s.Bus = eventbus.New(eventbus.Options{})
	s.onClose(func() error { s.Bus.Close(); return nil })
	s.CW = cwsim.New(cwsim.Options{Region: t.Region, AccountID: t.AccountID, Publisher: s.Bus, EvaluationInterval: time.Second})
	s.SFN = sfnsim.New(sfnsim.Options{Region: t.Region, AccountID: t.AccountID, Tasks: s.resolveTask, Sleep: s.Options.StateMachineSleep,
		TimeoutSleep: s.Options.StateMachineTimeoutSleep, Publisher: s.Bus})
	s.onClose(func() error { s.SFN.Close(); return nil })
	for _, svc := range []localaws.Service{s.EC2, s.Route53, s.Secrets, s.DynamoDB, s.CW, s.SFN, s.SNS} {
		s.Server.Register(svc)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.Endpoint = "http://" + ln.Addr().String()
	s.httpSrv = &http.Server{Handler: s.Server, ReadHeaderTimeout: 10 * time.Second}
	go s.httpSrv.Serve(ln) //nolint:errcheck // ends with Close
	s.onClose(func() error { return s.httpSrv.Close() })
	s.CW.Start()
	s.onClose(func() error { s.CW.Stop(); return nil })
	s.EC2.OnInstanceState(s.instanceStateChanged)
	return nil
}

// client returns SDK clients that reach the emulator as the given caller:
// the access key id is the caller's name, so the call log tells callers
// (each function, each probe) apart.
func (s *Stack) client(caller string) *awsall.Clients {
	c, err := awsall.NewClients(context.Background(), awsall.LocalConfig(s.Endpoint, s.Topology.Region, caller)...)
	if err != nil {
		panic(fmt.Sprintf("building local clients cannot fail: %v", err)) // static config only
	}
	return c
}

// Client returns SDK clients for a caller outside the stack (the CLI, tests).
func (s *Stack) Client(caller string) *awsall.Clients { return s.client(caller) }

// WaitSteady waits until the cluster is in its normal state: the detection
// alarms are OK, the primary has published its WAL position, its agent holds
// the primary lease and (synchronous replication) has recorded the standby
// eligible, so a failure from now on has the evidence Assess needs.
func (s *Stack) WaitSteady(ctx context.Context, limit time.Duration) error {
	primary := s.Config.Nodes[0].Name
	lsn := cwsim.Metric{Namespace: s.Config.Detection.Namespace, Name: "PrimaryLSN",
		Dimensions: []cwsim.Dimension{{Name: "Cluster", Value: s.Config.Name}, {Name: "Node", Value: primary}}}
	records := store.New(s.client("setup").DynamoDB, s.Config.Table)
	deadline := time.Now().Add(limit)
	for {
		st, ok := s.CW.AlarmState(s.AlarmName)
		for _, name := range s.Config.Detection.Alarms() {
			if other, found := s.CW.AlarmState(name); found && other.Value != cwsim.StateOK && ok && st.Value == cwsim.StateOK {
				st = other // report the detection alarm that is not OK yet
			}
		}
		rec, recErr := records.Get(ctx, s.Config.Name)
		leased := recErr == nil && rec.Primary == primary && rec.PrimaryLease != nil && rec.PrimaryLease.Node == primary && rec.PrimaryLease.LSN > 0
		eligible := !s.Config.Synchronous() || (recErr == nil && rec.Standby != nil && rec.Standby.Eligible)
		if ok && st.Value == cwsim.StateOK && len(s.CW.Datapoints(lsn)) > 0 && leased && eligible {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not steady after %s: alarm %s is %q, %d PrimaryLSN datapoints of %s, record %+v (%v)",
				limit, s.AlarmName, st.Value, len(s.CW.Datapoints(lsn)), primary, rec, recErr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Stack) waitFirstHeartbeat(ctx context.Context, limit time.Duration) error {
	beat := cwsim.Metric{Namespace: s.Config.Detection.Namespace, Name: "Heartbeat",
		Dimensions: []cwsim.Dimension{{Name: "Cluster", Value: s.Config.Name}, {Name: "Role", Value: "primary"}}}
	// The alarm evaluates complete periods only: heartbeats must cover one
	// whole period before it is created, or it starts out breaching.
	period := localHeartbeatPeriod
	if v, ok := s.TemplateParams()["HeartbeatPeriodSeconds"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			period = time.Duration(n) * time.Second
		}
	}
	covered := func() bool {
		dps := s.CW.Datapoints(beat)
		return len(dps) > 0 && time.Since(dps[0].Timestamp) > period+2*time.Second
	}
	deadline := time.Now().Add(limit + period)
	for !covered() {
		if time.Now().After(deadline) {
			return fmt.Errorf("the primary's heartbeats did not cover one alarm period (%s) within %s", period, limit+period)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// The local stack's detection timing, shorter than the defaults (agents
// flush every 50 s, the heartbeat alarm has 60-s periods, Assess calls a
// heartbeat stale after 90 s) so that tests and the demo detect in
// seconds, with the defaults' margins kept: a flush well inside each alarm
// period and the stale limit well above the flush interval.
const (
	localFlushInterval   = 2 * time.Second
	localHeartbeatPeriod = 10 * time.Second
	localHeartbeatStale  = 30 * time.Second
)
