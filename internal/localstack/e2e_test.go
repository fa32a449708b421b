package localstack_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/demo"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/samtemplate"
	"github.com/switchyard/switchyard/internal/store"
)

// TestAlarmDrivenFailover is the demo's alarm path as a test (the backstop
// when the standby's fast path cannot run): the primary dies, the
// reachability alarm starts the state machine from template.yaml, and the
// real handlers fence node1, promote node2 and move the overlay route,
// while a client keeps writing through the overlay IP.
func TestAlarmDrivenFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out strings.Builder
	var trigger string
	res, err := demo.Run(ctx, demo.Options{Out: &out, Stack: localstack.Options{Logf: t.Logf}, Timeout: 4 * time.Minute, Path: demo.PathAlarm,
		After: func(s *localstack.Stack) {
			assertFailedOver(t, s)
			for _, e := range s.SFN.Executions(s.StateMachineARN) {
				trigger = string(e.Input)
			}
		}})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Executions != 1 {
		t.Errorf("executions = %d, want exactly 1", res.Executions)
	}
	if len(res.Missing) != 0 || res.Acked == 0 {
		t.Errorf("acked %d, missing %v", res.Acked, res.Missing)
	}
	// The reachability alarm (PrimaryUnreachableSeconds reaching a period, from
	// the standby) fires before the heartbeat alarm's missing data can.
	if !strings.Contains(trigger, "switchyard-demo-primary-unreachable") {
		t.Errorf("the execution was not started by the reachability alarm: input %s", trigger)
	}
}

// TestFastPathFailsOverASilentPrimary is the demo with the primary's node
// blackholed (every packet dropped; its processes keep running): the
// standby's agent hears no WAL and gets no answer, reports the loss after
// the silent limit, and one execution fails over with nothing lost and
// never two writable nodes.
func TestFastPathFailsOverASilentPrimary(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	res, err := demo.Run(context.Background(), demo.Options{Out: &out, Stack: localstack.Options{Logf: t.Logf}, Timeout: 4 * time.Minute,
		Fault: demo.FaultBlackhole, Path: demo.PathFast})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Executions != 1 || !res.AlarmAt.IsZero() {
		t.Errorf("executions = %d (alarm at %v), want exactly 1 started by the fast path", res.Executions, res.AlarmAt)
	}
	if len(res.Missing) != 0 || res.Acked == 0 || res.DualWritable != 0 {
		t.Errorf("acked %d, missing %v, two writable for %s", res.Acked, res.Missing, res.DualWritable)
	}
	acked, lost := res.Acked, len(res.Missing)
	logFaultRow(t, faultRow{Case: "node silent (blackhole: every packet dropped), fast path",
		Expected: "detected after the silent limit; one execution; no loss",
		Observed: fmt.Sprintf("execution started %s after the fault; first write %s after", res.ExecutionStart.Sub(res.Crash).Round(time.Millisecond), res.Recovery().Round(time.Millisecond)),
		Acked:    &acked, Lost: &lost, DualWritableMs: res.DualWritable.Milliseconds()})
}

// TestManualFailoverFromConsoleInput starts the failover with the sample
// console input events/manual-failover.json after the primary died.
func TestManualFailoverFromConsoleInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := localstack.Start(ctx, localstack.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The alarm would start a second execution later; this test is about
	// the manual path only.
	for _, r := range s.Bus.Rules() {
		s.Bus.RemoveRule(r)
	}
	input, err := os.ReadFile(filepath.Join(s.Options.RepoDir, "events", "manual-failover.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WaitSteady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	m := startDualMonitor(t, s)
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	c := s.Client("operator")
	out, err := c.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN), Input: aws.String(string(input))})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	status, err := s.SFN.WaitExecution(wctx, aws.ToString(out.ExecutionArn))
	if err != nil {
		t.Fatal(err)
	}
	if status != "SUCCEEDED" {
		info, _ := s.SFN.Execution(aws.ToString(out.ExecutionArn))
		t.Fatalf("execution %s: %s: %s", status, info.Error, info.Cause)
	}
	assertFailedOver(t, s)
	reportFault(t, m, faultRow{Case: "node lost (Crash: PostgreSQL and agent), manual trigger", Expected: "fence, promote node2, reroute; calls allowed by IAM",
		Observed: "SUCCEEDED; node2 primary, routes moved, node1 stopped"})
}

