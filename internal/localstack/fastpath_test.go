package localstack_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/store"
)

// startFastPath starts a stack whose standby agent starts failovers
// itself; the heartbeat alarm's rule is removed so that every execution is
// the fast path's.
func startFastPath(t *testing.T) *localstack.Stack {
	t.Helper()
	ctx := context.Background()
	s, err := localstack.Start(ctx, localstack.Options{Logf: t.Logf, FastPath: true,
		StateMachineSleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, r := range s.Bus.Rules() {
		if !strings.Contains(r, "CleanupFunction") {
			s.Bus.RemoveRule(r)
		}
	}
	if err := s.WaitSteady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	return s
}

func fastPathExecutions(s *localstack.Stack) []string {
	var out []string
	for _, x := range s.SFN.Executions(s.StateMachineARN) {
		if strings.HasPrefix(x.Name, "fastpath-") {
			out = append(out, x.ARN)
		}
	}
	return out
}

// The primary's PostgreSQL and agent die: the standby's agent sees its WAL
// stream broken and the primary refusing connections, and starts the
// failover with its "Primary Lost" event; a restarted standby agent that
// reports the same incident again starts nothing more. No acknowledged
// write is lost.
func TestFastPathFailsOverWhenThePrimaryDies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startFastPath(t)
	if err := s.PrepareWriterTable(ctx); err != nil {
		t.Fatal(err)
	}
	// Hold the first execution at its lock, so that the incident is still
	// open when the restarted agent reports it.
	reached, release := make(chan struct{}), make(chan struct{})
	first := true
	if err := s.InterceptTask("LeaseFunction", func(ctx context.Context, in json.RawMessage, next asl.TaskFunc) (json.RawMessage, error) {
		if first {
			first = false
			close(reached)
			<-release
		}
		return next(ctx, in)
	}); err != nil {
		t.Fatal(err)
	}
	m := startDualMonitor(t, s)
	w := s.StartWriter(s.ClientOverlay.Addr(), 20*time.Millisecond)
	waitFor(t, 30*time.Second, "writes through the overlay IP", func() bool { return len(w.Stats().Acked) >= 20 })
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	<-reached
	if err := s.RestartAgent("node2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the restarted agent to report the same incident", func() bool {
		a := s.Nodes["node2"].Agent()
		return a != nil && a.Snapshot().FastPathTriggers == 1
	})
	close(release)
	execs := fastPathExecutions(s)
	if len(execs) != 1 {
		t.Fatalf("%d fast-path executions for one incident, want 1", len(execs))
	}
	out := requireSucceeded(t, s, execs[0])
	if out.Assessment == nil || out.Assessment.Decision != "proceed" {
		t.Fatalf("assessment %+v, want proceed", out.Assessment)
	}
	waitFor(t, 30*time.Second, "writes to resume through the overlay IP", func() bool {
		return !w.Stats().Recovery.IsZero()
	})
	stats := w.Stop()
	missing, err := s.MissingOn(ctx, "node2", stats.Acked)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 0 {
		t.Errorf("%d of %d acknowledged writes missing on node2: %v", len(missing), len(stats.Acked), missing)
	}
	if n := len(s.SFN.Executions(s.StateMachineARN)); n != 1 {
		t.Errorf("%d executions in all, want 1", n)
	}
	assertOnePromotion(t, s)
	acked, lost := len(stats.Acked), len(missing)
	reportFault(t, m, faultRow{Case: "node lost (crash), fast path; the restarted standby agent reports it again",
		Expected: "one execution per incident; one promotion; no loss", Observed: "1 execution SUCCEEDED; node2 primary, timeline 2",
		Acked: &acked, Lost: &lost})
}

// A standby whose own network is cut (it hears no WAL and cannot reach its
// primary) reports the primary lost, but the state machine's direct probe
// finds the primary writable: nothing is fenced or promoted.
func TestFastPathFalseDetectionNeverPromotes(t *testing.T) {
	t.Parallel()
	s := startFastPath(t)
	m := startDualMonitor(t, s)
	s.Nodes["node2"].CutNodeNetwork(true)
	s.Replication.Cut(dataplane.Drop)
	waitFor(t, 60*time.Second, "the standby's detector to report the primary lost", func() bool {
		return len(fastPathExecutions(s)) > 0
	})
	execs := fastPathExecutions(s)
	out := requireSucceeded(t, s, execs[0])
	if out.Assessment == nil || out.Assessment.Decision != "no-failover-needed" {
		t.Fatalf("assessment %+v, want no-failover-needed", out.Assessment)
	}
	if !standbyInRecovery(t, s) {
		t.Fatal("node2 was promoted on a false detection")
	}
	for _, c := range s.Server.Calls() {
		if c.Service == "ec2" && (c.Operation == "StopInstances" || c.Operation == "ReplaceRoute") {
			t.Errorf("%s called %s on a false detection", c.AccessKeyID, c.Operation)
		}
	}
	rec := clusterRecord(t, s)
	if rec.Primary != "node1" || rec.PrimaryLease.Revoked() {
		t.Errorf("record after a false detection: primary %s lease %+v; want node1 unrevoked", rec.Primary, rec.PrimaryLease)
	}
	if got := outcomeOf(rec, execs[0]); got != store.OutcomeNotNeeded {
		t.Errorf("history of the false detection: %q, want %q", got, store.OutcomeNotNeeded)
	}
	reportFault(t, m, faultRow{Case: "standby's own network cut: false fast-path detection",
		Expected: "no-failover-needed; nothing fenced or promoted", Observed: "SUCCEEDED no-failover-needed; node1 primary, lease unrevoked"})
}
