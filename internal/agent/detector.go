package agent

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// The fast path: the standby's agent is the first to see its primary go
// (its WAL stream breaks), so it checks, and when a direct probe confirms
// the loss it starts the failover itself with a "Primary Lost" event. The
// state machine still corroborates (Assess needs an independent signal of
// its own and the record's lease state) before anything is fenced; the
// heartbeat alarm stays as the backstop for when this agent is down.

// MetricPrimaryUnreachableSeconds is what the standby's detector publishes
// under {Cluster} while it follows a primary it cannot reach: at every
// check whose probe is refused or goes unanswered, how many seconds ago the
// first such check of the episode was (0 at the first), then 0 once when
// WAL streams or the primary answers again (onlyBadNews). The reachability
// alarm fires when it reaches one alarm period: a datapoint that exists
// when things are bad, so it does not wait for missing data as the
// heartbeat alarm must, and that says how long, so that nothing needs to
// be published while all is well (a transient failed probe is a small
// value, not an alarm). A standby cut off from everything publishes
// nothing, which the alarm treats as not breaching.
const MetricPrimaryUnreachableSeconds = "PrimaryUnreachableSeconds"

// Event fields of the fast path's trigger (what failover.Intake reads).
const (
	fastPathSource     = "switchyard.nodeprobe"
	fastPathDetailType = "Primary Lost"
)

// probeResult is what a direct check of the primary found.
type probeResult int

const (
	primaryAlive   probeResult = iota // its postmaster answered
	primaryRefused                    // the host answered with a reset or refusal: PostgreSQL is gone
	primarySilent                     // no answer within the deadline: packets dropped, host down
)

func (r probeResult) String() string {
	return [...]string{"alive", "refused", "silent"}[r]
}

// Re-trigger backoff: a primary that keeps renewing its lease while this
// standby cannot reach it (the path between the nodes alone is broken) is
// a new incident at every renewal. After each trigger the detector waits
// this long, doubling up to the cap, before it reports the same primary
// again; a stream that recovers or a new primary resets it. Each execution
// assesses afresh, so this only bounds how often a false detection costs
// one.
const (
	retriggerBackoff    = 30 * time.Second
	retriggerBackoffMax = 5 * time.Minute
)

// detector is the fast path's state, owned by detectLoop.
type detector struct {
	conn       *pgx.Conn // to the local standby
	downSince  time.Time // when no WAL receiver was first seen running (zero while one runs)
	quietUntil time.Time // no probe before this: the primary answered the last one
	triggered  string    // the incident last reported (its execution name)

	// The last trigger, the primary it was about, and the wait before
	// that primary is reported again.
	lastTrigger    time.Time
	lastPrimary    string
	triggerBackoff time.Duration

	// unreachable publishes PrimaryUnreachableSeconds only while bad
	// (badnews.go); unreachableSince is when the current episode of an
	// unreachable primary began (zero: none).
	unreachable      onlyBadNews
	unreachableSince time.Time
}

// mayTrigger applies the re-trigger backoff to primary at now.
func (d *detector) mayTrigger(primary string, now time.Time) bool {
	return d.lastPrimary != primary || d.lastTrigger.IsZero() || !now.Before(d.lastTrigger.Add(d.triggerBackoff))
}

// noteTrigger records a trigger about primary at now and lengthens the
// backoff before the next one.
func (d *detector) noteTrigger(primary string, now time.Time) {
	if d.lastPrimary != primary || d.triggerBackoff == 0 {
		d.triggerBackoff = retriggerBackoff
	} else {
		d.triggerBackoff = min(2*d.triggerBackoff, retriggerBackoffMax)
	}
	d.lastTrigger, d.lastPrimary = now, primary
}

// resetBackoff forgets earlier triggers: the stream works again.
func (d *detector) resetBackoff() {
	d.lastTrigger, d.lastPrimary, d.triggerBackoff = time.Time{}, "", 0
}

// detectLoop runs the detector until ctx ends. It acts only while this
// node is a standby following a primary whose lease no failover has
// revoked: it publishes PrimaryUnreachableSeconds and, when the fast path is on,
// starts the failover on a confirmed loss.
func (a *Agent) detectLoop(ctx context.Context) {
	d := &detector{}
	defer func() {
		if d.conn != nil {
			_ = d.conn.Close(context.WithoutCancel(ctx))
		}
	}()
	t := time.NewTicker(a.cfg.Cluster.FastPathInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.detectOnce(ctx, d)
	}
}

