package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
)

// A failover that granted node2 the primary role and ended before its
// pg_promote (stopped, timed out) leaves node2 the recorded primary in
// recovery: node2's agent promotes it, because the grant is only ever
// given once the old primary is fenced.
func TestGrantedStandbyPromotesItself(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true})
	tc.steady()
	ctx := context.Background()
	conn := tc.connect("node2")
	grantNode2(t, tc)
	// The execution is gone: nobody calls pg_promote but the agent.
	tc.waitFor("node2's agent to promote it", 10*time.Second, func() bool {
		var inRecovery bool
		err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery)
		return err == nil && !inRecovery
	})
	tc.waitFor("node2's agent to count its promotion", 5*time.Second, func() bool {
		return tc.agent("node2").Snapshot().Promotions > 0
	})
	if n := tc.agent("node2").Snapshot().Promotions; n != 1 {
		t.Errorf("node2's agent promoted %d times, want 1", n)
	}
	rec, err := tc.records.Get(ctx, tc.cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Primary != "node2" || !rec.PrimaryLease.HandoverPending() {
		t.Errorf("record after the agent's promotion: primary %s lease %+v; want node2 with the handover still to be recorded by a failover", rec.Primary, rec.PrimaryLease)
	}
	tc.waitFor("node2's agent to renew its lease as primary", 5*time.Second, func() bool {
		r, err := tc.records.Get(ctx, tc.cfg.Name)
		return err == nil && r.PrimaryLease.Node == "node2" && r.PrimaryLease.Renewed.After(rec.PrimaryLease.Renewed)
	})
}

// grantNode2 takes a failover's steps up to the grant, as the state
// machine does: lock (execution "exec-1"), revoke node1's lease, wait for
// node1's agent to stop its PostgreSQL, record the hard fence, and grant
// node2 the primary role.
func grantNode2(t *testing.T, tc *testCluster) {
	t.Helper()
	ctx := context.Background()
	lock, err := tc.records.AcquireLock(ctx, tc.cfg.Name, "exec-1", time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.records.RevokePrimaryLease(ctx, tc.cfg.Name, "exec-1", lock.Epoch, time.Now()); err != nil {
		t.Fatal(err)
	}
	tc.waitFor("node1's agent to fence its PostgreSQL after the revocation", 10*time.Second, func() bool { return !tc.pair.Primary.Running() })
	if _, err := tc.records.MarkHardFenced(ctx, tc.cfg.Name, "exec-1", lock.Epoch); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.records.GrantPrimary(ctx, tc.cfg.Name, store.Grant{Holder: "exec-1", Epoch: lock.Epoch, NewPrimary: "node2",
		Now: time.Now(), Duration: tc.cfg.LeaseDuration(), ClockMargin: tc.cfg.ClockMargin()}); err != nil {
		t.Fatal(err)
	}
}
