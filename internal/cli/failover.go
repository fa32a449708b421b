package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/failover"
)

// MaxReasonLength is the longest reason the Intake step keeps; the CLI
// refuses a longer one rather than let it be cut.
const MaxReasonLength = 1024

// ManualRequest is the execution input of a manual failover, field for
// field what the Intake step of the state machine accepts
// (internal/failover/intake.go). Intake decodes it strictly: no other field
// may be added.
type ManualRequest struct {
	Action  string `json:"action"`
	Cluster string `json:"cluster"`
	Target  string `json:"target"`
	Force   bool   `json:"force"`
	Reason  string `json:"reason"`
}

// NewFailoverRequest builds and checks a manual failover request the way
// Intake will: the cluster must be named, and a forced failover must give
// a reason (it is recorded for audit). target "" lets the state machine
// pick the standby.
func NewFailoverRequest(cluster, target string, force bool, reason string) (ManualRequest, error) {
	req := ManualRequest{Action: failover.ActionFailover, Cluster: strings.TrimSpace(cluster),
		Target: strings.TrimSpace(target), Force: force, Reason: strings.TrimSpace(reason)}
	switch {
	case req.Cluster == "":
		return req, fmt.Errorf("the cluster name is empty")
	case force && req.Reason == "":
		return req, fmt.Errorf("a forced failover needs a reason (--reason): it is recorded for audit")
	case len(req.Reason) > MaxReasonLength:
		return req, fmt.Errorf("the reason is %d bytes long; at most %d are recorded", len(req.Reason), MaxReasonLength)
	}
	return req, nil
}

type failoverFlags struct {
	action          string // failover.ActionFailover ("" too) or failover.ActionSwitchover
	stateMachineARN string
	cluster         string
	target          string
	reason          string
	name            string
	force           bool
	wait            bool
	dryRun          bool
	pollInterval    time.Duration
	timeout         time.Duration
}

func newFailoverCommand(a *app) *cobra.Command {
	var f failoverFlags
	cmd := &cobra.Command{
		Use:   "failover --state-machine-arn ARN --cluster NAME [--target NODE] [--force --reason TEXT] [--wait] [--dry-run]",
		Short: "Start a manual failover (an execution of the failover state machine)",
		Long: "failover starts the failover state machine with a manual request\n" +
			"{\"action\":\"failover\",\"cluster\",\"target\",\"force\",\"reason\"}, checked locally first.\n" +
			"--wait follows the execution and prints its timeline; the command then exits 3\n" +
			"unless the execution succeeded. --dry-run prints the request and starts nothing.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runFailover(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.stateMachineARN, "state-machine-arn", "", "ARN of the failover state machine (required)")
	fl.StringVar(&f.cluster, "cluster", "", "cluster name, as in its configuration (required)")
	fl.StringVar(&f.target, "target", "", "node to promote (default: the state machine picks the standby)")
	fl.StringVar(&f.target, "to", "", "same as --target (as switchover --to)")
	fl.BoolVar(&f.force, "force", false, "promote even on stale or missing evidence; needs --reason")
	fl.StringVar(&f.reason, "reason", "", "why, recorded in the cluster history")
	fl.StringVar(&f.name, "name", "", "execution name (default: failover-CLUSTER-TIMESTAMP); while it runs, the same name and input give back the same execution")
	fl.BoolVar(&f.wait, "wait", false, "wait for the execution to end, printing its timeline")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the request and what would be started; start nothing")
	fl.DurationVar(&f.pollInterval, "poll-interval", time.Second, "with --wait: how often to poll the execution")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Minute, "with --wait: stop waiting after this long (the execution goes on)")
	return cmd
}

// failoverResult is the JSON output of failover.
type failoverResult struct {
	DryRun          bool             `json:"dryRun,omitempty"`
	StateMachineARN string           `json:"stateMachineArn"`
	Name            string           `json:"name,omitempty"`
	Request         ManualRequest    `json:"request"`
	ExecutionARN    string           `json:"executionArn,omitempty"`
	StartDate       *time.Time       `json:"startDate,omitempty"`
	Execution       *executionResult `json:"execution,omitempty"`
}

