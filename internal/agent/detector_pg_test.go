package agent_test

import (
	"slices"
	"testing"
	"time"
)

// The standby's detector publishes PrimaryReachable (the reachability
// alarm's metric) even with the fast path off: nothing while WAL streams
// (a healthy cluster pays for no such metric), 0 once the primary refuses
// its probes. The primary publishes none, and a standby without a way to
// start executions starts none.
func TestStandbyPublishesPrimaryReachability(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true})
	tc.steady()
	// The detector has run for as long as the record has named a primary
	// with node2 streaming (steady); give it a few more loops.
	loops := tc.agent("node2").Snapshot().Loops
	tc.waitFor("node2 to loop five more times", 10*time.Second, func() bool { return tc.agent("node2").Snapshot().Loops >= loops+5 })
	if got := tc.reachability("node2"); len(got) > 0 {
		t.Fatalf("node2 published PrimaryReachable %v while node1 was up", got)
	}
	tc.stopAgent("node1")
	before := len(tc.reachability("node2"))
	if err := tc.pair.Primary.Kill(); err != nil {
		t.Fatal(err)
	}
	tc.waitFor("node2 to publish PrimaryReachable 0 after node1 died", 10*time.Second, func() bool {
		return slices.Contains(tc.reachability("node2")[before:], 0)
	})
	if got := tc.reachability("node1"); len(got) > 0 {
		t.Errorf("the primary published PrimaryReachable: %v", got)
	}
	if n := tc.agent("node2").Snapshot().FastPathTriggers; n != 0 {
		t.Errorf("node2 started %d failovers with the fast path off", n)
	}
}
