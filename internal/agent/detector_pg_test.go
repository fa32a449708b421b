package agent_test

import (
	"testing"
	"time"
)

// The standby's detector publishes PrimaryUnreachableSeconds (the
// reachability alarm's metric) even with the fast path off: nothing while
// WAL streams (a healthy cluster pays for no such metric), then, once the
// primary refuses its probes, how long it has: 0 first, then growing with
// the time since that first failed check. The primary publishes none, and
// a standby without a way to start executions starts none.
func TestStandbyPublishesPrimaryReachability(t *testing.T) {
	t.Parallel()
	tc := startCluster(t, clusterOptions{async: true})
	tc.steady()
	// The detector has run for as long as the record has named a primary
	// with node2 streaming (steady); give it a few more loops.
	loops := tc.agent("node2").Snapshot().Loops
	tc.waitFor("node2 to loop five more times", 10*time.Second, func() bool { return tc.agent("node2").Snapshot().Loops >= loops+5 })
	if got := tc.reachability("node2"); len(got) > 0 {
		t.Fatalf("node2 published PrimaryUnreachableSeconds %v while node1 was up", got)
	}
	tc.stopAgent("node1")
	before := len(tc.reachability("node2"))
	if err := tc.pair.Primary.Kill(); err != nil {
		t.Fatal(err)
	}
	died := time.Now()
	tc.waitFor("node2 to publish that node1 has been unreachable for 2 s", 15*time.Second, func() bool {
		got := tc.reachability("node2")[before:]
		return len(got) > 0 && got[len(got)-1] >= 2
	})
	got := tc.reachability("node2")[before:]
	if got[0] != 0 {
		t.Errorf("the episode's first value is %v, want 0: %v", got[0], got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Errorf("unreachable seconds went down within the episode: %v", got)
		}
	}
	if last := got[len(got)-1]; last > time.Since(died).Seconds() {
		t.Errorf("unreachable for %v s, longer than since node1 was killed (%s)", last, time.Since(died))
	}
	if got := tc.reachability("node1"); len(got) > 0 {
		t.Errorf("the primary published PrimaryUnreachableSeconds: %v", got)
	}
	if n := tc.agent("node2").Snapshot().FastPathTriggers; n != 0 {
		t.Errorf("node2 started %d failovers with the fast path off", n)
	}
}
