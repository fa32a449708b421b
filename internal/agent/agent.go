package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// Config is what one node's agent needs.
type Config struct {
	Cluster *cluster.Config // lease timing, replication policy, the nodes
	Node    string          // this node's name in Cluster
	// AdminDSN reaches the local PostgreSQL as a superuser (ALTER SYSTEM for
	// synchronous_standby_names, status of the WAL senders).
	AdminDSN string
	// Interval is the loop period; CheckTimeout bounds one loop's calls.
	Interval, CheckTimeout time.Duration
	// StartRetry is the least time between two starts of a stopped
	// PostgreSQL (local recovery); default 5 s.
	StartRetry time.Duration
}

// Deps are the agent's collaborators; all but Log and Now are required.
type Deps struct {
	Store      *store.Store
	Controller Controller
	Watchdog   Watchdog
	// Publish receives the agent's metrics (SyncCommitsWaiting); nil drops
	// them.
	Publish func(metric string, value float64, at time.Time)
	// PublishCluster receives the detector's PrimaryUnreachableSeconds under
	// {Cluster} (the reachability alarm's metric); nil drops it.
	PublishCluster func(metric string, value float64, at time.Time)
	Log            *slog.Logger
	Now            func() time.Time
	// StartFailover starts the failover state machine with the fast
	// path's "Primary Lost" event as input, as an execution named name;
	// nil turns the fast path off (see StepFunctionsStarter).
	StartFailover func(ctx context.Context, name string, input []byte) error
	// Dial reaches the primary for the fast path's direct probe; nil is a
	// plain net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Snapshot requests EBS snapshots of this node's volumes before a
	// rejoin rewinds or re-clones its data directory (EBSSnapshots) and
	// returns their ids; nil takes none (not on EC2).
	Snapshot func(ctx context.Context, reason string) ([]string, error)
}

// State is what the agent has made of its node.
type State string

// States.
const (
	StateUnknown State = "unknown"
	StatePrimary State = "primary" // writable under a valid lease
	StateStandby State = "standby" // running in recovery
	StateStopped State = "stopped" // not running; Reason says why
)

// Snapshot is the agent's view after its latest loop.
type Snapshot struct {
	State  State
	Reason string
	// RecordPrimary and Epoch are from the last record read.
	RecordPrimary string
	Epoch         int64
	// RecordReachable is false while the record cannot be read or renewed.
	RecordReachable bool
	// LeaseExpires is this node's primary lease (zero when it holds none).
	LeaseExpires time.Time
	// Failsafe is true while it serves past a failed renewal because a
	// standby streams from it.
	Failsafe bool
	// SyncNames is synchronous_standby_names on a primary; StandbyEligible
	// what the record says of the standby.
	SyncNames       string
	StandbyEligible bool
	// SelfFences counts the times the agent stopped a writable PostgreSQL.
	SelfFences int
	// Promotions counts the times the agent promoted its standby because
	// the record granted it the primary role (an interrupted handover).
	Promotions int
	// FastPathTriggers counts the failovers this standby's detector
	// started.
	FastPathTriggers int
	// Rejoins counts the times the agent rewound (or re-cloned) this
	// former primary and started it as a standby of the recorded primary.
	Rejoins int
	Loops   int64
}

// Agent runs one node's PostgreSQL as the cluster record says.
type Agent struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	// Loop state, touched only by the loop goroutine.
	lastRenewSent time.Time
	leaseExpires  time.Time
	lastStart     time.Time
	renewFailing  bool
	// Warning metrics published only while bad (badnews.go); the
	// detector keeps its own (detector.unreachable).
	commitsWaiting, leaseLow onlyBadNews
	detachedFrom             string // the failover whose revocation this standby detached for
	rejoinRetryAt            time.Time
	// snapshotEpoch and snapshotNote remember the EBS snapshots requested
	// for the former-primary episode of that epoch (snapshot.go).
	snapshotEpoch int64
	snapshotNote  string
	// recloneSwapFailed keeps a re-clone that could not replace the data
	// directory from cloning again until the agent restarts.
	recloneSwapFailed error
	// watchdog is what the agent knows of its watchdog: a restarted agent
	// does not know whether its predecessor left it armed.
	watchdog watchdogState
	sync     syncState

	mu   sync.Mutex
	snap Snapshot
	rec  *store.Record // the record the latest loop read (for the fast path)
}

