package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/discover"
	"github.com/switchyard/switchyard/internal/reroute"
	"github.com/switchyard/switchyard/internal/store"
)

type statusFlags struct {
	cluster         string
	table           string
	stateMachineARN string
	configPath      string
	watch           time.Duration
	json            bool
}

func newStatusCommand(a *app) *cobra.Command {
	var f statusFlags
	cmd := &cobra.Command{
		Use:   "status --cluster NAME [--table TABLE] [--state-machine-arn ARN]",
		Short: "Show the cluster record and whether the cluster is up: primary, epoch, lease, standby, running failovers",
		Long: "status reads the cluster record from DynamoDB (a strongly consistent read) and shows\n" +
			"the primary, the epoch (fencing token) and the failover lease, then its verdict\n" +
			"(health: ok, degraded, failover in progress, down, unknown), why, and for a state\n" +
			"that needs an operator the command that fixes it. The verdict rests on the record\n" +
			"alone: the primary's lease, the standby's eligibility and the latest history entry.\n" +
			"The members table shows each node's role, state, timeline, WAL position, replay lag\n" +
			"(bytes and seconds) and whether it may be promoted, as of the primary's last renewal.\n" +
			"With --config (the cluster configuration the agents use) it also reads where every\n" +
			"client-facing target points (describe calls only) and flags drift.\n" +
			"With --state-machine-arn it also lists the state machine's RUNNING executions.\n" +
			"With --watch 2s it prints the status again every 2 s until interrupted.\n" +
			"Exit status (without --watch): 0 ok, 3 degraded or failover in progress, 4 DOWN or unknown.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.json {
				a.output = OutputJSON
			}
			if f.watch > 0 {
				return a.watchStatus(cmd.Context(), f)
			}
			return a.runStatus(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "", "cluster name (required)")
	fl.StringVar(&f.table, "table", "", "DynamoDB table of the cluster record (default: switchyard-CLUSTER, as the template names it)")
	fl.StringVar(&f.stateMachineARN, "state-machine-arn", "", "also list the running executions of this failover state machine")
	fl.StringVar(&f.configPath, "config", "", "cluster configuration file (as the agents use): also show where each client-facing target points")
	fl.DurationVar(&f.watch, "watch", 0, "print the status again at this interval until interrupted (e.g. 2s)")
	fl.BoolVar(&f.json, "json", false, "print JSON (same as --output json)")
	return cmd
}

// statusOutput is the JSON output of status.
type statusOutput struct {
	Cluster   string       `json:"cluster"`
	Table     string       `json:"table"`
	Primary   string       `json:"primary"`
	Epoch     int64        `json:"epoch"`
	Lease     *leaseStatus `json:"lease"` // null when no failover holds it
	UpdatedAt time.Time    `json:"updatedAt"`
	Version   int64        `json:"version"`
	// PrimaryLease is the recorded primary's lease (null before its agent
	// first renews); Standby the primary agent's word on the other node.
	PrimaryLease *store.PrimaryLease `json:"primaryLease"`
	Standby      *store.StandbyState `json:"standby"`
	// Maintenance is the pause while it is active (null otherwise).
	Maintenance *store.Pause `json:"maintenance"`
	// Alarms are the detection alarms as CloudWatch has them (by the
	// template's names); AlarmsError says why they could not be read.
	Alarms      []alarmStatus `json:"alarms"`
	AlarmsError string        `json:"alarmsError,omitempty"`
	// Members are the nodes with their replication state (members.go).
	Members []member `json:"members"`
	// Routing is where each client-facing target points, and Replication
	// the configured mode and policy (both with --config).
	Routing     []reroute.Pointing   `json:"routing,omitempty"`
	Replication *cluster.Replication `json:"replication,omitempty"`
	// Instances are the configured nodes' instances as EC2 shows them
	// (with --config), and where they differ from the configuration.
	Instances []discover.Instance `json:"instances,omitempty"`
	// Health is the verdict drawn from the record: is there a writable
	// primary, can a standby take over, what fixes it.
	Health health `json:"health"`
	// StateMachineARN and RunningExecutions are set with --state-machine-arn.
	StateMachineARN   string             `json:"stateMachineArn,omitempty"`
	RunningExecutions []runningExecution `json:"runningExecutions,omitempty"`
}

type leaseStatus struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
	// Active is false when the lease has expired: the next failover may
	// take it over.
	Active bool `json:"active"`
}

type runningExecution struct {
	Name         string    `json:"name"`
	ExecutionARN string    `json:"executionArn"`
	StartDate    time.Time `json:"startDate"`
}