func (a *Agent) detectOnce(ctx context.Context, d *detector) {
	snap := a.Snapshot()
	rec, ok := a.lastRecord()
	if !ok || snap.State != StateStandby || rec.Primary == "" || rec.Primary == a.cfg.Node || rec.PrimaryLease.Revoked() {
		d.downSince = time.Time{}
		a.publishReachable(d, true, a.now()) // not following that primary: an episode is over
		return
	}
	heard, down, err := a.lastHeard(ctx, d)
	if err != nil {
		// The local standby does not answer: this node cannot judge.
		return
	}
	now := a.now()
	silentAfter := a.cfg.Cluster.FastPathSilentAfter()
	// A stream that broke (no WAL receiver: its connection failed) is
	// checked at once; one that merely went quiet once it has been quiet
	// for half the silent limit.
	if !down && now.Sub(heard) < silentAfter/2 {
		d.resetBackoff()
	}
	if (!down && now.Sub(heard) < silentAfter/2) || now.Before(d.quietUntil) {
		a.publishReachable(d, true, now)
		return
	}
	primary, ok := a.cfg.Cluster.Node(rec.Primary)
	if !ok {
		return
	}
	res := a.probePrimary(ctx, primary.PostgresAddr, min(silentAfter/2, time.Second))
	now = a.now() // the probe took time: judge the silence as of its end
	a.publishReachable(d, res == primaryAlive, now)
	var reason string
	switch {
	case res == primaryAlive:
		// Only the replication path is broken, or the primary is idle
		// (an idle primary sends nothing while its standby keeps
		// replying): not a loss. Probe again a little later.
		d.quietUntil = now.Add(silentAfter / 2)
		return
	case res == primaryRefused:
		reason = fmt.Sprintf("no WAL from %s since %s and %s refused the connection at %s (PostgreSQL gone, host answering)",
			rec.Primary, heard.UTC().Format(time.RFC3339Nano), primary.PostgresAddr, now.UTC().Format(time.RFC3339Nano))
	case now.Sub(heard) >= silentAfter:
		reason = fmt.Sprintf("no WAL from %s since %s and %s silent for %s (no answer to a connection attempt)",
			rec.Primary, heard.UTC().Format(time.RFC3339Nano), primary.PostgresAddr, now.Sub(heard).Round(time.Millisecond))
	default:
		return
	}
	name := incidentName(a.cfg.Cluster.Name, rec)
	if name == d.triggered || !a.fastPathStarts() || !d.mayTrigger(rec.Primary, now) || a.holdTrigger(ctx, rec, now) {
		return
	}
	if err := a.reportLoss(ctx, name, reason, now); err != nil {
		a.log.Error("fast path: could not start the failover", "incident", name, "error", err)
		return
	}
	d.triggered = name
	d.noteTrigger(rec.Primary, now)
	a.update(func(s *Snapshot) { s.FastPathTriggers++ })
	a.log.Warn("fast path: primary lost, failover started", "primary", rec.Primary, "incident", name, "reason", reason)
}

// holdTrigger re-reads the record before a trigger, since the loop's copy
// may be a second old: a switchover (or a failover already running)
// revokes the lease before the primary stops, and in maintenance mode the
// fast path starts nothing (the alarms' executions record the loss). An
// unreadable record does not hold the trigger back.
func (a *Agent) holdTrigger(ctx context.Context, seen store.Record, now time.Time) bool {
	if seen.Paused(now) {
		return true
	}
	rctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	rec, err := a.deps.Store.GetState(rctx, a.cfg.Cluster.Name)
	if err != nil {
		return false
	}
	return rec.Primary != seen.Primary || rec.PrimaryLease.Revoked() || rec.Paused(now)
}

// fastPathStarts reports whether this detector starts failovers itself;
// when not, it only publishes PrimaryUnreachableSeconds for the alarm.
func (a *Agent) fastPathStarts() bool {
	return a.deps.StartFailover != nil && !a.cfg.Cluster.Detection.FastPath.Disabled
}

// publishReachable publishes MetricPrimaryUnreachableSeconds for one check
// of detector d: only while the primary is unreachable, and once when it
// is reachable again.
func (a *Agent) publishReachable(d *detector, reachable bool, at time.Time) {
	if reachable {
		d.unreachableSince = time.Time{}
	} else if d.unreachableSince.IsZero() {
		d.unreachableSince = at
	}
	if a.deps.PublishCluster == nil || !d.unreachable.publish(!reachable) {
		return
	}
	v := 0.0
	if !reachable {
		v = at.Sub(d.unreachableSince).Seconds()
	}
	a.deps.PublishCluster(MetricPrimaryUnreachableSeconds, v, at)
}

// lastRecord is the record the latest loop read.
func (a *Agent) lastRecord() (store.Record, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rec == nil {
		return store.Record{}, false
	}
	return *a.rec, true
}