// New checks cfg and deps.
func New(cfg Config, deps Deps) (*Agent, error) {
	if cfg.Cluster == nil {
		return nil, errors.New("agent: no cluster configuration")
	}
	if _, ok := cfg.Cluster.Node(cfg.Node); !ok {
		return nil, fmt.Errorf("agent: node %q is not in cluster %q", cfg.Node, cfg.Cluster.Name)
	}
	if cfg.AdminDSN == "" || cfg.Interval <= 0 || cfg.CheckTimeout <= 0 {
		return nil, errors.New("agent: admin DSN, interval and check timeout are required")
	}
	if deps.Store == nil || deps.Controller == nil || deps.Watchdog == nil {
		return nil, errors.New("agent: store, controller and watchdog are required (use NoWatchdog explicitly on hosts without one)")
	}
	if cfg.StartRetry <= 0 {
		cfg.StartRetry = 5 * time.Second
	}
	a := &Agent{cfg: cfg, deps: deps, log: deps.Log}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.snap.State = StateUnknown
	// Until the record is read, assume the standby is eligible: the
	// cautious choice when the record then turns out unreachable.
	a.snap.StandbyEligible = true
	return a, nil
}

func (a *Agent) now() time.Time {
	if a.deps.Now != nil {
		return a.deps.Now()
	}
	return time.Now()
}

// Snapshot returns the state after the latest loop. Safe for concurrent use.
func (a *Agent) Snapshot() Snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.snap
}

// PublishedRole is the role the heartbeats may be published under: a node
// publishes as primary only while it is the recorded primary holding a
// valid lease, so a node that came back writable can never keep the
// primary's heartbeat alarm quiet.
func (a *Agent) PublishedRole(observed pgnode.Role) pgnode.Role {
	s := a.Snapshot()
	if observed == pgnode.RolePrimary && s.State != StatePrimary {
		return pgnode.RoleUnknown
	}
	return observed
}

// Run loops until ctx ends. It leaves the watchdog armed when it returns:
// only a node that stops being the writable primary disarms it.
func (a *Agent) Run(ctx context.Context) error {
	a.log.Info("agent starting", "node", a.cfg.Node, "timing", a.cfg.Cluster.TimingSummary(),
		"replication", a.cfg.Cluster.Replication.Mode, "syncPolicy", a.cfg.Cluster.Replication.SyncPolicy)
	if a.fastPathStarts() || a.deps.PublishCluster != nil {
		done := make(chan struct{})
		go func() { defer close(done); a.detectLoop(ctx) }()
		defer func() { <-done }()
	}
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		a.Tick(ctx)
		select {
		case <-ctx.Done():
			a.log.Info("agent stopped", "state", a.Snapshot().State)
			return nil
		case <-t.C:
		}
	}
}

