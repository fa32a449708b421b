package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/imdssim"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/probe"
)

// Credentials of the role the failover functions log in with; the stack
// keeps them in the emulated Secrets Manager under SecretName.
const (
	SecretName   = "switchyard/pg"
	FunctionUser = "switchyard"
	functionPass = "local-only-password"
	DatabaseName = "app"
)

// Node is one emulated instance and the processes that run on it.
type Node struct {
	Name     string
	Instance localaws.Instance
	ENI      string
	PG       *pgharness.Node
	// FunctionLink is the path from the Lambdas (inside the VPC) to this
	// node's PostgreSQL; ProbeLink the path from the node's own probe.
	FunctionLink, ProbeLink *dataplane.Link

	// Watchdog is the node's emulated /dev/watchdog.
	Watchdog *Watchdog

	mu          sync.Mutex
	agent       *agent.Agent
	stopAgent   context.CancelFunc
	agentDone   chan struct{}
	probe       *probe.Probe
	stopProbe   context.CancelFunc
	probeDone   chan struct{}
	powerFailed bool
	networkCut  atomic.Bool // the agent's connections to its peer go unanswered
}

func (s *Stack) startDatabase(ctx context.Context) error {
	var replication *dataplane.Link
	pair, err := pgharness.StartPair(ctx, pgharness.PairOptions{
		Sync: !s.Options.Async, Database: DatabaseName, Logf: s.Options.Logf,
		// Standbys reply every second even when idle, so the primary's
		// failsafe check (a standby replied within FailsafeReply) holds.
		ExtraConfig: map[string]string{"wal_receiver_status_interval": "'1s'"},
		ReplicationAddr: func(primary *pgharness.Node) string {
			l, err := dataplane.NewLink("replication", primary.Addr(), dataplane.WithLogger(s.log))
			if err != nil {
				return primary.Addr()
			}
			replication = l
			return l.Addr()
		},
	})
	if replication != nil {
		s.Replication = replication
		s.onClose(replication.Close)
	}
	if err != nil {
		return err
	}
	s.Pair = pair
	s.onClose(pair.Close)
	if err := s.createFunctionRole(ctx); err != nil {
		return err
	}
	for _, pg := range []*pgharness.Node{pair.Primary, pair.Standby} {
		inst, ok := s.instanceNamed(pg.Name)
		if !ok {
			return fmt.Errorf("the reference topology has no instance named %s", pg.Name)
		}
		n := &Node{Name: pg.Name, Instance: inst, ENI: inst.NetworkInterfaceID, PG: pg}
		n.Watchdog = newWatchdog(func() {
			s.log.Warn("watchdog fired: the agent stopped checking in; killing PostgreSQL as a host reset would", "node", n.Name)
			_ = n.PG.Kill()
		})
		s.onClose(func() error { n.Watchdog.close(); return nil })
		if n.FunctionLink, err = dataplane.NewLink("functions->"+pg.Name, pg.Addr(), dataplane.WithLogger(s.log)); err != nil {
			return err
		}
		s.onClose(n.FunctionLink.Close)
		if n.ProbeLink, err = dataplane.NewLink("probe->"+pg.Name, pg.Addr(), dataplane.WithLogger(s.log)); err != nil {
			return err
		}
		s.onClose(n.ProbeLink.Close)
		s.Nodes[pg.Name] = n
	}
	return nil
}

