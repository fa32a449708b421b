package failover

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/decide"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/reroute"
	"github.com/switchyard/switchyard/internal/store"
)

// AssessStep gathers evidence from every vantage point it has and decides
// (package decide) whether to proceed. It only reads: it holds Readers,
// which cannot change anything by type.
type AssessStep struct{ *Readers }

// Handle is the Lambda handler.
func (h *AssessStep) Handle(ctx context.Context, s State) (Assessment, error) {
	log := h.logger("assess", s)
	if s.Lease == nil || !s.Lease.Acquired {
		return Assessment{}, &StepFailed{Step: "assess", Err: errors.New("assess runs only under an acquired lease")}
	}
	cfg := h.Config
	now := h.now()
	obs := decide.Observation{
		Trigger: observedTrigger(cfg.Detection, s.Request), Force: s.Request.Force, Target: s.Request.Target,
		RecordPrimary: s.Lease.Primary, Now: now,
		Synchronous: cfg.Synchronous(), LeaseDuration: cfg.LeaseDuration(), ClockMargin: cfg.ClockMargin(),
		MaxEvidenceAge: cloudWatchEvidenceBound(cfg),
		StaleAfter:     cfg.HeartbeatStale(), MaxLagBytes: cfg.Promotion.MaxLagBytes,
		StreamSilentAfter: cfg.FastPathSilentAfter(),
	}
	var (
		wg        sync.WaitGroup
		probes    = make([]decide.Probe, len(cfg.Nodes))
		instances map[string]instanceView
		instErr   error
		beats     heartbeatEvidence
		rec       store.Record
		recErr    error
	)
	// The login is read first: only the connection counts against the
	// probe timeout, so a slow secret read never makes a node look lost.
	creds, credErr := h.credentials(ctx)
	if credErr != nil {
		return Assessment{}, credErr
	}
	for i, n := range cfg.Nodes {
		wg.Add(1)
		go func() { defer wg.Done(); probes[i] = h.probe(ctx, n, creds) }()
	}
	var where []reroute.Pointing
	wg.Add(4)
	go func() {
		defer wg.Done()
		where = reroute.Where(ctx, reroute.ReadClients{EC2: h.EC2, Route53: h.Route53}, cfg)
	}()
	go func() { defer wg.Done(); instances, instErr = h.describeInstances(ctx) }()
	go func() { defer wg.Done(); beats = h.heartbeats(ctx, s.Lease.Primary, now) }()
	go func() { defer wg.Done(); rec, recErr = h.Records.GetState(ctx, cfg.Name) }()
	wg.Wait()
	if recErr != nil {
		// The record is the gate's first source of evidence: retry rather
		// than decide on less.
		return Assessment{}, classify("assess: reading the cluster record (primary lease, standby eligibility)", recErr)
	}
	if rec.Paused(now) && s.Request.Trigger != TriggerManual {
		p := rec.Pause
		until := "until resumed"
		if !p.Until.IsZero() {
			until = "until " + p.Until.UTC().Format(time.RFC3339)
		}
		reason := fmt.Sprintf("maintenance mode (paused by %s %s: %s): the %s trigger is recorded and nothing is done; a manual failover or switchover still runs",
			p.By, until, p.Reason, s.Request.Trigger)
		log.Warn("automatic trigger during maintenance mode", "trigger", s.Request.Trigger, "pausedBy", p.By)
		return Assessment{Decision: DecisionNoAction, Reason: reason, OldPrimary: rec.Primary}, nil
	}
	byName := map[string]decide.Probe{}
	for i, n := range cfg.Nodes {
		byName[n.Name] = probes[i]
	}
	if a, ok := resumeAssessment(rec, byName); ok {
		log.Warn("assessed a pending handover", "decision", a.Decision, "reason", a.Reason, "new", a.NewPrimary)
		return a, nil
	}
	if a, ok := misroutedAssessment(rec, byName, where); ok && !s.Request.Force {
		log.Warn("assessed clients routed away from the recorded primary", "decision", a.Decision, "reason", a.Reason)
		return a, nil
	}
	notes := recordEvidence(&obs, rec)
	if instErr != nil {
		log.Warn("instance states unavailable", "err", instErr)
	}
	for i, n := range cfg.Nodes {
		iv := instances[n.InstanceID]
		obs.Nodes = append(obs.Nodes, decide.Node{Name: n.Name, InstanceState: iv.state, Impaired: iv.impaired, Probe: probes[i]})
	}
	obs.HeartbeatKnown, obs.PrimaryHeartbeatAge = beats.heartbeatKnown, beats.heartbeatAge
	obs.LSNKnown, obs.LastPrimaryLSN, obs.LSNAge = beats.lsnKnown, beats.lsn, beats.lsnAge

	v := decide.Decide(obs)
	if s.Request.Action == ActionSwitchover {
		v = decide.Switchover(obs)
	}
	v.Evidence = append(v.Evidence, notes...)
	for _, w := range where {
		v.Evidence = append(v.Evidence, "clients: "+w.String())
	}
	if instErr != nil {
		v.Evidence = append(v.Evidence, "instance states unavailable: "+instErr.Error())
	}
	if beats.err != nil {
		v.Evidence = append(v.Evidence, "CloudWatch unavailable: "+beats.err.Error())
	}
	log.Info("assessed", "decision", v.Decision.String(), "reason", v.Reason, "old", v.OldPrimary, "new", v.NewPrimary,
		"lagBytes", v.LagBytes, "bytesAtRisk", v.BytesAtRisk, "forced", v.Forced, "evidence", v.Evidence)
	return assessment(v), nil
}

