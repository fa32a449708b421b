package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/pgharness"
)

// Test hooks: faults of a whole node that the emulator and the data plane
// cannot express on their own.

// frozen remembers, per frozen node, whether its watchdog was counting
// down when it froze.
var (
	frozenMu sync.Mutex
	frozen   = map[*Node]bool{}
)

// Freeze suspends a node as a paused virtual machine (or a host stalled
// longer than failure detection) would be: its agent and probe stop
// (their goroutines cannot be paused, so they end and Thaw starts them
// again, as the resumed process would loop again), its watchdog's
// countdown stands still (the host's clock stands still too), and every
// PostgreSQL process of the node gets SIGSTOP. Its TCP connections stay
// open and silent: the standby notices only through wal_receiver_timeout.
func (s *Stack) Freeze(name string) error {
	n, ok := s.Nodes[name]
	if !ok {
		return fmt.Errorf("no node %q", name)
	}
	frozenMu.Lock()
	if _, already := frozen[n]; already {
		frozenMu.Unlock()
		return fmt.Errorf("node %s is already frozen", name)
	}
	frozenMu.Unlock()
	n.StopProbe()
	armed := n.Watchdog.pause()
	frozenMu.Lock()
	frozen[n] = armed
	frozenMu.Unlock()
	return signalAll(n.PG.DataDir, syscall.SIGSTOP)
}

// Thaw resumes a frozen node: SIGCONT to its PostgreSQL processes, its
// watchdog counting again (a full timeout: the frozen time did not pass on
// the node), then its probe and agent running again.
func (s *Stack) Thaw(name string) error {
	n, ok := s.Nodes[name]
	if !ok {
		return fmt.Errorf("no node %q", name)
	}
	frozenMu.Lock()
	armed, was := frozen[n]
	delete(frozen, n)
	frozenMu.Unlock()
	if !was {
		return fmt.Errorf("node %s is not frozen", name)
	}
	err := signalAll(n.PG.DataDir, syscall.SIGCONT)
	if armed {
		n.Watchdog.resume()
	}
	if perr := s.startProbe(n); perr != nil {
		err = errors.Join(err, perr)
	}
	if aerr := s.startAgent(n); aerr != nil {
		err = errors.Join(err, aerr)
	}
	return err
}

// pause stops the countdown without disarming; it reports whether the
// watchdog was armed.
func (w *Watchdog) pause() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer == nil {
		return false
	}
	w.timer.Stop()
	w.timer = nil
	return true
}

// resume restarts the countdown paused by pause.
func (w *Watchdog) resume() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.resetLocked()
}

// signalAll sends sig to every process working under dataDir: the
// postmaster and all its children chdir into the data directory.
func signalAll(dataDir string, sig syscall.Signal) error {
	pids := pgharness.ProcessesUnder(dataDir)
	if len(pids) == 0 {
		return fmt.Errorf("no process runs in %s", dataDir)
	}
	var errs []error
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("signal %v to %d: %w", sig, pid, err))
		}
	}
	return errors.Join(errs...)
}

// TaskInterceptor runs in place of a template function's handler when a
// Task state invokes it; next runs the real handler.
type TaskInterceptor func(ctx context.Context, input json.RawMessage, next asl.TaskFunc) (json.RawMessage, error)

// InterceptTask puts f in front of the handler of the function with the
// template logical id, for the executions started from now on: a test
// holds a step there to stop the execution at a chosen point.
func (s *Stack) InterceptTask(logicalID string, f TaskInterceptor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	arn, ok := s.taskARN[logicalID]
	if !ok {
		return fmt.Errorf("no Task state invokes a function %q", logicalID)
	}
	next := s.tasks[arn]
	s.tasks[arn] = func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		return f(ctx, input, next)
	}
	return nil
}

// Blackhole makes a node silent, as a network ACL dropping every packet
// to and from it would: its WAL stream to the standby and the Lambdas'
// path to it stall (dataplane Drop), its agent and probe reach no AWS
// service (their calls go unanswered), and the standby's probes of it go
// unanswered. Its processes keep running: its agent, unable to renew the
// primary lease, stops PostgreSQL before the lease expires, as on a real
// partition. Clients already connected stay connected until then.
func (s *Stack) Blackhole(name string) error {
	n, ok := s.Nodes[name]
	if !ok {
		return fmt.Errorf("no node %q", name)
	}
	s.Server.Faults().Add(localaws.Fault{AccessKeyID: AgentCaller(name), Partition: true})
	s.Server.Faults().Add(localaws.Fault{AccessKeyID: ProbeCaller(name), Partition: true})
	n.FunctionLink.Cut(dataplane.Drop)
	if s.Replication != nil && s.Replication.Upstream() == n.PG.Addr() {
		s.Replication.Cut(dataplane.Drop)
	}
	for _, peer := range s.Nodes {
		if peer != n {
			peer.CutNodeNetwork(true)
		}
	}
	return nil
}
