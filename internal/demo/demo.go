package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
	"github.com/switchyard/switchyard/internal/localstack"
)

// Options configure a run.
type Options struct {
	Stack localstack.Options
	// Out receives the timeline (nil: discarded).
	Out io.Writer
	// Timeout bounds the whole failover (default 5 minutes).
	Timeout time.Duration
	// WriteInterval paces the client's writes (default 50 ms).
	WriteInterval time.Duration
	// After, when set, runs on the stack after a successful failover and
	// before it is torn down (tests inspect the end state there).
	After func(*localstack.Stack)
	// Fault is what happens to the primary: FaultCrash (default) or
	// FaultBlackhole.
	Fault string
	// Path is what starts the failover: PathFast (default: the standby's
	// detector) or PathAlarm (the CloudWatch alarms alone).
	Path string
	// Scenario is the client-facing address the client writes through:
	// localstack.ScenarioRouteTable (default), ScenarioEIP,
	// ScenarioRoute53, or ScenarioAll for one client through each.
	Scenario string
	// ScenarioOnly configures the cluster with the targets of Scenario
	// alone, as a deployment that uses only that address would: the other
	// targets are left out of its routing configuration, so the failover
	// must leave them where they were, and Verify writes through the
	// scenario's address. By default every target is configured,
	// whichever address the client writes through.
	ScenarioOnly bool
}

// Faults and detection paths of a run.
const (
	// FaultCrash kills the primary's PostgreSQL and its agent; its host
	// still answers (connections are refused).
	FaultCrash = "crash"
	// FaultBlackhole makes the primary's node silent: every packet to and
	// from it is dropped.
	FaultBlackhole = "blackhole"
	// FaultSwitchover is no fault: a planned switchover to node2
	// (events/switchover.json); the figure is the write-unavailable window.
	FaultSwitchover = "switchover"
	// PathFast: the standby's agent detects the loss and starts the
	// failover; the alarm stays the backstop.
	PathFast = "fast"
	// PathAlarm: the standby's agent does not start the failover; the
	// alarms do (the reachability alarm on what the standby publishes,
	// the heartbeat alarm on the primary's missing heartbeats).
	PathAlarm = "alarm"
)

// emulatedStopDelay is how long an emulated instance stays "stopping", as
// on AWS, so that no result depends on a fast stop.
const emulatedStopDelay = 30 * time.Second

func (o *Options) applyDefaults() error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.WriteInterval == 0 {
		o.WriteInterval = 50 * time.Millisecond
	}
	if o.Stack.Log == nil {
		o.Stack.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Fault == "" {
		o.Fault = FaultCrash
	}
	if o.Path == "" {
		o.Path = PathFast
	}
	if o.Fault != FaultCrash && o.Fault != FaultBlackhole && o.Fault != FaultSwitchover {
		return fmt.Errorf("fault %q: want %q, %q or %q", o.Fault, FaultCrash, FaultBlackhole, FaultSwitchover)
	}
	if o.Path != PathFast && o.Path != PathAlarm {
		return fmt.Errorf("path %q: want %q or %q", o.Path, PathFast, PathAlarm)
	}
	if _, err := scenarios(o.Scenario); err != nil {
		return err
	}
	o.Stack.FastPath = o.Path == PathFast
	if o.Stack.StopDelay == 0 {
		o.Stack.StopDelay = emulatedStopDelay
	}
	return nil
}

// Result is what a run measured. Phase durations are from the crash.
type Result struct {
	Crash             time.Time
	HeartbeatMissedAt time.Time // no primary heartbeat for 4 s
	AlarmAt           time.Time // a detection alarm (heartbeat or reachability) went to ALARM
	ExecutionStart    time.Time
	Steps             []Step    // in order
	RoutedAt          time.Time // overlay route observed on the new primary
	FirstWriteAt      time.Time // first acknowledged write after the outage
	ExecutionEnd      time.Time
	Status            string
	Executions        int
	Acked             int
	// AckTimes are the client's acknowledgements, in order (the
	// benchmark's timeline picture).
	AckTimes   []time.Time
	Missing    []int64
	NewPrimary string
	// DualWritable is how long both nodes accepted writes at once (must
	// be 0).
	DualWritable time.Duration
	// Switchover: the run was a planned switchover; WriteGap is the time
	// from the last acknowledged write before its outage to the first after.
	Switchover bool
	WriteGap   time.Duration
	// Clients is what each client saw (one per scenario run). RoutedAt,
	// FirstWriteAt are the latest of them; Acked, Missing their sums;
	// WriteGap the longest; AckTimes the first client's.
	Clients []ClientResult
}