func (a *app) runFailover(ctx context.Context, f failoverFlags) error {
	req, region, err := f.check(a)
	if err != nil {
		return err
	}
	input, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encoding the request: %w", err)
	}
	if f.name == "" {
		f.name = defaultExecutionName(req.Action, req.Cluster, a.now())
	}
	res := failoverResult{StateMachineARN: f.stateMachineARN, Name: f.name, Request: req}
	if f.dryRun {
		res.DryRun = true
		return a.printDryRun(res, f)
	}
	clients, err := a.clientsIn(ctx, region)
	if err != nil {
		return err
	}
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(f.stateMachineARN), Name: aws.String(f.name), Input: aws.String(string(input))}
	out, err := clients.SFN.StartExecution(ctx, in)
	if err != nil {
		return fmt.Errorf("starting an execution of %s at %s: %w", f.stateMachineARN, endpointOf(clients.Config), err)
	}
	res.ExecutionARN = aws.ToString(out.ExecutionArn)
	res.StartDate = out.StartDate
	if !a.jsonOutput() {
		fmt.Fprintf(a.stdout, "started execution %s\n", res.ExecutionARN)
	}
	if !f.wait {
		if a.jsonOutput() {
			return writeJSON(a.stdout, res)
		}
		fmt.Fprintf(a.stdout, "follow it with: switchyard status --cluster %s --state-machine-arn %s\n", req.Cluster, f.stateMachineARN)
		return nil
	}
	var onEvent func(timelineEvent)
	if !a.jsonOutput() {
		onEvent = func(e timelineEvent) { printTimelineEvent(a.stdout, e) }
	}
	w := &watcher{sfn: clients.SFN, executionARN: res.ExecutionARN, interval: f.pollInterval, timeout: f.timeout, onEvent: onEvent}
	result, err := w.wait(ctx)
	if err != nil {
		return err
	}
	res.Execution = &result
	if a.jsonOutput() {
		if err := writeJSON(a.stdout, res); err != nil {
			return err
		}
	} else {
		printExecutionEnd(a.stdout, result)
	}
	return result.err(res.ExecutionARN)
}

// defaultExecutionName names an execution after the cluster and the second
// it was requested. A name makes StartExecution idempotent: an SDK retry, or
// the same request repeated within the second, returns the running
// execution instead of starting a second one.
func defaultExecutionName(action, cluster string, now time.Time) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, cluster)
	stamp := now.UTC().Format("20060102T150405Z")
	if room := 80 - len(action) - 2 - len(stamp); len(safe) > room {
		safe = safe[:room]
	}
	return action + "-" + safe + "-" + stamp
}

// check validates the flags and builds the request; it returns the region
// of the state machine.
func (f failoverFlags) check(a *app) (ManualRequest, string, error) {
	region, err := checkStateMachineARN(f.stateMachineARN)
	if err != nil {
		return ManualRequest{}, "", err
	}
	if a.region != "" && a.region != region {
		return ManualRequest{}, "", usageErrorf("--region %s differs from the region of --state-machine-arn (%s)", a.region, region)
	}
	if err := checkCluster(f.cluster); err != nil {
		return ManualRequest{}, "", err
	}
	if f.force && strings.TrimSpace(f.reason) == "" {
		return ManualRequest{}, "", usageErrorf("--force needs --reason: a forced failover is recorded for audit")
	}
	req, err := NewFailoverRequest(f.cluster, f.target, f.force, f.reason)
	if f.action == failover.ActionSwitchover {
		req, err = NewSwitchoverRequest(f.cluster, f.target, f.reason)
	}
	if err != nil {
		return ManualRequest{}, "", &UsageError{Err: err}
	}
	if err := checkExecutionName(f.name); err != nil {
		return ManualRequest{}, "", err
	}
	if f.wait && f.pollInterval <= 0 {
		return ManualRequest{}, "", usageErrorf("--poll-interval must be positive, got %s", f.pollInterval)
	}
	if f.wait && f.timeout < 0 {
		return ManualRequest{}, "", usageErrorf("--timeout must not be negative, got %s", f.timeout)
	}
	return req, region, nil
}

func (a *app) printDryRun(res failoverResult, f failoverFlags) error {
	if a.jsonOutput() {
		return writeJSON(a.stdout, res)
	}
	fmt.Fprintln(a.stdout, "dry run: nothing is started")
	fmt.Fprintln(a.stdout, "request (the execution input):")
	if err := writeJSON(indentWriter{w: a.stdout, prefix: "  "}, res.Request); err != nil {
		return err
	}
	what := "would start an execution of " + res.StateMachineARN + " named " + res.Name
	if a.endpointURL != "" {
		what += " at " + a.endpointURL
	}
	if f.wait {
		what += ", then wait for it to end"
	}
	fmt.Fprintln(a.stdout, what)
	return nil
}

// indentWriter prefixes every line written through it.
type indentWriter struct {
	w      io.Writer
	prefix string
}

func (iw indentWriter) Write(p []byte) (int, error) {
	text := strings.TrimSuffix(string(p), "\n")
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = iw.prefix + lines[i]
	}
	if _, err := io.WriteString(iw.w, strings.Join(lines, "\n")+"\n"); err != nil {
		return 0, err
	}
	return len(p), nil
}
