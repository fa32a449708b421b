package probe

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/pgnode"
)

// Deps are the probe's collaborators. CloudWatch is required; Checker
// defaults to a PGChecker on Config.DSN, Restarter to a CommandRestarter
// running Config.RestartCommand (none when that is empty), Logger to a
// discarding logger.
type Deps struct {
	CloudWatch awsapi.CloudWatchAPI
	Checker    Checker
	Restarter  Restarter
	Logger     *slog.Logger
	// RoleFilter, when set, maps the role PostgreSQL reports to the role
	// the heartbeats are published under: the node agent publishes as
	// primary only while its node is the recorded primary with a valid
	// lease (agent.Agent.PublishedRole).
	RoleFilter func(pgnode.Role) pgnode.Role
}

// Snapshot is the probe's state after its latest check.
type Snapshot struct {
	Checks    int64
	LastCheck time.Time
	Healthy   bool
	LastError string
	// Role is the role last observed (kept while PostgreSQL is down).
	Role pgnode.Role
	// Heartbeat is the value last published: 1, 0, or -1 when none was
	// (no check yet, or a failure being confirmed or locally recovered).
	Heartbeat int
	// Restarts counts restart command runs since start; RestartFailures
	// those that exited with an error.
	Restarts, RestartFailures int64
}

// Probe is the node agent: it checks the local PostgreSQL every
// Interval, recovers it locally when it stops, and publishes heartbeats
// and WAL positions to CloudWatch. It only reads and restarts the local
// server; it never changes the cluster (that is the state machine's job).
type Probe struct {
	cfg       Config
	checker   Checker
	restarter Restarter
	filter    func(pgnode.Role) pgnode.Role
	pub       *Publisher
	log       *slog.Logger

	rec       recovery
	lastWALRx string // last WAL receiver status logged

	mu   sync.Mutex
	snap Snapshot
}

// New checks cfg and returns a Probe ready to Run.
func New(cfg Config, deps Deps) (*Probe, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.CloudWatch == nil {
		return nil, errors.New("probe: no CloudWatch client")
	}
	p := &Probe{cfg: cfg, checker: deps.Checker, restarter: deps.Restarter, filter: deps.RoleFilter, log: deps.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.checker == nil {
		p.checker = PGChecker{DSN: cfg.DSN, ConnectTimeout: cfg.CheckTimeout}
	}
	if p.restarter == nil && len(cfg.RestartCommand) > 0 {
		p.restarter = CommandRestarter{Argv: cfg.RestartCommand}
	}
	p.snap.Heartbeat = -1
	p.rec.policy = cfg.Recovery
	if p.restarter == nil {
		p.rec.policy.MaxRestarts = 0
	}
	p.pub = NewPublisher(deps.CloudWatch, cfg.Publish, p.log)
	return p, nil
}

// Publisher exposes the probe's publisher (stats, explicit flushes).
func (p *Probe) Publisher() *Publisher { return p.pub }

// Snapshot returns the state after the latest check. Safe for concurrent use.
func (p *Probe) Snapshot() Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snap
}

// Run checks at once and then every Interval until ctx ends, then flushes
// what is buffered (bounded by Publish.ShutdownTimeout) and returns nil.
// CloudWatch trouble never delays a check: samples are handed to the
// publisher, which sends them from its own goroutine. A restart command
// runs in the check loop itself (bounded by RestartTimeout): while it runs
// there is nothing to check and nothing is published, as during the rest
// of a local recovery.
func (p *Probe) Run(ctx context.Context) error {
	p.log.Info("probe starting", "interval", p.cfg.Interval.String(),
		"flushInterval", p.cfg.Publish.FlushInterval.String(), "namespace", p.cfg.Publish.Namespace,
		"localRecovery", p.restarter != nil, "instanceId", p.cfg.Identity.InstanceID,
		"availabilityZone", p.cfg.Identity.AvailabilityZone, "privateIp", p.cfg.Identity.PrivateIP)
	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		p.pub.Run(pubCtx)
	}()

	ticker := time.NewTicker(p.cfg.Interval)
	defer ticker.Stop()
	for {
		p.tick(ctx)
		select {
		case <-ctx.Done():
			stopPub()
			<-pubDone
			st := p.pub.Stats()
			p.log.Info("probe stopped", "sent", st.Sent, "dropped", st.Dropped, "unsent", st.Buffered)
			return nil
		case <-ticker.C:
		}
	}
}