// Step is one state of the execution with its duration.
type Step struct {
	Name       string
	Start, End time.Time
}

// Recovery is the time from the crash to the first acknowledged write.
func (r Result) Recovery() time.Duration { return r.FirstWriteAt.Sub(r.Crash) }

// Unavailable is the run's headline figure: the time to recovery after a
// fault; for a switchover, the write-unavailable window (WriteGap).
func (r Result) Unavailable() time.Duration {
	if r.Switchover {
		return r.WriteGap
	}
	return r.Recovery()
}

// Run starts the local stack, kills the primary and follows the failover.
// It returns an error when anything went wrong, including a lost write.
func Run(ctx context.Context, opts Options) (res Result, err error) {
	if err := opts.applyDefaults(); err != nil {
		return res, err
	}
	p := printer{out: opts.Out}
	p.line("starting the local stack: AWS emulator, PostgreSQL pair (synchronous replication), node agents and probes, alarm, rules and state machine from template.yaml; instances take %s to stop, as on AWS", opts.Stack.StopDelay)
	names, _ := scenarios(opts.Scenario)
	if opts.ScenarioOnly {
		opts.Stack.Routes = names
	}
	stack, err := localstack.Start(ctx, opts.Stack)
	if err != nil {
		return res, err
	}
	defer stack.Close()
	if opts.ScenarioOnly {
		p.line("the cluster routes the %v address only; Verify writes through %s", names, stack.Config.Routing.ClientEndpoint)
	}
	if err := stack.PrepareWriterTable(ctx); err != nil {
		return res, fmt.Errorf("creating the client's table: %w", err)
	}
	clients, err := startClients(stack, names, opts.WriteInterval)
	if err != nil {
		return res, err
	}
	defer stopAll(clients)
	for _, c := range clients {
		p.line("emulator at %s; client through the %s at %s; state machine %s", stack.Endpoint, c.path.Label, c.path.Forwarder.Addr(), stack.StateMachineARN)
	}
	if err := stack.WaitSteady(ctx, 90*time.Second); err != nil {
		return res, err
	}
	if err := waitFor(ctx, 30*time.Second, func() bool { return leastAcked(clients) >= 100 }); err != nil {
		return res, fmt.Errorf("waiting for heartbeats and the alarm to settle at OK: %w", err)
	}
	p.line("steady state: alarm %s is OK, every client has at least %d acknowledged writes", stack.AlarmName, leastAcked(clients))

	if err := randomPhase(ctx, stack, names, &p); err != nil {
		return res, err
	}
	if n := len(stack.SFN.Executions(stack.StateMachineARN)); n > 0 {
		return res, fmt.Errorf("%d executions started before the primary was killed: a false alarm", n)
	}
	dual := WatchDualWritable(stack, 20*time.Millisecond)
	res.Crash = time.Now()
	p.start = res.Crash
	switch opts.Fault {
	case FaultSwitchover:
		res.Switchover = true
		if err := startSwitchover(ctx, stack); err != nil {
			return res, err
		}
		p.event("switchover to node2 requested (events/switchover.json)")
	case FaultBlackhole:
		if err := stack.Blackhole("node1"); err != nil {
			return res, err
		}
		p.event("primary node1 blackholed: every packet to and from it dropped (detection: %s path)", opts.Path)
	default:
		if err := stack.Crash("node1"); err != nil {
			return res, err
		}
		p.event("primary node1 killed: PostgreSQL (SIGKILL), its agent and its probe; its host refuses connections (detection: %s path)", opts.Path)
	}
	fctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	if err := follow(fctx, stack, clients, &res, &p); err != nil {
		return res, err
	}
	res.DualWritable = dual.Stop()
	for i, c := range clients {
		stats := c.w.Stop()
		c.res.Gap, c.res.Acked, c.res.AckTimes = stats.Gap, len(stats.Acked), stats.AckTimes
		if c.res.Missing, err = stack.MissingOn(ctx, res.NewPrimary, stats.Acked); err != nil {
			return res, fmt.Errorf("checking acknowledged writes on %s: %w", res.NewPrimary, err)
		}
		if i == 0 {
			res.AckTimes = c.res.AckTimes
		}
		res.WriteGap = max(res.WriteGap, c.res.Gap)
		res.Acked += c.res.Acked
		res.Missing = append(res.Missing, c.res.Missing...)
		res.Clients = append(res.Clients, c.res)
	}
	p.line("")
	for _, c := range res.Clients {
		if res.Switchover {
			p.line("%s: write-unavailable window (last acknowledged write before → first after): %s", c.Label, c.Gap.Round(time.Millisecond))
		} else {
			p.line("%s: time to recovery (crash → first acknowledged write): %s", c.Label, c.FirstWriteAt.Sub(res.Crash).Round(time.Millisecond))
		}
	}
	p.line("acknowledged writes: %d; missing on the new primary %s: %d; time with two writable nodes: %s",
		res.Acked, res.NewPrimary, len(res.Missing), res.DualWritable)
	if err := res.check(stack, !opts.Stack.Async); err != nil {
		return res, err
	}
	if opts.After != nil {
		opts.After(stack)
	}
	return res, nil
}