// assertFailedOver checks the end state of a failover from node1 to node2
// and that every AWS call each function made is allowed by its IAM policy
// in template.yaml.
func assertFailedOver(t *testing.T, s *localstack.Stack) {
	t.Helper()
	ctx := context.Background()
	node1, node2 := s.Nodes["node1"], s.Nodes["node2"]
	for rt, target := range s.EC2.RouteTargets(localstack.OverlayCIDR) {
		if target != node2.ENI {
			t.Errorf("route table %s sends %s to %s, want node2's ENI %s", rt, localstack.OverlayCIDR, target, node2.ENI)
		}
	}
	// A forced stop is confirmed while the instance is still "stopping"
	// (its processes are gone; package fence); it reaches "stopped" later.
	if st := s.EC2.InstanceState(node1.Instance.ID); st != "stopping" && st != "stopped" {
		t.Errorf("node1's instance is %s, want stopping or stopped", st)
	}
	conn, err := pgx.Connect(ctx, node2.PG.DSN(localstack.DatabaseName, pgharness.Superuser))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var inRecovery bool
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || inRecovery {
		t.Errorf("node2 in recovery = %v (%v), want promoted", inRecovery, err)
	}
	rec, err := store.New(s.Client("test").DynamoDB, s.Config.Table).Get(ctx, s.Config.Name)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Primary != "node2" || rec.Lock != nil {
		t.Errorf("cluster record: primary %s, lease %+v; want node2 and no lease", rec.Primary, rec.Lock)
	}
	// The operator is told, with the execution's console link and how
	// long each step took.
	n := waitNotice(t, s, 30*time.Second, "failover node1 -> node2 SUCCEEDED")
	t.Logf("notice %q:\n%s", n.Subject, n.Message)
	for _, want := range []string{"Console:   https://", "fence ", "ms, promote ", "Primary:   node2 (epoch", "Trigger:   "} {
		if !strings.Contains(n.Message, want) {
			t.Errorf("failover notice lacks %q:\n%s", want, n.Message)
		}
	}
	assertCallsAllowed(t, s)
}

// assertCallsAllowed checks the emulator's call log: monitoring only
// publishes, Assess only reads, and every call of a function is allowed by
// its IAM policy in template.yaml.
func assertCallsAllowed(t *testing.T, s *localstack.Stack) {
	t.Helper()
	app, err := samtemplate.Load(filepath.Join(s.Options.RepoDir, "template.yaml"), s.TemplateParams())
	if err != nil {
		t.Fatal(err)
	}
	audit := app.NewAudit()
	for _, call := range s.Server.Calls() {
		// Invariant 7: monitoring never mutates. The probes only publish
		// metrics; Assess only reads.
		if strings.HasPrefix(call.AccessKeyID, "probe-") && call.Operation != "PutMetricData" {
			t.Errorf("node probe %s called %s: probes only publish heartbeats", call.AccessKeyID, call.Operation)
		}
		if call.AccessKeyID == "AssessFunction" && !readOnly(call.Operation) {
			t.Errorf("Assess called %s, which changes something", call.Operation)
		}
		principal := call.AccessKeyID
		if strings.HasPrefix(principal, "agent-") || strings.HasPrefix(principal, "probe-") {
			principal = "NodeAgentPolicy"
		} else if _, isFunction := app.Functions[principal]; !isFunction {
			continue
		}
		if !call.Finished {
			continue // in flight as the log was copied: ARNs and condition keys not derived yet
		}
		if call.ErrorCode != "" && len(call.ARNs) == 0 && len(call.Context) == 0 {
			continue // never answered (an injected partition or fault): nothing to authorize
		}
		// Actions, resource ARNs and condition keys, as IAM would: a
		// DynamoDB transaction item by item.
		items := make([]samtemplate.CallItem, len(call.Items))
		for i, it := range call.Items {
			items[i] = samtemplate.CallItem{Operation: it.Operation, ARNs: it.ARNs, Context: it.Context}
		}
		for _, req := range samtemplate.CallRequests(principal, call.Service, call.Operation, call.ARNs, call.Context, items) {
			if err := audit.Check(req); err != nil {
				t.Errorf("%s: %v", call.AccessKeyID, err)
			}
		}
	}
}

func readOnly(op string) bool {
	for _, prefix := range []string{"Describe", "Get", "List"} {
		if strings.HasPrefix(op, prefix) {
			return true
		}
	}
	return false
}
