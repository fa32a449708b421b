package localstack_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localstack"
)

// TestWatchdogStopsPrimaryWhoseAgentDied breaks invariant 1 from the node's
// side: the agent of the writable primary is killed (its loop ends, the
// emulated /dev/watchdog stays armed, as a crashed process leaves the real
// device) while its PostgreSQL keeps running. Nothing renews the lease any
// more and nothing would stop PostgreSQL when it expires: the watchdog must
// take PostgreSQL down before the lease the agent last renewed expires,
// i.e. before any failover could promote the standby (the earliest
// promotion is that expiry plus the clock margin).
func TestWatchdogStopsPrimaryWhoseAgentDied(t *testing.T) {
	t.Parallel()
	s := startStack(t, localstack.Options{})
	m := startDualMonitor(t, s)
	node1 := s.Nodes["node1"]
	if n := node1.Watchdog.Fired(); n != 0 {
		t.Fatalf("watchdog fired %d times before the test", n)
	}
	if !node1.PG.Running() {
		t.Fatal("node1 is not running")
	}
	node1.StopAgent() // returns once the loop has ended: no renewal after this
	killedAt := time.Now()
	rec := clusterRecord(t, s)
	lease := rec.PrimaryLease
	if rec.Primary != "node1" || lease == nil || lease.Node != "node1" || lease.Revoked() {
		t.Fatalf("record: primary %s, lease %+v; want node1 holding a valid lease", rec.Primary, lease)
	}
	earliestPromotion := s.Config.EarliestPromotion(lease.Expires)
	t.Logf("agent killed at %s; lease renewed %s, expires %s; earliest promotion %s; watchdog timeout %s",
		killedAt.Format(time.RFC3339Nano), lease.Renewed.Format(time.RFC3339Nano), lease.Expires.Format(time.RFC3339Nano),
		earliestPromotion.Format(time.RFC3339Nano), s.Config.WatchdogTimeout())

	deadline := lease.Expires.Add(10 * time.Second)
	for node1.PG.Running() {
		if time.Now().After(deadline) {
			t.Fatalf("node1's PostgreSQL still runs 10 s after its lease expired at %s (watchdog fired %d times)",
				lease.Expires.Format(time.RFC3339Nano), node1.Watchdog.Fired())
		}
		time.Sleep(10 * time.Millisecond)
	}
	downAt := time.Now() // no earlier than the kill
	t.Logf("node1's PostgreSQL down %s after the agent died, %s before its lease expired",
		downAt.Sub(killedAt).Round(time.Millisecond), lease.Expires.Sub(downAt).Round(time.Millisecond))
	if !downAt.Before(lease.Expires) {
		t.Errorf("node1's PostgreSQL went down at %s, not before its lease expired at %s", downAt.Format(time.RFC3339Nano), lease.Expires.Format(time.RFC3339Nano))
	}
	if !downAt.Before(earliestPromotion) {
		t.Errorf("node1's PostgreSQL went down at %s, after the standby could have been promoted (%s)", downAt.Format(time.RFC3339Nano), earliestPromotion.Format(time.RFC3339Nano))
	}
	if n := node1.Watchdog.Fired(); n != 1 {
		t.Errorf("watchdog fired %d times, want 1", n)
	}
	if !standbyInRecovery(t, s) {
		t.Error("node2 left recovery: nothing here may promote it")
	}
	reportFault(t, m, faultRow{Case: "primary's agent dies (PostgreSQL keeps running)", Expected: "watchdog stops PostgreSQL before the lease expires",
		Observed: fmt.Sprintf("down %s before lease expiry; watchdog fired %d", lease.Expires.Sub(downAt).Round(100*time.Millisecond), node1.Watchdog.Fired())})
}