// check fails the run on anything but one successful failover; lost
// acknowledged writes fail it only under synchronous replication, where
// there must be none.
func (r Result) check(stack *localstack.Stack, sync bool) error {
	var errs []error
	if r.Status != string(sfntypes.ExecutionStatusSucceeded) {
		errs = append(errs, fmt.Errorf("execution ended %s", r.Status))
	}
	if r.Executions != 1 {
		errs = append(errs, fmt.Errorf("%d executions started, want exactly 1", r.Executions))
	}
	if r.DualWritable > 0 {
		errs = append(errs, fmt.Errorf("both nodes were writable for %s", r.DualWritable))
	}
	if len(r.Missing) > 0 && sync {
		errs = append(errs, fmt.Errorf("%d acknowledged writes are missing on %s: %v", len(r.Missing), r.NewPrimary, r.Missing))
	}
	// The forced stop is confirmed while "stopping"; "stopped" follows. A
	// switchover stops nothing.
	st := stack.EC2.InstanceState(stack.Nodes["node1"].Instance.ID)
	switch {
	case r.Switchover && st != "running":
		errs = append(errs, fmt.Errorf("node1's instance is %s after a switchover, want running", st))
	case !r.Switchover && st != "stopping" && st != "stopped":
		errs = append(errs, fmt.Errorf("node1's instance is %s, want stopping or stopped", st))
	}
	return errors.Join(errs...)
}

