package localstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/store"
)

// hold stops the first invocation of a step: it tells the test it was
// reached, waits until the test lets go, then either runs the real handler
// (a Lambda that AWS lets finish after StopExecution) or returns without
// doing anything (the execution was stopped before the step ran). Later
// invocations run the real handler at once.
type hold struct {
	reached, release chan struct{}
	runAfterRelease  bool
	done             chan error // the held invocation's result
}

func holdStep(t *testing.T, s *localstack.Stack, function string, runAfterRelease bool) *hold {
	t.Helper()
	h := &hold{reached: make(chan struct{}), release: make(chan struct{}), runAfterRelease: runAfterRelease, done: make(chan error, 1)}
	first := true
	var held bool
	if err := s.InterceptTask(function, func(ctx context.Context, in json.RawMessage, next asl.TaskFunc) (json.RawMessage, error) {
		held, first = first, false
		if !held {
			return next(ctx, in)
		}
		close(h.reached)
		<-h.release
		if !h.runAfterRelease {
			h.done <- nil
			return nil, errors.New("interrupted before the step ran")
		}
		out, err := next(ctx, in)
		h.done <- err
		return out, err
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

// startInterruptible is startStack keeping the cleanup's rule on the bus
// unless dropCleanup (EventBridge failing to deliver).
func startInterruptible(t *testing.T, dropCleanup bool) *localstack.Stack {
	t.Helper()
	ctx := context.Background()
	s, err := localstack.Start(ctx, localstack.Options{Logf: t.Logf,
		StateMachineSleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, r := range s.Bus.Rules() {
		if dropCleanup || !strings.Contains(r, "CleanupFunction") {
			s.Bus.RemoveRule(r)
		}
	}
	if err := s.WaitSteady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	return s
}

func stopExecution(t *testing.T, s *localstack.Stack, arn string) {
	t.Helper()
	if _, err := s.Client("operator").SFN.StopExecution(context.Background(), &sfn.StopExecutionInput{
		ExecutionArn: aws.String(arn), Error: aws.String("OperatorStop"), Cause: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.SFN.Execution(arn); info.Status != "ABORTED" {
		t.Fatalf("execution %s after StopExecution, want ABORTED", info.Status)
	}
}

// assertOnePromotion checks the converged end state: node2 writable on
// timeline 2 (promoted exactly once), every route on node2, the record
// naming node2 with no lock and no pending handover.
func assertOnePromotion(t *testing.T, s *localstack.Stack) store.Record {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.Nodes["node2"].PG.DSN(localstack.DatabaseName, pgharness.Superuser))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var inRecovery bool
	var timeline int
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery(), (SELECT timeline_id FROM pg_control_checkpoint())").Scan(&inRecovery, &timeline); err != nil {
		t.Fatal(err)
	}
	if inRecovery || timeline != 2 {
		t.Errorf("node2: in recovery %t, timeline %d; want promoted once (timeline 2)", inRecovery, timeline)
	}
	for rt, target := range s.EC2.RouteTargets(localstack.OverlayCIDR) {
		if target != s.Nodes["node2"].ENI {
			t.Errorf("route table %s sends the overlay IP to %s, want node2's ENI", rt, target)
		}
	}
	rec := clusterRecord(t, s)
	if rec.Primary != "node2" || rec.Lock != nil || rec.PrimaryLease.HandoverPending() {
		t.Errorf("record: primary %s, lock %+v, lease %+v; want node2, no lock, no pending handover", rec.Primary, rec.Lock, rec.PrimaryLease)
	}
	return rec
}

// waitResume returns the execution the cleanup started to finish a
// handover.
func waitResume(t *testing.T, s *localstack.Stack) string {
	t.Helper()
	var resume string
	waitFor(t, 30*time.Second, "the cleanup to start the resume execution", func() bool {
		for _, x := range s.SFN.Executions(s.StateMachineARN) {
			if strings.HasPrefix(x.Name, "resume-") {
				resume = x.ARN
				return true
			}
		}
		return false
	})
	return resume
}

func outcomeOf(rec store.Record, execution string) string {
	for _, h := range rec.History {
		if h.Execution == execution || h.FirstExecution == execution {
			return h.Outcome
		}
	}
	return ""
}

// TestInterruptedFailoverConverges stops a failover at each hand-off point
// and checks that the cluster ends with exactly one promotion, clients on
// the new primary, the lock free and the history telling what happened.
func TestInterruptedFailoverConverges(t *testing.T) {
	t.Parallel()
	// Stopped after Fence, before Promote, and EventBridge never delivers
	// the status change: the next trigger takes the lock over at once
	// (Step Functions says its holder has ended) and fails over.
	t.Run("after fence, cleanup event lost", func(t *testing.T) {
		t.Parallel()
		s := startInterruptible(t, true)
		m := startDualMonitor(t, s)
		h := holdStep(t, s, "PromoteFunction", false)
		if err := s.Crash("node1"); err != nil {
			t.Fatal(err)
		}
		manual := readEvent(t, s, "manual-failover.json")
		first := startExecution(t, s, "interrupted", manual)
		<-h.reached
		stopExecution(t, s, first)
		close(h.release)
		if rec := clusterRecord(t, s); !rec.LockHeldBy(first) || rec.Primary != "node1" {
			t.Fatalf("after the stop: lock %+v primary %s; want the lock kept by the stopped execution, node1 recorded", rec.Lock, rec.Primary)
		}
		second := startExecution(t, s, "retry", manual)
		requireSucceeded(t, s, second)
		rec := assertOnePromotion(t, s)
		if got := outcomeOf(rec, first); got != store.OutcomeAborted {
			t.Errorf("history of the stopped execution: %q, want %q", got, store.OutcomeAborted)
		}
		reportFault(t, m, faultRow{Case: "execution stopped after Fence (cleanup event lost), new trigger", Expected: "converges to exactly one promotion",
			Observed: "retry took the lock over, SUCCEEDED; timeline 2"})
	})

	// Stopped after Promote (the standby is the recorded primary and
	// promoted), before Reroute: the new primary's heartbeats keep the
	// alarm quiet, so the cleanup itself starts the execution that
	// finishes the handover, which reroutes without promoting again.
	t.Run("after promote, resumed by the cleanup", func(t *testing.T) {
		t.Parallel()
		s := startInterruptible(t, false)
		m := startDualMonitor(t, s)
		h := holdStep(t, s, "RerouteFunction", false)
		if err := s.Crash("node1"); err != nil {
			t.Fatal(err)
		}
		first := startExecution(t, s, "interrupted", readEvent(t, s, "manual-failover.json"))
		<-h.reached
		stopExecution(t, s, first)
		close(h.release)
		resume := waitResume(t, s)
		out := requireSucceeded(t, s, resume)
		if out.Assessment == nil || out.Assessment.Decision != "resume" {
			t.Errorf("resume execution's assessment %+v, want decision resume", out.Assessment)
		}
		rec := assertOnePromotion(t, s)
		if got := outcomeOf(rec, first); got != store.OutcomeAborted {
			t.Errorf("history of the stopped execution: %q, want %q", got, store.OutcomeAborted)
		}
		if got := outcomeOf(rec, resume); got != store.OutcomeSucceeded {
			t.Errorf("history of the resume: %q, want %q", got, store.OutcomeSucceeded)
		}
		reportFault(t, m, faultRow{Case: "execution stopped after Promote", Expected: "cleanup resumes; reroutes without promoting again",
			Observed: "resume SUCCEEDED (decision resume); timeline 2"})
	})

	// Reroute fails for good after Promote (EC2 refuses the route change):
	// the execution ends FAILED with the handover pending, and the cleanup
	// resumes it once; the resume reroutes without a second promotion.
	t.Run("reroute failing after promote, resumed", func(t *testing.T) {
		t.Parallel()
		s := startInterruptible(t, false)
		m := startDualMonitor(t, s)
		s.Server.Faults().Add(localaws.Fault{Service: "ec2", Operation: "ReplaceRoute", AccessKeyID: "RerouteFunction", FailNext: 1,
			Error: localaws.Errorf(http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")})
		if err := s.Crash("node1"); err != nil {
			t.Fatal(err)
		}
		first := startExecution(t, s, "reroute-refused", readEvent(t, s, "manual-failover.json"))
		if status := waitExecution(t, s, first); status != "FAILED" {
			t.Fatalf("execution with a refused reroute: %s, want FAILED", status)
		}
		resume := waitResume(t, s)
		requireSucceeded(t, s, resume)
		rec := assertOnePromotion(t, s)
		if got := outcomeOf(rec, first); got != store.OutcomeFailed {
			t.Errorf("history of the failed execution: %q, want %q", got, store.OutcomeFailed)
		}
		// The notice names the step and where each target was left: the
		// Elastic IP and the DNS record moved, the route tables did not.
		n := waitNotice(t, s, 30*time.Second, "failover node1 -> node2 FAILED")
		for _, want := range []string{"step reroute", "per target: overlay-ip: ", "elastic-ip: ok", "dns: ok"} {
			if !strings.Contains(n.Message, want) {
				t.Errorf("the failure notice lacks %q:\n%s", want, n.Message)
			}
		}
		reportFault(t, m, faultRow{Case: "Reroute refused by EC2 after Promote", Expected: "FAILED; cleanup resumes once; one promotion",
			Observed: "FAILED; resume SUCCEEDED; timeline 2"})
	})

	// After a completed failover, the overlay route is put back on the
	// fenced node by hand: a failover request finds the recorded primary
	// writable and the clients routed away from it, and reroutes without
	// fencing or promoting anything.
	t.Run("clients routed away from a healthy primary", func(t *testing.T) {
		t.Parallel()
		s := startInterruptible(t, false)
		m := startDualMonitor(t, s)
		if err := s.Crash("node1"); err != nil {
			t.Fatal(err)
		}
		manual := readEvent(t, s, "manual-failover.json")
		requireSucceeded(t, s, startExecution(t, s, "failover", manual))
		ctx := context.Background()
		for rt := range s.EC2.RouteTargets(localstack.OverlayCIDR) {
			if _, err := s.Client("operator").EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(rt),
				DestinationCidrBlock: aws.String(localstack.OverlayCIDR), NetworkInterfaceId: aws.String(s.Nodes["node1"].ENI)}); err != nil {
				t.Fatal(err)
			}
		}
		stops := callsBy(s, "FenceFunction")
		out := requireSucceeded(t, s, startExecution(t, s, "repair", manual))
		if out.Assessment == nil || out.Assessment.Decision != "resume" || !strings.Contains(out.Assessment.Reason, "routed elsewhere") {
			t.Errorf("assessment %+v, want resume for clients routed away", out.Assessment)
		}
		if got := callsBy(s, "FenceFunction"); got != stops {
			t.Errorf("the repair called the fence %d times", got-stops)
		}
		assertOnePromotion(t, s)
		reportFault(t, m, faultRow{Case: "clients routed away from the healthy recorded primary (route edited by hand)",
			Expected: "reroute only: nothing fenced or promoted", Observed: "resume SUCCEEDED; route on node2; timeline 2; no fence call"})
	})

	// Stopped while Promote was about to run; AWS lets the running Lambda
	// finish after StopExecution. By then the cleanup has released the
	// lock, so the orphaned Promote's grant is refused (its epoch is
	// gone): nothing is promoted behind the state machine's back, and the
	// next trigger fails over once.
	t.Run("promote finishing after the stop", func(t *testing.T) {
		t.Parallel()
		s := startInterruptible(t, false)
		m := startDualMonitor(t, s)
		h := holdStep(t, s, "PromoteFunction", true)
		if err := s.Crash("node1"); err != nil {
			t.Fatal(err)
		}
		manual := readEvent(t, s, "manual-failover.json")
		first := startExecution(t, s, "interrupted", manual)
		<-h.reached
		stopExecution(t, s, first)
		waitFor(t, 30*time.Second, "the cleanup to release the lock", func() bool { return clusterRecord(t, s).Lock == nil })
		close(h.release)
		if err := <-h.done; err == nil || !strings.Contains(err.Error(), "lock") {
			t.Errorf("the orphaned Promote: %v, want refused for the lost lock", err)
		}
		if !standbyInRecovery(t, s) {
			t.Fatal("the orphaned Promote promoted node2")
		}
		second := startExecution(t, s, "retry", manual)
		requireSucceeded(t, s, second)
		assertOnePromotion(t, s)
		reportFault(t, m, faultRow{Case: "execution stopped while Promote runs (Lambda finishes after the stop)", Expected: "orphaned grant refused; retry promotes once",
			Observed: "orphaned Promote refused (lock lost); retry SUCCEEDED; timeline 2"})
	})
}