// Tick runs one loop: observe PostgreSQL, read the record, converge.
func (a *Agent) Tick(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	now := a.now()
	obs := a.observe(ctx)
	if obs.conn != nil {
		defer obs.conn.Close(context.WithoutCancel(ctx))
	}
	rctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	rec, err := a.deps.Store.GetState(rctx, a.cfg.Cluster.Name)
	cancel()
	var noRecord *store.ErrNoRecord
	if errors.As(err, &noRecord) && obs.mayWrite {
		// A new cluster: the record is bootstrapped from the observed
		// primary, never from configuration order.
		ictx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
		rec, err = a.deps.Store.Init(ictx, a.cfg.Cluster.Name, a.cfg.Node)
		cancel()
		if err == nil {
			a.log.Info("created the cluster record from the observed primary", "primary", rec.Primary)
		}
	}
	if ctx.Err() != nil {
		return
	}
	a.update(func(s *Snapshot) { s.Loops++ })
	if err != nil {
		if obs.mayWrite {
			a.publishLease(now, true)
		}
		a.unreachable(ctx, now, obs, fmt.Errorf("reading the cluster record: %w", err))
		return
	}
	peer, _ := a.cfg.Cluster.Peer(a.cfg.Node)
	a.mu.Lock()
	a.rec = &rec
	a.mu.Unlock()
	a.update(func(s *Snapshot) {
		s.RecordPrimary, s.Epoch, s.RecordReachable = rec.Primary, rec.Epoch, true
		s.StandbyEligible = rec.Standby != nil && rec.Standby.Node == peer.Name && rec.Standby.Eligible
	})
	lease := rec.PrimaryLease
	switch {
	case rec.Primary != a.cfg.Node:
		a.detachIfRevoked(ctx, now, obs, rec)
		a.follow(ctx, obs, fmt.Sprintf("the cluster record names %s primary at epoch %d", rec.Primary, rec.Epoch))
	case lease != nil && lease.Node == a.cfg.Node && lease.Revoked() && lease.Planned:
		a.demote(ctx, obs, rec)
	case lease != nil && lease.Node == a.cfg.Node && lease.Revoked():
		a.follow(ctx, obs, fmt.Sprintf("failover %s revoked this node's primary lease", lease.RevokedBy))
	default:
		a.lead(ctx, now, obs, rec)
	}
}

// observation is the local PostgreSQL as seen at the start of a loop.
type observation struct {
	running bool
	status  *pgnode.Status // nil when it could not be read
	// mayWrite: running and not known to be in recovery (when the status
	// cannot be read, running without standby.signal counts).
	mayWrite bool
	conn     *pgx.Conn // admin connection while PostgreSQL answers
	err      error
}

func (a *Agent) observe(ctx context.Context) observation {
	o := observation{running: a.deps.Controller.Running()}
	if !o.running {
		return o
	}
	conn, err := pgnode.Connect(ctx, a.cfg.AdminDSN, a.cfg.CheckTimeout)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
		st, serr := pgnode.GetStatus(sctx, conn)
		cancel()
		if serr == nil {
			o.status, o.conn = &st, conn
			o.mayWrite = !st.InRecovery
			return o
		}
		err = serr
		_ = conn.Close(context.WithoutCancel(ctx))
	}
	o.err = err
	o.mayWrite = !fileExists(filepath.Join(a.deps.Controller.DataDir(), "standby.signal"))
	return o
}

// follow keeps a node that is not the primary (or lost its lease) from
// writing: fence a writable PostgreSQL, keep a standby running, restart a
// stopped standby that is not fenced.
func (a *Agent) follow(ctx context.Context, obs observation, why string) {
	switch {
	case obs.mayWrite:
		a.selfFence(ctx, why)
	case obs.running:
		a.disarm()
		if r := fencedReason(a.deps.Controller.DataDir()); r != "" {
			if _, _, ok := a.mayRejoin(a.now()); ok {
				// Started by hand read-only: stop it; the next loop rejoins.
				a.selfFence(ctx, "stopping the fenced, read-only former primary to rejoin it")
				return
			}
			a.setState(StateStandby, "read-only, fenced earlier ("+r+"); needs rejoin (pg_rewind) to follow the primary")
			return
		}
		a.setState(StateStandby, why+a.replacedNote())
	default:
		a.disarm()
		dir := a.deps.Controller.DataDir()
		if r := fencedReason(dir); r != "" {
			if rec, rj, ok := a.mayRejoin(a.now()); ok {
				a.rejoin(ctx, rec, rj)
				return
			}
			a.setState(StateStopped, "fenced: "+r+"; needs rejoin (pg_rewind) before it can run again")
			return
		}
		if !fileExists(filepath.Join(dir, "standby.signal")) {
			// A former primary's data directory: mark it, so that a start by
			// hand or by systemd comes up read-only.
			reason := "not the recorded primary and not configured as a standby (" + why + ")"
			if err := markFenced(dir, time.Now().UTC().Format(time.RFC3339)+" "+reason); err != nil {
				a.log.Error("could not mark the data directory of a former primary", "error", err)
			}
			a.setState(StateStopped, "fenced: "+reason+"; needs rejoin (pg_rewind) before it can run again")
			return
		}
		if a.pausedNow() {
			a.setState(StateStopped, "standby stopped; maintenance mode: not restarting it")
			return
		}
		a.start(ctx, "standby local recovery")
	}
}