// follow watches the alarm, the execution and the client until the new
// primary takes writes and the execution ended.
func follow(ctx context.Context, stack *localstack.Stack, clients []*client, res *Result, p *printer) error {
	seen := map[int64]bool{}
	var execARN string
	// One client for the whole run. A read of the history that fails in
	// transport is tried again at the next tick, for up to a second: it
	// once failed three SDK attempts in a row ("use of closed network
	// connection", not root-caused) and ended a test run.
	api := stack.Client("demo").SFN
	var failedReads int
	readHistory := func() (retry bool, err error) {
		if err := history(ctx, api, execARN, seen, res, p); err != nil {
			if failedReads++; failedReads < 20 && ctx.Err() == nil {
				return true, nil
			}
			return false, err
		}
		failedReads = 0
		return false, nil
	}
	beat := cwsim.Metric{Namespace: stack.Config.Detection.Namespace, Name: "Heartbeat",
		Dimensions: []cwsim.Dimension{{Name: "Cluster", Value: stack.Config.Name}, {Name: "Role", Value: "primary"}}}
	for {
		if res.HeartbeatMissedAt.IsZero() {
			// Probes flush every 2 s: a primary heartbeat stamped more than
			// 4 s ago that has no successor is a missed heartbeat.
			if dps := stack.CW.Datapoints(beat); len(dps) > 0 {
				last := dps[len(dps)-1].Timestamp
				if time.Since(last) > 4*time.Second && last.Before(res.Crash.Add(time.Second)) {
					res.HeartbeatMissedAt = time.Now()
					p.event("heartbeat missed: the primary's last heartbeat is stamped %+.1fs", last.Sub(res.Crash).Seconds())
				}
			}
		}
		if res.AlarmAt.IsZero() {
			for _, name := range stack.Config.Detection.Alarms() {
				if st, ok := stack.CW.AlarmState(name); ok && st.Value == "ALARM" && res.AlarmAt.IsZero() {
					res.AlarmAt = st.Updated // when CloudWatch changed it, not when we looked
					p.eventAt(st.Updated, "alarm %s → ALARM (%s)", name, st.Reason)
				}
			}
		}
		var execs []sfnsim.ExecutionInfo
		for _, e := range stack.SFN.Executions(stack.StateMachineARN) {
			if !e.StartDate.Before(res.Crash) {
				execs = append(execs, e)
			}
		}
		res.Executions = len(execs)
		if execARN == "" && len(execs) > 0 {
			execARN = execs[0].ARN
			res.ExecutionStart = execs[0].StartDate
			p.eventAt(execs[0].StartDate, "execution %s started", execs[0].Name)
		}
		if execARN != "" {
			if _, err := readHistory(); err != nil {
				return err
			}
		}
		allWrote := observe(clients, res, p)
		if info, ok := stack.SFN.Execution(execARN); ok && info.Status != "RUNNING" {
			// The execution ended: read its history whole (a failed read
			// is tried at the next tick), then conclude.
			retry, err := readHistory()
			if err != nil {
				return err
			}
			if !retry {
				res.Status, res.ExecutionEnd = info.Status, info.StopDate
				if info.Status != "SUCCEEDED" {
					return fmt.Errorf("execution %s: %s: %s", info.Status, info.Error, info.Cause)
				}
				if allWrote {
					p.eventAt(info.StopDate, "execution %s", info.Status)
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("failover did not complete in time: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// history prints the state transitions not printed yet.
func history(ctx context.Context, api awsapi.SFNAPI, arn string, seen map[int64]bool, res *Result, p *printer) error {
	out, err := api.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	if err != nil {
		return fmt.Errorf("reading the execution history: %w", err)
	}
	for _, e := range out.Events {
		if seen[e.Id] {
			continue
		}
		seen[e.Id] = true
		switch {
		case e.StateEnteredEventDetails != nil && e.Type == sfntypes.HistoryEventTypeTaskStateEntered:
			res.Steps = append(res.Steps, Step{Name: aws.ToString(e.StateEnteredEventDetails.Name), Start: aws.ToTime(e.Timestamp)})
		case e.StateExitedEventDetails != nil && e.Type == sfntypes.HistoryEventTypeTaskStateExited:
			name := aws.ToString(e.StateExitedEventDetails.Name)
			for i := len(res.Steps) - 1; i >= 0; i-- {
				if res.Steps[i].Name == name && res.Steps[i].End.IsZero() {
					res.Steps[i].End = aws.ToTime(e.Timestamp)
					p.eventAt(res.Steps[i].End, "step %-13s done in %s", name, res.Steps[i].End.Sub(res.Steps[i].Start).Round(time.Millisecond))
				}
			}
		case e.LambdaFunctionFailedEventDetails != nil:
			p.eventAt(aws.ToTime(e.Timestamp), "a task failed: %s: %s (the state machine decides whether to retry)",
				aws.ToString(e.LambdaFunctionFailedEventDetails.Error), aws.ToString(e.LambdaFunctionFailedEventDetails.Cause))
		}
	}
	return nil
}

func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not reached within %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

type printer struct {
	out   io.Writer
	start time.Time
}

func (p *printer) line(format string, args ...any) { fmt.Fprintf(p.out, format+"\n", args...) }

func (p *printer) event(format string, args ...any) { p.eventAt(time.Now(), format, args...) }

func (p *printer) eventAt(t time.Time, format string, args ...any) {
	fmt.Fprintf(p.out, "  +%7.3fs  %s\n", t.Sub(p.start).Seconds(), fmt.Sprintf(format, args...))
}