// tick runs one check, updates the recovery state, publishes and, if the
// policy says so, restarts PostgreSQL.
func (p *Probe) tick(ctx context.Context) {
	checkCtx, cancel := context.WithTimeout(ctx, p.cfg.CheckTimeout)
	obs := p.checker.Check(checkCtx)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: a cancelled check says nothing about PostgreSQL
	}
	if obs.At.IsZero() {
		obs.At = time.Now()
	}
	hb, act := p.rec.observe(obs.At, obs.Healthy())

	p.mu.Lock()
	prev := p.snap
	p.snap.Checks++
	p.snap.LastCheck = obs.At
	p.snap.Healthy = obs.Healthy()
	p.snap.LastError = ""
	if obs.Err != nil {
		p.snap.LastError = obs.Err.Error()
	}
	if obs.Healthy() {
		p.snap.Role = obs.Status.Role()
		if p.filter != nil {
			p.snap.Role = p.filter(p.snap.Role)
		}
	}
	p.snap.Heartbeat = map[heartbeat]int{heartbeatNone: -1, heartbeatHealthy: 1, heartbeatUnhealthy: 0}[hb]
	role := p.snap.Role
	p.mu.Unlock()

	p.logChanges(prev, obs, hb, role)
	var st *pgnode.Status
	if obs.Healthy() {
		st = &obs.Status
	}
	p.pub.Add(samplesFor(p.cfg.Cluster, p.cfg.Node, obs.At, hb, role, st)...)

	if act == actRestart {
		p.restart(ctx, obs.At)
	}
}

func (p *Probe) restart(ctx context.Context, now time.Time) {
	p.log.Warn("PostgreSQL is down; restarting it (local recovery)",
		"attempt", p.rec.restartsInWindow(now), "maxRestarts", p.rec.policy.MaxRestarts,
		"window", p.rec.policy.Window.String())
	rctx, cancel := context.WithTimeout(ctx, p.cfg.RestartTimeout)
	err := p.restarter.Restart(rctx)
	cancel()
	p.mu.Lock()
	p.snap.Restarts++
	if err != nil {
		p.snap.RestartFailures++
	}
	p.mu.Unlock()
	if err != nil {
		p.log.Error("restart command failed", "error", err)
		return
	}
	p.log.Info("restart command finished")
}

// logChanges logs transitions only, not every check.
func (p *Probe) logChanges(prev Snapshot, obs Observation, hb heartbeat, role pgnode.Role) {
	first := prev.Checks == 0
	switch {
	case obs.Healthy() && (first || !prev.Healthy):
		p.log.Info("PostgreSQL healthy", "role", role.String(), "timeline", obs.Status.Timeline,
			"version", obs.Status.ServerVersion)
	case !obs.Healthy() && (first || prev.Healthy):
		p.log.Warn("PostgreSQL check failed", "error", obs.Err, "lastRole", role.String())
	}
	if hb == heartbeatUnhealthy && prev.Heartbeat != 0 {
		p.log.Error("PostgreSQL declared unhealthy: publishing Heartbeat 0", "error", obs.Err,
			"restartsInWindow", p.rec.restartsInWindow(obs.At))
	}
	if obs.Healthy() && !first && prev.Role != role && prev.Role != pgnode.RoleUnknown {
		p.log.Warn("role changed", "from", prev.Role.String(), "to", role.String(), "timeline", obs.Status.Timeline)
	}
	if obs.Healthy() && role == pgnode.RoleStandby {
		rx := "none"
		if w := obs.Status.WALReceiver; w != nil {
			rx = w.Status
		}
		if rx != p.lastWALRx {
			p.log.Info("WAL receiver", "status", rx, "replayLagBytes", obs.Status.ReplayLagBytes())
			p.lastWALRx = rx
		}
	}
}

// AddNodeSample publishes one more value under {Cluster, Node} (the node
// agent's metrics ride on the probe's publisher). The agent publishes
// only while something is wrong (and once when it is over), so its
// samples are urgent: they reach CloudWatch within a second.
func (p *Probe) AddNodeSample(metric string, value float64, at time.Time) {
	p.pub.Add(Sample{Metric: metric, Unit: types.StandardUnitCount, Dimensions: dims(DimCluster, p.cfg.Cluster, DimNode, p.cfg.Node),
		Value: value, At: at, Urgent: true})
}

// AddClusterSample publishes one more value under {Cluster} alone: a
// metric of the cluster that whichever node observes it publishes (the
// standby's PrimaryUnreachableSeconds), so an alarm on it follows the roles.
// Urgent, like AddNodeSample's.
func (p *Probe) AddClusterSample(metric string, value float64, at time.Time) {
	p.pub.Add(Sample{Metric: metric, Unit: types.StandardUnitCount, Dimensions: dims(DimCluster, p.cfg.Cluster), Value: value, At: at, Urgent: true})
}
