package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/store"
)

// Watchdog emulates a node's /dev/watchdog: armed by the agent while its
// node is the writable primary, it kills the node's PostgreSQL (as a host
// reset would) when the agent does not pet it within the timeout. Stopping
// the agent leaves it armed, as closing /dev/watchdog without the magic
// character does.
type Watchdog struct {
	fire func()

	mu      sync.Mutex
	timer   *time.Timer
	timeout time.Duration
	fired   int
	closed  bool
}

func newWatchdog(fire func()) *Watchdog { return &Watchdog{fire: fire} }

// Arm starts the countdown (or changes its timeout).
func (w *Watchdog) Arm(timeout time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timeout = timeout
	w.resetLocked()
	return nil
}

// Pet restarts the countdown.
func (w *Watchdog) Pet() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.resetLocked()
	}
	return nil
}

// Disarm stops the countdown.
func (w *Watchdog) Disarm() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	return nil
}

// Fired counts the times the watchdog took PostgreSQL down.
func (w *Watchdog) Fired() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fired
}

func (w *Watchdog) resetLocked() {
	if w.closed {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	var self *time.Timer
	self = time.AfterFunc(w.timeout, func() {
		w.mu.Lock()
		// A timer replaced (petted) or stopped while this callback waited
		// for the lock must not fire.
		if w.closed || w.timer != self {
			w.mu.Unlock()
			return
		}
		w.fired++
		w.timer = nil
		w.mu.Unlock()
		w.fire()
	})
	w.timer = self
}

func (w *Watchdog) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// startAgent starts the node agent that owns n's PostgreSQL. It publishes
// through the node's probe and calls DynamoDB as "agent-<node>".
func (s *Stack) startAgent(n *Node) error {
	deps := agent.Deps{
		Store:      store.New(s.client(AgentCaller(n.Name)).DynamoDB, s.Config.Table),
		Controller: pgharness.Controller{Node: n.PG},
		Watchdog:   n.Watchdog,
		Publish: func(metric string, v float64, at time.Time) {
			if p := n.Probe(); p != nil {
				p.AddNodeSample(metric, v, at)
			}
		},
		PublishCluster: func(metric string, v float64, at time.Time) {
			if p := n.Probe(); p != nil {
				p.AddClusterSample(metric, v, at)
			}
		},
		Log:      s.log.With("component", "agent", "node", n.Name),
		Dial:     s.peerDialer(n),
		Snapshot: agent.EBSSnapshots(s.client(AgentCaller(n.Name)).EC2, n.Instance.ID, s.Config.Name, n.Name),
	}
	if s.Options.FastPath {
		sfnAPI := s.client(AgentCaller(n.Name)).SFN
		deps.StartFailover = func(ctx context.Context, name string, input []byte) error {
			return agent.StepFunctionsStarter(sfnAPI, s.StateMachineARN)(ctx, name, input)
		}
	}
	ag, err := agent.New(agent.Config{
		Cluster: s.Config, Node: n.Name, AdminDSN: n.PG.DSN("postgres", pgharness.Superuser),
		// Calls may take up to two loop intervals: on a loaded 2-core test
		// machine the emulator sometimes answers a record read in more than
		// one, and a primary that also has no standby to vouch for it would
		// then stop itself (the renewal deadline still bounds the lease).
		Interval: s.Options.ProbeInterval, CheckTimeout: 2 * s.Options.ProbeInterval, StartRetry: 2 * time.Second,
	}, deps)
	if err != nil {
		return fmt.Errorf("agent of %s: %w", n.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	n.mu.Lock()
	n.agent, n.stopAgent, n.agentDone = ag, cancel, done
	n.mu.Unlock()
	go func() {
		defer close(done)
		if err := ag.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("node agent ended", "node", n.Name, "err", err)
		}
	}()
	return nil
}

// AgentCaller is the caller name (access key id) of a node agent's AWS
// calls, apart from its probe's ("probe-<node>").
func AgentCaller(node string) string { return "agent-" + node }

// ProbeCaller is the caller name of a node probe's AWS calls.
func ProbeCaller(node string) string { return "probe-" + node }

// Agent returns the node's agent (nil once stopped).
func (n *Node) Agent() *agent.Agent {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.agent
}

// StopAgent stops the node agent's loop as a kill would: the watchdog stays
// armed.
func (n *Node) StopAgent() {
	n.mu.Lock()
	cancel, done := n.stopAgent, n.agentDone
	n.stopAgent, n.agent = nil, nil
	n.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// RestartAgent starts the node's agent again after StopAgent.
func (s *Stack) RestartAgent(name string) error {
	n, ok := s.Nodes[name]
	if !ok {
		return fmt.Errorf("no node %q", name)
	}
	n.StopAgent()
	return s.startAgent(n)
}

// peerDialer is how a node's agent reaches the other node's PostgreSQL for
// the fast path's probe: node2 reaches node1 over the replication link
// (the path its WAL comes by, so a cut or a dead primary shows there as
// it would on the network), and not at all while the node's own network
// is cut (CutNodeNetwork): then every attempt stays unanswered.
func (s *Stack) peerDialer(n *Node) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if n.networkCut.Load() {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		if p, ok := s.Nodes["node1"]; ok && n.Name != "node1" && addr == p.FunctionLink.Addr() && s.Replication != nil {
			addr = s.Replication.Addr()
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// CutNodeNetwork makes every connection the node's agent opens to its peer
// go unanswered (true) or work again (false): a standby whose own network
// is cut must not fail its healthy primary over.
func (n *Node) CutNodeNetwork(cut bool) { n.networkCut.Store(cut) }
