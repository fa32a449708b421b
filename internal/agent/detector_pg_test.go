package agent_test

import (
	"slices"
	"testing"
	"time"
)

// The standby's detector publishes PrimaryReachable (the reachability
// alarm's metric) even with the fast path off: 1 while WAL streams, 0
// once the primary refuses its probes. The primary publishes none, and a
// standby without a way to start executions starts none.
func TestStandbyPublishesPrimaryReachability(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true})
	tc.steady()
	tc.waitFor("node2 to publish PrimaryReachable 1 while it streams", 10*time.Second, func() bool {
		return slices.Contains(tc.reachability("node2"), 1)
	})
	if got := tc.reachability("node2"); slices.Contains(got, 0) {
		t.Fatalf("node2 published 0 while node1 was up: %v", got)
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