// assessment is the verdict in the state machine's contract.
func assessment(v decide.Verdict) Assessment {
	return Assessment{Decision: v.Decision.String(), Reason: v.Reason, OldPrimary: v.OldPrimary, NewPrimary: v.NewPrimary,
		Evidence: v.Evidence, LagBytes: v.LagBytes, BytesAtRisk: v.BytesAtRisk, Forced: v.Forced}
}

// probe connects to one node's PostgreSQL directly from inside the VPC.
func (h *AssessStep) probe(ctx context.Context, n cluster.Node, creds credentials) decide.Probe {
	ctx, cancel := context.WithTimeout(ctx, h.Config.ProbeTimeout())
	defer cancel()
	conn, err := h.connectAs(ctx, n.PostgresAddr, creds)
	if err != nil {
		return decide.Probe{Error: err.Error()}
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := pgnode.GetStatus(ctx, conn)
	if err != nil {
		return decide.Probe{Error: fmt.Sprintf("status query on %s: %v", n.Name, err)}
	}
	p := decide.Probe{Reachable: true, InRecovery: st.InRecovery, ReceiveLSN: uint64(st.HeldLSN())}
	if !st.InRecovery {
		return p
	}
	if w := st.WALReceiver; w != nil {
		if w.Status == "streaming" {
			p.Streaming = true
			if w.LastMsgReceiptTime != nil {
				p.LastMessageAge = st.ServerTime.Sub(*w.LastMsgReceiptTime)
			}
		}
	}
	return p
}

type instanceView struct {
	state    string
	impaired bool
}

func (h *AssessStep) describeInstances(ctx context.Context) (map[string]instanceView, error) {
	ids := make([]string, 0, len(h.Config.Nodes))
	for _, n := range h.Config.Nodes {
		ids = append(ids, n.InstanceID)
	}
	return describeInstanceViews(ctx, h.EC2, ids)
}

// heartbeatEvidence is what CloudWatch says about the primary.
type heartbeatEvidence struct {
	heartbeatKnown bool
	heartbeatAge   time.Duration
	lsnKnown       bool
	lsn            uint64
	lsnAge         time.Duration
	err            error
}

// observedTrigger is the trigger as the decision weighs it: an alarm
// trigger from the reachability alarm is the standby's own view, not the
// primary's heartbeats.
func observedTrigger(d cluster.Detection, r Request) string {
	if r.Trigger == TriggerAlarm && d.IsReachabilityAlarm(r.Observer) {
		return "reachability-alarm"
	}
	return r.Trigger
}