// pausedNow reports whether the record the latest loop read is in
// maintenance mode.
func (a *Agent) pausedNow() bool {
	rec, ok := a.lastRecord()
	return ok && rec.Paused(a.now())
}

// lead runs the recorded primary: renew the lease, start PostgreSQL when it
// is down, keep the watchdog armed, manage synchronous replication.
func (a *Agent) lead(ctx context.Context, now time.Time, obs observation, rec store.Record) {
	defer func() { a.publishLease(now, a.renewFailing) }()
	// A failed renewal is retried every loop, so that the self-fence
	// deadline is checked every loop too.
	due := renewDue(now.Sub(a.lastRenewSent), a.cfg.Cluster.RenewInterval(), a.cfg.Interval) || !obs.running || a.renewFailing
	if due {
		if err := a.renew(ctx, now, obs, rec); err != nil {
			var notPrimary *store.ErrNotPrimary
			var revoked *store.ErrLeaseRevoked
			if errors.As(err, &notPrimary) || errors.As(err, &revoked) {
				a.follow(ctx, obs, err.Error())
				return
			}
			a.unreachable(ctx, now, obs, err)
			return
		}
	}
	a.update(func(s *Snapshot) { s.Failsafe = false })
	if !obs.running {
		if r := fencedReason(a.deps.Controller.DataDir()); r != "" {
			a.setState(StateStopped, "recorded primary, but fenced earlier ("+r+"); needs an operator")
			return
		}
		if a.pausedNow() {
			a.setState(StateStopped, "recorded primary, PostgreSQL stopped; maintenance mode: not restarting it")
			return
		}
		a.start(ctx, "local recovery of the primary")
		return
	}
	if !obs.mayWrite {
		a.promoteGranted(ctx, obs, rec)
		return
	}
	a.armAndPet()
	a.setState(StatePrimary, fmt.Sprintf("recorded primary at epoch %d, lease until %s", rec.Epoch, a.leaseExpires.Format(time.RFC3339Nano)))
	if obs.conn != nil && obs.status != nil {
		a.manageSync(ctx, now, obs.conn, *obs.status, rec)
	}
}

// unreachable handles a loop without a usable record: a writable primary
// keeps serving until StopBudget before its lease expires, then only while
// failsafe holds.
func (a *Agent) unreachable(ctx context.Context, now time.Time, obs observation, err error) {
	a.update(func(s *Snapshot) { s.RecordReachable = false })
	if !obs.mayWrite {
		if obs.running {
			a.setState(StateStandby, "cluster record unreachable: "+err.Error())
		} else {
			a.setState(StateStopped, "cluster record unreachable, PostgreSQL not started: "+err.Error())
		}
		return
	}
	fs := obs.status != nil && failsafe(*obs.status, a.cfg.Cluster.FailsafeReply())
	// Check in with the watchdog only while it would still fire before the
	// self-fence deadline, or while failsafe holds: a hang from here on must
	// not outlive the lease.
	if fs || !now.Add(a.cfg.Cluster.WatchdogTimeout()).After(a.cfg.Cluster.SelfFenceAt(a.leaseExpires)) {
		a.armAndPet()
	}
	if !fs && a.cfg.Cluster.Synchronous() && a.Snapshot().StandbyEligible {
		// The record says the standby holds every acknowledged commit, and
		// this agent cannot correct that while the record is unreachable:
		// with no standby streaming, a cancelled waiting commit would be
		// "committed locally" and acknowledged. Stop now, not at expiry.
		a.selfFence(ctx, fmt.Sprintf("cluster record unreachable (%v) while the recorded-eligible synchronous standby is not streaming", err))
		return
	}
	fenceAt := a.cfg.Cluster.SelfFenceAt(a.leaseExpires)
	if now.Before(fenceAt) {
		a.setState(StatePrimary, fmt.Sprintf("cannot renew (%v); serving until %s", err, fenceAt.Format(time.RFC3339Nano)))
		return
	}
	if fs {
		if !a.Snapshot().Failsafe {
			a.log.Warn("lease cannot be renewed, but a standby streams from this primary: failsafe, still serving", "error", err)
		}
		a.update(func(s *Snapshot) { s.Failsafe = true })
		a.setState(StatePrimary, "failsafe: cannot renew the lease, a standby is streaming")
		return
	}
	a.selfFence(ctx, fmt.Sprintf("primary lease expiring at %s could not be renewed (%v) and no standby streams from it",
		a.leaseExpires.Format(time.RFC3339Nano), err))
}

