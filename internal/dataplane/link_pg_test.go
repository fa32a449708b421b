package dataplane

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/pgharness"
)

// walReceiver is the standby's pg_stat_wal_receiver row (ok=false: no row).
type walReceiver struct {
	ok         bool
	pid        int
	status     string
	senderPort int
}

func readWalReceiver(ctx context.Context, conn *pgx.Conn) (walReceiver, error) {
	var w walReceiver
	var port *int
	err := conn.QueryRow(ctx, `SELECT pid, status, sender_port FROM pg_stat_wal_receiver`).Scan(&w.pid, &w.status, &port)
	if err == pgx.ErrNoRows {
		return walReceiver{}, nil
	}
	if err != nil {
		return walReceiver{}, err
	}
	w.ok = true
	if port != nil {
		w.senderPort = *port
	}
	return w, nil
}

func TestLinkInReplicationPath(t *testing.T) {
	logger, _ := testLogger(t)
	var link *Link
	p := pgharness.StartPairT(t, pgharness.PairOptions{
		ReplicationAddr: func(primary *pgharness.Node) string {
			l, err := NewLink("replication", primary.Addr(), WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			link = l
			return l.Addr()
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := p.Options
	if s := link.Stats(); s.Accepted < 1 || s.Open < 1 {
		t.Fatalf("replication does not go through the link: %+v", s)
	}

	primary, err := p.Primary.Connect(ctx, o.Database, o.AppUser)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close(ctx)
	standby, err := p.Standby.Connect(ctx, o.Database, pgharness.Superuser)
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Close(ctx)
	if _, err := primary.Exec(ctx, `CREATE TABLE marks (label text)`); err != nil {
		t.Fatal(err)
	}

	rowsOnStandby := func(label string) (int, error) {
		var n int
		err := standby.QueryRow(ctx, `SELECT count(*) FROM marks WHERE label = $1`, label).Scan(&n)
		return n, err
	}
	waitRow := func(label string) {
		t.Helper()
		poll(t, ctx, "row "+label+" on standby", func() (bool, error) {
			n, err := rowsOnStandby(label)
			return n == 1, err
		})
	}
	streamingHealthy := func() {
		t.Helper()
		if err := p.Primary.WaitStreaming(ctx, p.Standby.Name, false); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "wal receiver streaming through the link", func() (bool, error) {
			w, err := readWalReceiver(ctx, standby)
			return w.ok && w.status == "streaming" && w.senderPort == linkPort(t, link), err
		})
	}
	cutAndHeal := func(mode CutMode, label string, whileCut func()) {
		t.Helper()
		before, err := readWalReceiver(ctx, standby)
		if err != nil || !before.ok {
			t.Fatalf("no wal receiver before the cut: %+v, %v", before, err)
		}
		link.Cut(mode)
		// Both ends lose each other: the primary's walsender goes away and
		// the standby's wal receiver dies (restarted ones cannot get through).
		if err := p.Primary.WaitStandbyGone(ctx, p.Standby.Name); err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		poll(t, ctx, "wal receiver "+itoa(before.pid)+" gone", func() (bool, error) {
			w, err := readWalReceiver(ctx, standby)
			return !w.ok || w.pid != before.pid, err
		})
		if _, err := primary.Exec(ctx, `INSERT INTO marks VALUES ($1)`, label); err != nil {
			t.Fatal(err)
		}
		// The standby cannot have the row: its only path to the primary is cut.
		if n, err := rowsOnStandby(label); err != nil || n != 0 {
			t.Fatalf("%v: row %s reached the standby through a cut link (%d, %v)", mode, label, n, err)
		}
		whileCut()
		link.Heal()
		streamingHealthy()
		waitRow(label)
	}

	streamingHealthy()
	if _, err := primary.Exec(ctx, `INSERT INTO marks VALUES ('initial')`); err != nil {
		t.Fatal(err)
	}
	waitRow("initial")

	t.Run("refuse", func(t *testing.T) {
		refusedBefore := link.Stats().Refused
		cutAndHeal(Refuse, "after-refuse", func() {
			// The standby keeps retrying (wal_retrieve_retry_interval) and
			// the link keeps refusing.
			poll(t, ctx, "a refused reconnection attempt", func() (bool, error) {
				return link.Stats().Refused > refusedBefore, nil
			})
		})
	})

	t.Run("drop", func(t *testing.T) {
		// Nothing is reset: both ends notice only through
		// wal_sender_timeout / wal_receiver_timeout (5s in the harness).
		cutAndHeal(Drop, "after-drop", func() {})
	})
}

func linkPort(t *testing.T, l *Link) int {
	t.Helper()
	_, port, err := splitHostPortInt(l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// poll checks cond every 100ms until it holds or ctx ends.
func poll(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	var lastErr error
	for {
		ok, err := cond()
		if ok && err == nil {
			return
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s (last error: %v)", what, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
