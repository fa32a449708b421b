package localstack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/store"
)

// TestMaintenanceModeHoldsAutomaticFailover: with the cluster paused, the
// primary's crash is detected (the alarms fire and their executions are
// recorded as "maintenance mode"), but nothing is fenced or promoted and
// the standby's fast path starts nothing. Resuming lets the automatic
// triggers fail over again.
func TestMaintenanceModeHoldsAutomaticFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startFaultStack(t, localstack.Options{FastPath: true}, allRules)
	records := store.New(s.Client("operator").DynamoDB, s.Config.Table)
	if _, err := records.SetPause(ctx, s.Config.Name, store.Pause{By: "test", Reason: "kernel update", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	dsn2 := s.Nodes["node2"].PG.DSN(localstack.DatabaseName, pgharness.Superuser)
	acknowledged := func() bool {
		for _, e := range s.SFN.Executions(s.StateMachineARN) {
			if strings.HasPrefix(e.Name, "fastpath-") {
				t.Fatalf("the fast path started %s during maintenance mode", e.Name)
			}
		}
		rec := clusterRecord(t, s)
		for _, h := range rec.History {
			if h.Outcome == store.OutcomeNotNeeded && strings.Contains(h.Reason, "maintenance mode") {
				return true
			}
		}
		return false
	}
	waitFor(t, 90*time.Second, "an alarm-triggered execution recorded as held by maintenance mode", func() bool {
		if in, err := inRecovery(dsn2); err == nil && !in {
			t.Fatal("node2 was promoted during maintenance mode")
		}
		if rec := clusterRecord(t, s); rec.PrimaryLease.Revoked() {
			t.Fatal("node1's lease was revoked during maintenance mode")
		}
		return acknowledged()
	})
	if _, err := records.ClearPause(ctx, s.Config.Name, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the failover after resume", func() bool {
		rec := clusterRecord(t, s)
		in, err := inRecovery(dsn2)
		return rec.Primary == "node2" && err == nil && !in
	})
	if n := s.Nodes["node1"]; n.PG.Running() {
		t.Error("node1's PostgreSQL runs after the failover")
	}
	// The operator heard of each step: the pause, the trigger it held,
	// the resume, the failover and the redundancy it cost.
	waitNotice(t, s, 30*time.Second, "maintenance mode on")
	if held := waitNotice(t, s, 30*time.Second, "no failover needed"); !strings.Contains(held.Message, "maintenance mode") {
		t.Errorf("the held trigger's notice does not say why:\n%s", held.Message)
	}
	waitNotice(t, s, 30*time.Second, "maintenance mode off")
	waitNotice(t, s, 30*time.Second, "failover node1 -> node2 SUCCEEDED")
	waitNotice(t, s, 30*time.Second, "lost redundancy: standby node1")
	assertCallsAllowed(t, s)
}