func (a *app) runStatus(ctx context.Context, f statusFlags) error {
	if err := checkCluster(f.cluster); err != nil {
		return err
	}
	var cfg *cluster.Config
	if f.configPath != "" {
		var err error
		if cfg, err = cluster.Load(f.configPath); err != nil {
			return &UsageError{Err: fmt.Errorf("--config: %w", err)}
		}
		if cfg.Name != f.cluster {
			return &UsageError{Err: fmt.Errorf("--config %s describes cluster %q, not %q", f.configPath, cfg.Name, f.cluster)}
		}
	}
	f.table = clusterTable(f.table, f.cluster)
	if err := checkTableName(f.table); err != nil {
		return err
	}
	region := ""
	if f.stateMachineARN != "" {
		var err error
		if region, err = checkStateMachineARN(f.stateMachineARN); err != nil {
			return err
		}
	}
	clients, err := a.clientsIn(ctx, region)
	if err != nil {
		return err
	}
	rec, err := readRecord(ctx, clients, f.cluster, f.table)
	if err != nil {
		return err
	}
	now := a.now()
	out := statusOutput{Cluster: rec.Cluster, Table: f.table, Primary: rec.Primary, Epoch: rec.Epoch,
		UpdatedAt: rec.UpdatedAt, Version: rec.Version}
	if rec.Lock != nil {
		out.Lease = &leaseStatus{Holder: rec.Lock.Holder, Expires: rec.Lock.Expires, Active: rec.LockActive(now)}
	}
	if l := rec.PrimaryLease; l != nil && l.Node == rec.Primary {
		out.PrimaryLease = l
	}
	if st := rec.Standby; st != nil && st.Node != rec.Primary {
		out.Standby = st
	}
	if rec.Paused(now) {
		out.Maintenance = rec.Pause
	}
	out.Alarms, out.AlarmsError = readAlarms(ctx, clients.CloudWatch, f.cluster)
	out.Health = assessHealth(rec, now, f.stateMachineARN)
	out.Members = members(rec, now)
	if cfg != nil {
		out.Replication = &cfg.Replication
		out.Routing = reroute.Where(ctx, reroute.ReadClients{EC2: clients.EC2, Route53: clients.Route53}, cfg)
		out.Instances = discover.Describe(ctx, clients.EC2, cfg)
		out.Health = withRouting(out.Health, out.Routing, rec.Primary)
	}
	if f.stateMachineARN != "" {
		out.StateMachineARN = f.stateMachineARN
		if out.RunningExecutions, err = listRunning(ctx, clients.SFN, f.stateMachineARN); err != nil {
			return err
		}
	}
	if a.jsonOutput() {
		if out.StateMachineARN != "" && out.RunningExecutions == nil {
			out.RunningExecutions = []runningExecution{}
		}
		if out.Members == nil {
			out.Members = []member{}
		}
		if err := writeJSON(a.stdout, out); err != nil {
			return err
		}
	} else if err := a.printStatus(out, now); err != nil {
		return err
	}
	if f.watch > 0 {
		return nil
	}
	return healthExit(out.Health.State)
}

// readRecord reads the cluster record, naming the cluster and table in
// every error.
func readRecord(ctx context.Context, clients *awsall.Clients, cluster, table string) (store.Record, error) {
	rec, err := store.New(clients.DynamoDB, table).Get(ctx, cluster)
	var noRecord *store.ErrNoRecord
	switch {
	case errors.As(err, &noRecord):
		return store.Record{}, fmt.Errorf("cluster %q has no record in table %s (is the cluster name right? the record is created when the stack is deployed)", cluster, table)
	case awsapi.IsNotFound(err):
		return store.Record{}, fmt.Errorf("table %s does not exist at %s: %w", table, endpointOf(clients.Config), err)
	case err != nil:
		return store.Record{}, fmt.Errorf("reading the record of cluster %q from table %s at %s: %w", cluster, table, endpointOf(clients.Config), err)
	}
	return rec, nil
}

// listRunning lists the RUNNING executions of a state machine, every page.
func listRunning(ctx context.Context, client awsapi.SFNAPI, stateMachineARN string) ([]runningExecution, error) {
	var running []runningExecution
	pages := sfn.NewListExecutionsPaginator(client, &sfn.ListExecutionsInput{
		StateMachineArn: aws.String(stateMachineARN), StatusFilter: types.ExecutionStatusRunning})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the running executions of %s: %w", stateMachineARN, err)
		}
		for _, e := range page.Executions {
			running = append(running, runningExecution{Name: aws.ToString(e.Name),
				ExecutionARN: aws.ToString(e.ExecutionArn), StartDate: aws.ToTime(e.StartDate)})
		}
	}
	return running, nil
}

