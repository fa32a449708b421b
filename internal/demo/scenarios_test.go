package demo

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localstack"
)

// Every client-routing scenario at once, with real traffic: a client
// writes through the overlay IP, one through the Elastic IP and one
// through the DNS name (its resolver caching the answer for the record's
// TTL) while the primary crashes.
func TestEveryScenarioAtOnce(t *testing.T) {
	t.Parallel()
	failOverThrough(t, ScenarioAll)
}

// Each client-routing scenario alone, as a deployment that uses only that
// address: the cluster routes that target only, one client writes through
// it while the primary crashes, and the other targets are left as they
// were.
func TestEachScenarioAlone(t *testing.T) {
	t.Parallel()
	// One stack at a time: the localstack package's tests start stacks
	// beside this package in make test, and every stack started at once
	// slows the start-up of all of them.
	for _, sc := range localstack.Scenarios {
		t.Run(sc, func(t *testing.T) { failOverThrough(t, sc) })
	}
}

// failOverThrough runs the demo's crash failover with one client through
// each address of scenario, the cluster routing those addresses only, and
// checks: each of their targets, read back through the emulator's API,
// points at node2 and the other targets still at node1, untouched; a new
// connection through each address reaches node2 and commits a write; each
// client had writes acknowledged, before and after the crash, and lost
// none; and the DNS client's outage ends within the record's TTL after
// the record switched.
func failOverThrough(t *testing.T, scenario string) {
	names, err := scenarios(scenario)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ttl time.Duration
	res, err := Run(ctx, Options{Scenario: scenario, ScenarioOnly: true, After: func(s *localstack.Stack) {
		if dns := s.Config.Routing.DNS; len(dns) > 0 {
			ttl = time.Duration(dns[0].TTL) * time.Second
		}
		checkTargets(ctx, t, s, names)
		checkNextConnections(ctx, t, s, names)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Clients) != len(names) {
		t.Fatalf("%d clients, want %d", len(res.Clients), len(names))
	}
	for i, c := range res.Clients {
		t.Logf("%-10s %-40s routed %+.3fs, first write %+.3fs, %d acknowledged, %d lost",
			c.Scenario, c.Label, c.RoutedAt.Sub(res.Crash).Seconds(), c.FirstWriteAt.Sub(res.Crash).Seconds(), c.Acked, len(c.Missing))
		if c.Scenario != names[i] {
			t.Errorf("client %d wrote through %s, want %s", i, c.Scenario, names[i])
		}
		if len(c.Missing) > 0 || c.Acked == 0 || !c.FirstWriteAt.After(res.Crash) {
			t.Errorf("%s: %d acknowledged (first after the crash at %+.3fs), %d lost", c.Scenario, c.Acked,
				c.FirstWriteAt.Sub(res.Crash).Seconds(), len(c.Missing))
		}
		if c.Scenario == localstack.ScenarioRoute53 && (ttl == 0 || c.FirstWriteAt.Sub(c.RoutedAt) > ttl+2*time.Second) {
			t.Errorf("DNS client: first write %s after the record switched, more than the TTL %s", c.FirstWriteAt.Sub(c.RoutedAt), ttl)
		}
	}
}