// createFunctionRole creates the least-privileged login the functions use:
// monitoring views, pg_promote, CHECKPOINT, and the verification table.
func (s *Stack) createFunctionRole(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.Pair.Primary.DSN(DatabaseName, pgharness.Superuser))
	if err != nil {
		return fmt.Errorf("connecting as superuser: %w", err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		`CREATE ROLE ` + FunctionUser + ` LOGIN PASSWORD '` + functionPass + `' IN ROLE pg_monitor, pg_checkpoint`,
		`GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO ` + FunctionUser,
		`GRANT CREATE, USAGE ON SCHEMA public TO ` + FunctionUser,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	s.Secrets.PutSecret(SecretName, fmt.Sprintf(`{"username":%q,"password":%q}`, FunctionUser, functionPass))
	return nil
}

func (s *Stack) instanceNamed(name string) (localaws.Instance, bool) {
	for _, i := range s.Topology.Instances {
		if i.Name == name || i.Tags["Name"] == name {
			return i, true
		}
	}
	return localaws.Instance{}, false
}

func (s *Stack) nodeOfInstance(id string) *Node {
	for _, n := range s.Nodes {
		if n.Instance.ID == id {
			return n
		}
	}
	return nil
}

func (s *Stack) nodeOfENI(eni string) *Node {
	for _, n := range s.Nodes {
		if n.ENI == eni {
			return n
		}
	}
	return nil
}

func (s *Stack) startProbes() error {
	for _, n := range s.Nodes {
		if err := s.startProbe(n); err != nil {
			return err
		}
		if err := s.startAgent(n); err != nil {
			return err
		}
	}
	s.onClose(func() error {
		for _, n := range s.Nodes {
			n.StopProbe()
		}
		return nil
	})
	return nil
}

// metadataService starts the node's own IMDSv2 endpoint, as its EC2
// instance would have.
func (s *Stack) metadataService(n *Node) (string, error) {
	az := ""
	for _, sn := range s.Topology.Subnets {
		if sn.ID == n.Instance.SubnetID {
			az = sn.AvailabilityZone
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: imdssim.New(imdssim.Instance{InstanceID: n.Instance.ID, AvailabilityZone: az, PrivateIP: n.Instance.PrivateIP}),
		ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	s.onClose(srv.Close)
	return "http://" + ln.Addr().String(), nil
}

func (s *Stack) startProbe(n *Node) error {
	endpoint, err := s.metadataService(n)
	if err != nil {
		return fmt.Errorf("metadata service of %s: %w", n.Name, err)
	}
	idCtx, cancelID := context.WithTimeout(context.Background(), 5*time.Second)
	identity, err := probe.ResolveIdentity(idCtx, probe.Identity{}, probe.NewMetadataClient(endpoint), 2*time.Second)
	cancelID()
	if err != nil {
		return fmt.Errorf("probe of %s: identity from IMDSv2: %w", n.Name, err)
	}
	if identity.InstanceID != n.Instance.ID {
		return fmt.Errorf("probe of %s: IMDS says instance %s, want %s", n.Name, identity.InstanceID, n.Instance.ID)
	}
	dsn := fmt.Sprintf("host=127.0.0.1 port=%s user=%s password=%s dbname=%s sslmode=disable",
		portOf(n.ProbeLink.Addr()), FunctionUser, functionPass, DatabaseName)
	p, err := probe.New(probe.Config{ // detection settings shortened for tests: see localFlushInterval
		Cluster: s.Config.Name, Node: n.Name, DSN: dsn,
		Interval: s.Options.ProbeInterval, CheckTimeout: s.Options.ProbeInterval,
		Recovery: probe.RecoveryPolicy{FailureThreshold: 2},
		Publish: probe.PublisherConfig{Namespace: s.Config.Detection.Namespace, FlushInterval: localFlushInterval,
			Bucket: time.Second, MaxBuffered: 10000, MaxBackoff: 5 * time.Second, CallTimeout: 5 * time.Second, ShutdownTimeout: time.Second},
		Identity: identity,
	}, probe.Deps{CloudWatch: s.client(ProbeCaller(n.Name)).CloudWatch, Logger: s.log.With("component", "nodeprobe", "node", n.Name),
		RoleFilter: func(r pgnode.Role) pgnode.Role {
			if a := n.Agent(); a != nil {
				return a.PublishedRole(r)
			}
			return r
		}})
	if err != nil {
		return fmt.Errorf("probe of %s: %w", n.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	n.mu.Lock()
	n.probe, n.stopProbe, n.probeDone = p, cancel, done
	n.mu.Unlock()
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("node probe ended", "node", n.Name, "err", err)
		}
	}()
	return nil
}

// Probe returns the node's probe (nil once stopped).
func (n *Node) Probe() *probe.Probe {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.probe
}

// StopProbe stops the node agent process: its agent loop (leaving the
// watchdog armed) and its probe, and waits for both to end.
func (n *Node) StopProbe() {
	n.StopAgent()
	n.mu.Lock()
	cancel, done := n.stopProbe, n.probeDone
	n.stopProbe, n.probe = nil, nil
	n.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Crash kills the node's PostgreSQL and its probe at once, as a host that
// lost power or a PostgreSQL that died with its agent would look. The
// emulated instance stays "running": only the processes are gone.
func (s *Stack) Crash(name string) error {
	n, ok := s.Nodes[name]
	if !ok {
		return fmt.Errorf("no node %q", name)
	}
	n.StopProbe()
	if err := n.PG.Kill(); err != nil && !errors.Is(err, pgharness.ErrNotRunning) {
		return fmt.Errorf("killing %s's PostgreSQL: %w", name, err)
	}
	return nil
}

// instanceStateChanged is the emulated hypervisor: a stopping instance
// loses its processes and every connection to it.
func (s *Stack) instanceStateChanged(instanceID, state string) {
	n := s.nodeOfInstance(instanceID)
	if n == nil {
		return
	}
	s.log.Info("instance state changed", "instance", instanceID, "node", n.Name, "state", state)
	switch state {
	case "stopping", "stopped", "shutting-down", "terminated":
		n.mu.Lock()
		already := n.powerFailed
		n.powerFailed = true
		n.mu.Unlock()
		if already {
			return
		}
		go func() {
			n.StopProbe()
			_ = n.PG.Kill()
			n.FunctionLink.Cut(dataplane.Refuse)
			n.ProbeLink.Cut(dataplane.Refuse)
			for _, f := range []*dataplane.Forwarder{s.ClientOverlay, s.ClientEIP, s.ClientDNS} {
				if f != nil {
					f.CutConnectionsTo(n.PG.Addr())
				}
			}
		}()
	case "running":
		// Powered on again (StartInstances): the node answers on the
		// network; nothing runs on it until its agent starts (Boot).
		n.mu.Lock()
		was := n.powerFailed
		n.powerFailed = false
		n.mu.Unlock()
		if was {
			n.FunctionLink.Heal()
			n.ProbeLink.Heal()
		}
	}
}

// Boot is what systemd does when node's instance has started again: its
// agent and probe start (the agent decides what becomes of PostgreSQL).
func (s *Stack) Boot(name string) error {
	n, ok := s.Nodes[name]
	if !ok {
		return fmt.Errorf("no node %q", name)
	}
	// DescribeInstances can say "running" before the emulated hypervisor
	// (instanceStateChanged) has heard of it: let it catch up first.
	s.EC2.WaitStateHooks()
	n.mu.Lock()
	down := n.powerFailed
	n.mu.Unlock()
	if down {
		return fmt.Errorf("node %s: its instance is not running (StartInstances first)", name)
	}
	n.StopProbe()
	if err := s.startProbe(n); err != nil {
		return err
	}
	return s.RestartAgent(name)
}
