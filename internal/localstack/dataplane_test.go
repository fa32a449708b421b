package localstack_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
)

// TestOverlayRouteMovesRealTraffic is the local stack's data plane on its
// own: a client writes through the overlay-IP forwarder, the standby is
// promoted by hand, the emulated route tables are rewritten with the real
// SDK's ReplaceRoute, and the next connection lands on the new primary.
func TestOverlayRouteMovesRealTraffic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := localstack.Start(ctx, localstack.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range s.Bus.Rules() { // this test moves the route itself
		s.Bus.RemoveRule(r)
	}
	if err := s.PrepareWriterTable(ctx); err != nil {
		t.Fatal(err)
	}
	clientDSN := "host=127.0.0.1 dbname=" + localstack.DatabaseName + " user=app password=app-password sslmode=disable connect_timeout=2 port="
	_, port, _ := splitHostPort(s.ClientOverlay.Addr())
	serverPort := func() int {
		t.Helper()
		conn, err := pgx.Connect(ctx, clientDSN+port)
		if err != nil {
			t.Fatalf("connecting through the overlay IP: %v", err)
		}
		defer conn.Close(ctx)
		var p int
		var inRecovery bool
		if err := conn.QueryRow(ctx, "SELECT current_setting('port')::int, pg_is_in_recovery()").Scan(&p, &inRecovery); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO "+localstack.WriterTable+" (id) VALUES ($1)", time.Now().UnixNano()); err != nil {
			t.Fatalf("write through the overlay IP on port %d: %v", p, err)
		}
		return p
	}
	if got := serverPort(); got != s.Nodes["node1"].PG.Port {
		t.Fatalf("the overlay IP reaches port %d, want node1 (%d)", got, s.Nodes["node1"].PG.Port)
	}

	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	// Promoted by hand, node2 is writable while the record names node1:
	// its own agent would rightly fence it. Stop the agent first (a
	// standby's watchdog is disarmed, so nothing else takes it down).
	s.Nodes["node2"].StopAgent()
	conn, err := pgx.Connect(ctx, s.Nodes["node2"].PG.DSN(localstack.DatabaseName, pgharness.Superuser))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_promote(true, 60)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	c := s.Client("operator")
	for rt := range s.EC2.RouteTargets(localstack.OverlayCIDR) {
		if _, err := c.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(rt),
			DestinationCidrBlock: aws.String(localstack.OverlayCIDR), NetworkInterfaceId: aws.String(s.Nodes["node2"].ENI)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := serverPort(); got != s.Nodes["node2"].PG.Port {
		t.Fatalf("after ReplaceRoute the overlay IP reaches port %d, want node2 (%d)", got, s.Nodes["node2"].PG.Port)
	}
}

func splitHostPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }
