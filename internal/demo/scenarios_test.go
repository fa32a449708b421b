package demo

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/localstack"
)

// Every client-routing scenario at once, with real traffic: a client
// writes through the overlay IP, one through the Elastic IP and one
// through the DNS name (its resolver caching the answer for the record's
// TTL) while the primary crashes. Each target ends on the new primary,
// each client's next connection reaches it, no acknowledged write is
// lost, and the DNS client's outage is bounded by the switch plus the TTL.
func TestEveryScenarioAtOnce(t *testing.T) {
	ctx := context.Background()
	var ttl time.Duration
	res, err := Run(ctx, Options{Scenario: ScenarioAll, After: func(s *localstack.Stack) {
		ttl = time.Duration(s.Config.Routing.DNS[0].TTL) * time.Second
		node2 := s.Nodes["node2"].PG.Addr()
		for _, sc := range localstack.Scenarios {
			path, err := s.ClientPath(sc)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := path.Routed(); err != nil || n != "node2" {
				t.Errorf("%s points at %q (%v), want node2", path.Label, n, err)
			}
			conn, err := pgx.Connect(ctx, s.ClientDSN(path.Forwarder.Addr()))
			if err != nil {
				t.Errorf("a new connection through the %s: %v", path.Label, err)
				continue
			}
			var port string
			var inRecovery bool
			err = conn.QueryRow(ctx, "SELECT current_setting('port'), pg_is_in_recovery()").Scan(&port, &inRecovery)
			conn.Close(ctx)
			if err != nil || inRecovery || "127.0.0.1:"+port != node2 {
				t.Errorf("through the %s: port %s in recovery %v (%v); want node2 (%s), writable", path.Label, port, inRecovery, err, node2)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Clients) != len(localstack.Scenarios) {
		t.Fatalf("%d clients, want %d", len(res.Clients), len(localstack.Scenarios))
	}
	for _, c := range res.Clients {
		t.Logf("%-10s %-40s routed %+.3fs, first write %+.3fs, %d acknowledged, %d lost",
			c.Scenario, c.Label, c.RoutedAt.Sub(res.Crash).Seconds(), c.FirstWriteAt.Sub(res.Crash).Seconds(), c.Acked, len(c.Missing))
		if len(c.Missing) > 0 || c.Acked == 0 {
			t.Errorf("%s: %d acknowledged, %d lost", c.Scenario, c.Acked, len(c.Missing))
		}
		if c.Scenario == localstack.ScenarioRoute53 && c.FirstWriteAt.Sub(c.RoutedAt) > ttl+2*time.Second {
			t.Errorf("DNS client: first write %s after the record switched, more than the TTL %s", c.FirstWriteAt.Sub(c.RoutedAt), ttl)
		}
	}
}