func (a *app) printStatus(out statusOutput, now time.Time) error {
	if p := out.Maintenance; p != nil {
		until := "until resumed (switchyard resume)"
		if !p.Until.IsZero() {
			until = "until " + formatTime(p.Until) + " (" + relative(p.Until, now) + ")"
		}
		fmt.Fprintf(a.stdout, "*** MAINTENANCE MODE: automatic failover is off, paused by %s since %s %s: %s ***\n",
			p.By, formatTime(p.Since), until, orPlaceholder(p.Reason, "no reason given"))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "cluster\t%s\n", out.Cluster)
	fmt.Fprintf(tw, "primary\t%s\n", out.Primary)
	fmt.Fprintf(tw, "epoch\t%d\n", out.Epoch)
	switch l := out.Lease; {
	case l == nil:
		fmt.Fprintf(tw, "lock\tfree (no failover in flight)\n")
	case l.Active:
		fmt.Fprintf(tw, "lock\theld by %s until %s (%s)\n", l.Holder, formatTime(l.Expires), relative(l.Expires, now))
	default:
		fmt.Fprintf(tw, "lock\texpired: held by %s until %s (%s); the next failover takes it over\n", l.Holder, formatTime(l.Expires), relative(l.Expires, now))
	}
	fmt.Fprintf(tw, "updated\t%s (version %d)\n", formatTime(out.UpdatedAt), out.Version)
	if r := out.Replication; r != nil {
		line := r.Mode + " replication"
		if r.Mode == cluster.ReplicationSync {
			line += fmt.Sprintf(", policy %s", r.SyncPolicy)
			if r.SyncPolicy == cluster.SyncAvailable {
				line += fmt.Sprintf(" (asynchronous %d s after the standby stops confirming)", r.DegradeAfterSeconds)
			}
		}
		fmt.Fprintf(tw, "mode\t%s\n", line)
	}
	printAlarms(tw, out, now)
	fmt.Fprintf(tw, "health\t%s\n", out.Health.State)
	for _, why := range out.Health.Why {
		fmt.Fprintf(tw, "\t- %s\n", oneLine(why))
	}
	if out.Health.Fix != "" {
		fmt.Fprintf(tw, "fix\t%s\n", out.Health.FixNote)
		fmt.Fprintf(tw, "\t  %s\n", out.Health.Fix)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := printMembers(a.stdout, out.Members, now); err != nil {
		return err
	}
	if out.Instances != nil {
		if err := printInstances(a.stdout, out.Instances); err != nil {
			return err
		}
	}
	if out.Routing != nil {
		if err := printRouting(a.stdout, out.Routing, out.Primary); err != nil {
			return err
		}
	}
	if out.StateMachineARN == "" {
		return nil
	}
	if len(out.RunningExecutions) == 0 {
		fmt.Fprintf(a.stdout, "running executions of %s: none\n", out.StateMachineARN)
		return nil
	}
	fmt.Fprintf(a.stdout, "running executions of %s:\n", out.StateMachineARN)
	tw = tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tSTARTED\tEXECUTION ARN")
	for _, e := range out.RunningExecutions {
		fmt.Fprintf(tw, "  %s\t%s (%s)\t%s\n", e.Name, formatTime(e.StartDate), relative(e.StartDate, now), e.ExecutionARN)
	}
	return tw.Flush()
}

// HealthError is status's verdict when it is not ok: the exit code says
// which (ExitDegraded, ExitDown), so scripts can act on it.
type HealthError struct{ State healthState }

func (e *HealthError) Error() string { return "cluster health: " + e.State.String() }

func (e *HealthError) code() int {
	if e.State == healthDegraded || e.State == healthInProgress {
		return ExitDegraded
	}
	return ExitDown
}

// healthExit is nil for ok and a *HealthError otherwise.
func healthExit(s healthState) error {
	if s == healthOK {
		return nil
	}
	return &HealthError{State: s}
}

// withRouting adds routing drift to the verdict: a target not on the
// recorded primary (or unreadable) degrades an otherwise healthy cluster.
func withRouting(h health, where []reroute.Pointing, primary string) health {
	for _, p := range where {
		switch {
		case p.Drift != "":
			h.Why = append(h.Why, fmt.Sprintf("%s %s %s (routing drift)", p.Target, p.What, p.Drift))
		case p.Error != "":
			h.Why = append(h.Why, fmt.Sprintf("%s %s could not be read: %s", p.Target, p.What, p.Error))
		case p.Node != primary:
			h.Why = append(h.Why, fmt.Sprintf("%s %s points at %s, not the recorded primary %s (routing drift)", p.Target, p.What, orPlaceholder(p.Node, orPlaceholder(p.Raw, "nothing")), primary))
		default:
			continue
		}
		if h.State == healthOK {
			h.State = healthDegraded
		}
	}
	return h
}

// watchStatus prints the status every f.watch until ctx ends. A failed
// read is printed and retried: a watch outlives a throttled call.
func (a *app) watchStatus(ctx context.Context, f statusFlags) error {
	t := time.NewTicker(f.watch)
	defer t.Stop()
	for {
		if !a.jsonOutput() {
			fmt.Fprintf(a.stdout, "--- %s (every %s; Ctrl-C stops)\n", formatTime(a.now()), f.watch)
		}
		if err := a.runStatus(ctx, f); err != nil {
			var ue *UsageError
			if errors.As(err, &ue) {
				return err
			}
			fmt.Fprintf(a.stderr, "switchyard: %v\n", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// healthState is status's verdict on the cluster.
type healthState uint8

const (
	healthUnknown    healthState = iota // the record cannot tell (no primary lease yet)
	healthOK                            // writable primary, a standby that can take over
	healthDegraded                      // writable primary, but no standby can take over
	healthInProgress                    // a failover holds the lock
	healthDown                          // no writable primary and nothing will fix it unaided
)

func (h healthState) String() string {
	switch h {
	case healthOK:
		return "ok"
	case healthDegraded:
		return "degraded"
	case healthInProgress:
		return "failover in progress"
	case healthDown:
		return "DOWN"
	default:
		return "unknown"
	}
}

// MarshalText makes the JSON value the same word as the text output.
func (h healthState) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// health is the verdict with its reasons and, for a state that needs an
// operator, the one command that fixes it (FixNote says where to run it).
type health struct {
	State   healthState `json:"state"`
	Why     []string    `json:"why"`
	FixNote string      `json:"fixNote,omitempty"`
	Fix     string      `json:"fix,omitempty"`
}

// rejoinDoc describes the rejoin (automatic, on request, by hand).
const rejoinDoc = "docs/operations.md#re-joining-the-old-primary-as-a-standby"

// assessHealth judges the cluster from its record at now. It only reads
// the record: the primary's lease says whether the recorded primary may be
// writable (its agent stops PostgreSQL once it cannot renew), the
// standby's eligibility and the newest history entry whether a failover
// could replace it. stateMachineARN, when known, goes into the fix.
func assessHealth(rec store.Record, now time.Time, stateMachineARN string) health {
	var h health
	primary := rec.Primary
	lease := rec.PrimaryLease
	if lease != nil && lease.Node != primary {
		lease = nil
	}
	standby := rec.Standby
	if standby != nil && standby.Node == primary {
		standby = nil
	}
	var refused *store.HistoryEntry
	if n := len(rec.History); n > 0 && rec.History[n-1].Outcome == store.OutcomeRefused {
		refused = &rec.History[n-1]
	}
	writable := false
	switch {
	case lease == nil:
		h.Why = append(h.Why, fmt.Sprintf("primary %s has never renewed a primary lease: its agent is not running, or the record predates the agent", primary))
	case lease.Revoked():
		h.Why = append(h.Why, fmt.Sprintf("primary %s is fenced: its lease was revoked by %s at %s; it may not accept writes",
			primary, lease.RevokedBy, formatTime(lease.RevokedAt)))
	case !now.Before(lease.Expires):
		h.Why = append(h.Why, fmt.Sprintf("primary %s is not writable or unreachable: its lease expired at %s (%s) and its agent has not renewed it (node, agent or PostgreSQL down, or cut off from DynamoDB)",
			primary, formatTime(lease.Expires), relative(lease.Expires, now)))
	default:
		writable = true
		h.Why = append(h.Why, fmt.Sprintf("primary %s is writable: its lease runs until %s (renewed %s)",
			primary, formatTime(lease.Expires), relative(lease.Renewed, now)))
	}
	canTakeOver := true
	switch {
	case standby.NeedsRejoin():
		canTakeOver = false
		h.Why = append(h.Why, fmt.Sprintf("no standby can take over: %s is the former primary and has not been rejoined (%s)", standby.Node, standby.Reason))
	case standby != nil && !standby.Eligible:
		canTakeOver = false
		h.Why = append(h.Why, fmt.Sprintf("standby %s may not be promoted: %s", standby.Node, orDash(standby.Reason)))
	}
	if refused != nil && !writable {
		canTakeOver = false
		h.Why = append(h.Why, fmt.Sprintf("the last failover was refused%s: %s", repeated(*refused), orDash(refused.Reason)))
	}
	failover := fmt.Sprintf("switchyard failover --state-machine-arn %s --cluster %s --reason %q --wait",
		orPlaceholder(stateMachineARN, "<state machine ARN>"), rec.Cluster, "resume after status: "+primary+" is down")

	handover := lease.HandoverPending() && !rec.LockActive(now)
	if handover {
		h.Why = append(h.Why, fmt.Sprintf("execution %s handed the primary role from %s to %s and ended before finishing: clients may still be routed to %s and the history lacks the failover",
			lease.GrantedBy, orDash(lease.GrantedFrom), primary, orDash(lease.GrantedFrom)))
	}

	switch {
	case rec.LockActive(now):
		h.State = healthInProgress
		h.Why = append([]string{fmt.Sprintf("failover held by %s until %s", rec.Lock.Holder, formatTime(rec.Lock.Expires))}, h.Why...)
	case handover && writable:
		h.State = healthDegraded
		h.FixNote = "start a failover: it resumes the handover (promote, reroute, verify, record) without fencing again:"
		h.Fix = failover
	case handover:
		h.State = healthDown
		h.FixNote = fmt.Sprintf("bring %s back (start its instance first if it is stopped), then start a failover to finish the handover; on %s:", primary, primary)
		h.Fix = "systemctl start switchyard-nodeprobe.service"
	case writable && standby.NeedsRejoin():
		h.State = healthDegraded
		h.FixNote = fmt.Sprintf("rejoin %s as a standby (%s): start its instance if it is stopped; its agent rejoins it by itself, or, with automatic rejoin off, when asked:",
			standby.Node, rejoinDoc)
		h.Fix = fmt.Sprintf("switchyard rejoin %s --cluster %s", standby.Node, rec.Cluster)
	case writable && canTakeOver:
		h.State = healthOK
	case writable:
		h.State = healthDegraded
	case lease == nil:
		h.State = healthUnknown
	case canTakeOver && lease.Revoked():
		// Fenced by an execution that ended before promoting: nothing
		// will promote the standby unless a failover runs again.
		h.State = healthDown
		h.Why = append(h.Why, "no failover is in flight: the one that fenced it ended without promoting a standby")
		h.FixNote = "start a failover again (Fence finds the old primary fenced and moves on):"
		h.Fix = failover
	case canTakeOver:
		h.State = healthDown
		h.Why = append(h.Why, "no failover is in flight: the heartbeat alarm should start one within a minute")
		h.FixNote = "if no execution starts, start one:"
		h.Fix = failover
	case standby.NeedsRejoin() && !lease.Revoked():
		// The only other node lacks the writes since the last failover:
		// the primary must come back; its lease was not revoked, so its
		// agent renews it and serves again.
		h.State = healthDown
		h.FixNote = fmt.Sprintf("bring %s back (start its instance first if it is stopped); on %s:", primary, primary)
		h.Fix = "systemctl start switchyard-nodeprobe.service"
	case standby.NeedsRejoin():
		// Revoked: the primary can never renew again, and the other node
		// lacks its writes. No single command is safe.
		h.State = healthDown
		h.Why = append(h.Why, fmt.Sprintf("%s cannot serve again under its revoked lease and %s lacks its writes: an operator must decide (docs/operations.md, FailoverFailed)",
			primary, standby.Node))
	default:
		h.State = healthDown
		h.FixNote = fmt.Sprintf("bring %s back, or repair the standby (docs/operations.md, FailoverRefused); a forced failover loses data:", primary)
		h.Fix = fmt.Sprintf("switchyard failover --state-machine-arn %s --cluster %s --force --reason %q",
			orPlaceholder(stateMachineARN, "<state machine ARN>"), rec.Cluster, "<why the loss is accepted>")
	}
	return h
}

// repeated says how often a coalesced entry's outcome occurred, e.g.
// " 120 times since 2026-03-01T12:00:00Z", or "" for a single one.
func repeated(e store.HistoryEntry) string {
	if e.Occurrences() < 2 {
		return ""
	}
	return fmt.Sprintf(" %d times since %s", e.Occurrences(), formatTime(e.Since()))
}

func orPlaceholder(s, placeholder string) string {
	if s == "" {
		return placeholder
	}
	return s
}