// failsafe: a standby streams from this primary and replied recently.
func failsafe(st pgnode.Status, maxReply time.Duration) bool {
	if maxReply <= 0 {
		return false
	}
	for _, r := range st.Replication {
		if r.State == "streaming" && r.ReplyTime != nil && st.ServerTime.Sub(*r.ReplyTime) <= maxReply {
			return true
		}
	}
	return false
}

// selfFence makes sure the local PostgreSQL cannot accept another write:
// the data directory is marked (any later start comes up in recovery), then
// PostgreSQL is stopped immediately.
func (a *Agent) selfFence(ctx context.Context, why string) {
	a.log.Error("fencing this node: stopping a writable PostgreSQL that may not accept writes", "reason", why)
	dir := a.deps.Controller.DataDir()
	if err := markFenced(dir, time.Now().UTC().Format(time.RFC3339)+" "+why); err != nil {
		a.log.Error("could not mark the data directory; stopping anyway", "error", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	err := a.deps.Controller.StopImmediate(sctx)
	cancel()
	if err != nil {
		a.log.Error("immediate stop failed; the watchdog stays armed", "error", err)
		a.setState(StatePrimary, "FENCING FAILED: "+err.Error())
		return
	}
	a.disarm()
	a.update(func(s *Snapshot) { s.SelfFences++ })
	a.setState(StateStopped, "fenced: "+why)
}

func (a *Agent) start(ctx context.Context, why string) {
	if !a.lastStart.IsZero() && a.now().Sub(a.lastStart) < a.cfg.StartRetry {
		return
	}
	a.lastStart = a.now()
	a.log.Warn("starting PostgreSQL", "why", why)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	err := a.deps.Controller.Start(sctx)
	cancel()
	if err != nil {
		a.log.Error("starting PostgreSQL failed", "error", err)
		a.setState(StateStopped, "start failed: "+err.Error())
		return
	}
	a.setState(StateUnknown, "started: "+why)
}

type watchdogState int

const (
	watchdogUnknown watchdogState = iota
	watchdogArmed
	watchdogDisarmed
)

func (a *Agent) armAndPet() {
	if a.watchdog != watchdogArmed {
		if err := a.deps.Watchdog.Arm(a.cfg.Cluster.WatchdogTimeout()); err != nil {
			a.log.Error("arming the watchdog failed", "error", err)
			return
		}
		a.watchdog = watchdogArmed
		a.log.Info("watchdog armed", "timeout", a.cfg.Cluster.WatchdogTimeout().String())
	}
	if err := a.deps.Watchdog.Pet(); err != nil {
		a.log.Error("petting the watchdog failed", "error", err)
	}
}

// disarm stops the watchdog once the node is no longer a writable primary,
// including one a previous agent process left armed.
func (a *Agent) disarm() {
	if a.watchdog == watchdogDisarmed {
		return
	}
	if err := a.deps.Watchdog.Disarm(); err != nil {
		a.log.Error("disarming the watchdog failed", "error", err)
		return
	}
	a.watchdog = watchdogDisarmed
}

func (a *Agent) setState(st State, reason string) {
	prev := a.Snapshot()
	if prev.State != st || prev.Reason != reason {
		lvl := slog.LevelInfo
		if st == StateStopped {
			lvl = slog.LevelWarn
		}
		if prev.State != st {
			a.log.Log(context.Background(), lvl, "node state", "state", string(st), "reason", reason)
		}
	}
	a.update(func(s *Snapshot) { s.State, s.Reason = st, reason })
}

func (a *Agent) update(fn func(*Snapshot)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fn(&a.snap)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