// lastHeard is when the local standby last heard from its primary: the
// WAL receiver's last message, or now while none runs (it reconnects and
// fails at once when the primary is gone, so "now" starts the silent
// clock at the first check that sees it down).
func (a *Agent) lastHeard(ctx context.Context, d *detector) (heard time.Time, down bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	if d.conn == nil || d.conn.IsClosed() {
		conn, err := pgnode.Connect(cctx, a.cfg.AdminDSN, a.cfg.CheckTimeout)
		if err != nil {
			return time.Time{}, false, err
		}
		d.conn = conn
	}
	st, err := pgnode.GetStatus(cctx, d.conn)
	if err != nil {
		_ = d.conn.Close(context.WithoutCancel(ctx))
		d.conn = nil
		return time.Time{}, false, err
	}
	if !st.InRecovery {
		return time.Time{}, false, errors.New("not a standby")
	}
	now := a.now()
	w := st.WALReceiver
	if w == nil || w.LastMsgReceiptTime == nil || w.Status != "streaming" {
		if d.downSince.IsZero() {
			d.downSince = now
		}
		return d.downSince, true, nil
	}
	d.downSince = time.Time{}
	return now.Add(-st.ServerTime.Sub(*w.LastMsgReceiptTime)), false, nil
}

// probePrimary asks the primary's postmaster whether it runs, without
// credentials: an SSLRequest is answered ('S' or 'N') before any
// authentication by a live server.
func (a *Agent) probePrimary(ctx context.Context, addr string, timeout time.Duration) probeResult {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := a.deps.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(pctx, "tcp", addr)
	if err != nil {
		if pctx.Err() != nil || isTimeout(err) {
			return primarySilent
		}
		return primaryRefused
	}
	defer conn.Close()
	if dl, ok := pctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:4], 8)
	binary.BigEndian.PutUint32(req[4:8], 80877103) // SSLRequest code
	if _, err := conn.Write(req[:]); err != nil {
		return classifyIOError(err)
	}
	var resp [1]byte
	if _, err := io.ReadFull(conn, resp[:]); err != nil {
		return classifyIOError(err)
	}
	if resp[0] == 'S' || resp[0] == 'N' {
		return primaryAlive
	}
	return primaryRefused
}

func classifyIOError(err error) probeResult {
	if isTimeout(err) {
		return primarySilent
	}
	return primaryRefused // reset, EOF: something answered, PostgreSQL did not
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// incidentName is the execution name of one loss of one primary: the
// primary, its lease's term and its last renewal identify it. A dead
// primary renews no more, and a failover's lock (which bumps the record's
// epoch) and revocation leave both unchanged, so every trigger of the same
// incident (this agent's retries, a restarted agent) collapses into one
// execution: Step Functions refuses a second execution with the same
// name. A primary that renews again and is then lost is a new incident.
func incidentName(cluster string, rec store.Record) string {
	var term, renewed int64
	if l := rec.PrimaryLease; l != nil && l.Node == rec.Primary {
		term, renewed = l.Term, l.Renewed.UnixMilli()
	}
	return awsapi.ExecutionName(fmt.Sprintf("fastpath-%s-%s-t%d-r%d", cluster, rec.Primary, term, renewed))
}

// reportLoss starts the failover with a "Primary Lost" event.
func (a *Agent) reportLoss(ctx context.Context, name, reason string, at time.Time) error {
	event := map[string]any{
		"version": "0", "id": name, "source": fastPathSource, "detail-type": fastPathDetailType,
		"time": at.UTC().Format(time.RFC3339), "resources": []string{},
		"detail": map[string]string{"cluster": a.cfg.Cluster.Name, "observer": a.cfg.Node,
			"observedAt": at.UTC().Format(time.RFC3339Nano), "reason": reason},
	}
	input, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encoding the Primary Lost event: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout*4)
	defer cancel()
	return a.deps.StartFailover(sctx, name, input)
}

// StepFunctionsStarter is Deps.StartFailover for a real state machine: it
// starts an execution named name; an execution of that name that exists
// already (the same incident reported before) counts as started.
func StepFunctionsStarter(api awsapi.SFNAPI, stateMachineArn string) func(ctx context.Context, name string, input []byte) error {
	return func(ctx context.Context, name string, input []byte) error {
		_, err := api.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(stateMachineArn),
			Name: aws.String(name), Input: aws.String(string(input))})
		if err != nil && awsapi.ErrorCode(err) != "ExecutionAlreadyExists" {
			return fmt.Errorf("StartExecution %s on %s: %w", name, stateMachineArn, err)
		}
		return nil
	}
}
