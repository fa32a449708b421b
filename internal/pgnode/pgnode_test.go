package pgnode

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/pgharness"
)

// pollUntil retries cond until it holds or the deadline passes.
func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok && err == nil {
			return
		}
		lastErr = err
		<-time.After(20 * time.Millisecond)
	}
	t.Fatalf("%s: not reached within %s (last error: %v)", what, timeout, lastErr)
}

func connect(t *testing.T, n *pgharness.Node, db, user string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Connect(ctx, n.DSN(db, user), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestConnectTimeout(t *testing.T) {
	// A listener that accepts but never answers the startup message.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	host, port, _ := net.SplitHostPort(l.Addr().String())
	start := time.Now()
	_, err = Connect(context.Background(), "host="+host+" port="+port+" user=x sslmode=disable", 300*time.Millisecond)
	if err == nil {
		t.Fatal("connected to a server that never answers")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Connect took %s with a 300ms timeout", took)
	}
	if _, err := Connect(context.Background(), "postgres://%zz", time.Second); err == nil {
		t.Fatal("malformed DSN accepted")
	}
}

// TestPairLifecycle walks a real primary/standby pair through status
// reads, a graceful demotion, a promotion that does not finish in time,
// one that does, and an abandoned switchover.
func TestPairLifecycle(t *testing.T) {
	p := pgharness.StartPairT(t, pgharness.PairOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := p.Options.Database
	prim := connect(t, p.Primary, db, pgharness.Superuser)
	stby := connect(t, p.Standby, db, pgharness.Superuser)
	if _, err := prim.Exec(ctx, "CREATE TABLE t (v int); GRANT ALL ON t TO "+p.Options.AppUser); err != nil {
		t.Fatal(err)
	}

	t.Run("primary status", func(t *testing.T) {
		before, err := GetStatus(ctx, prim)
		if err != nil {
			t.Fatal(err)
		}
		if before.Role() != RolePrimary || before.InRecovery || before.Timeline != 1 || before.ReadOnly {
			t.Fatalf("primary status %+v: want primary, timeline 1, writable", before)
		}
		if before.ServerVersionNum < 130000 || before.ServerVersion == "" {
			t.Fatalf("server version %d %q", before.ServerVersionNum, before.ServerVersion)
		}
		if before.WALReceiver != nil || before.ReplayLagBytes() != 0 {
			t.Fatalf("primary has WAL receiver %+v / replay lag %d", before.WALReceiver, before.ReplayLagBytes())
		}
		if len(before.Replication) != 1 {
			t.Fatalf("replication rows %+v, want the one standby", before.Replication)
		}
		r := before.Replication[0]
		if r.ApplicationName != p.Standby.Name || r.State != "streaming" || r.SyncState != "async" ||
			r.ClientAddr != "127.0.0.1" || !r.SentLSN.IsValid() || r.SentLSN > before.CurrentLSN {
			t.Fatalf("replica row %+v (current %v)", r, before.CurrentLSN)
		}
		if _, err := prim.Exec(ctx, "INSERT INTO t SELECT generate_series(1, 1000)"); err != nil {
			t.Fatal(err)
		}
		after, err := CurrentLSN(ctx, prim)
		if err != nil {
			t.Fatal(err)
		}
		var serverDiff int64
		if err := prim.QueryRow(ctx, "SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)::bigint",
			after.String(), before.CurrentLSN.String()).Scan(&serverDiff); err != nil {
			t.Fatal(err)
		}
		if d := after.Sub(before.CurrentLSN); d <= 0 || d != serverDiff {
			t.Fatalf("LSN.Sub = %d, pg_wal_lsn_diff = %d", d, serverDiff)
		}
	})

	t.Run("standby status", func(t *testing.T) {
		target, err := CurrentLSN(ctx, prim)
		if err != nil {
			t.Fatal(err)
		}
		var s Status
		pollUntil(t, 30*time.Second, "standby replays the inserts", func() (bool, error) {
			s, err = GetStatus(ctx, stby)
			return err == nil && s.ReplayLSN >= target, err
		})
		if s.Role() != RoleStandby || s.Timeline != 1 || s.ReplayPaused || s.ReceiveLSN < target || s.CurrentLSN.IsValid() {
			t.Fatalf("standby status %+v", s)
		}
		w := s.WALReceiver
		if w == nil || w.Status != "streaming" || w.SenderPort != p.Primary.Port || w.SenderHost != "127.0.0.1" ||
			w.ReceivedTLI != 1 || w.LastMsgReceiptTime == nil || w.FlushedLSN < target {
			t.Fatalf("WAL receiver %+v", w)
		}
		// An unprivileged role still learns role and timeline.
		app := connect(t, p.Standby, db, p.Options.AppUser)
		as, err := GetStatus(ctx, app)
		if err != nil || as.Role() != RoleStandby || as.Timeline != 1 {
			t.Fatalf("status as %s: %+v, %v", p.Options.AppUser, as, err)
		}
	})

	t.Run("paused replay shows lag", func(t *testing.T) {
		if _, err := stby.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
			t.Fatal(err)
		}
		if _, err := prim.Exec(ctx, "INSERT INTO t SELECT generate_series(1, 1000)"); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, 30*time.Second, "lag visible while paused", func() (bool, error) {
			s, err := GetStatus(ctx, stby)
			return err == nil && s.ReplayPaused && s.ReplayLagBytes() > 0, err
		})
		if _, err := stby.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, 30*time.Second, "lag gone after resume", func() (bool, error) {
			s, err := GetStatus(ctx, stby)
			return err == nil && !s.ReplayPaused && s.ReplayLagBytes() == 0, err
		})
	})

	t.Run("wrong-role calls are named errors", func(t *testing.T) {
		if err := Promote(ctx, prim, 5); !errors.Is(err, ErrNotInRecovery) {
			t.Fatalf("Promote on the primary: %v, want ErrNotInRecovery", err)
		}
		if _, err := Demote(ctx, stby); !errors.Is(err, ErrInRecovery) {
			t.Fatalf("Demote on the standby: %v, want ErrInRecovery", err)
		}
		if _, err := CurrentLSN(ctx, stby); !errors.Is(err, ErrInRecovery) {
			t.Fatalf("CurrentLSN on the standby: %v, want ErrInRecovery", err)
		}
		// pgx closes a connection whose context ends mid-query: use a spare.
		spare := connect(t, p.Standby, db, pgharness.Superuser)
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if err := WaitOutOfRecovery(short, spare, 20*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitOutOfRecovery on a standby: %v, want a deadline error", err)
		}
	})

	var final LSN
	t.Run("demote the primary", func(t *testing.T) {
		client := connect(t, p.Primary, db, p.Options.AppUser)
		if _, err := client.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if _, err := prim.Exec(ctx, "INSERT INTO t VALUES (-1)"); err != nil {
			t.Fatal(err)
		}
		res, err := Demote(ctx, prim)
		if err != nil {
			t.Fatal(err)
		}
		if res.Terminated < 1 || !res.FinalLSN.IsValid() {
			t.Fatalf("Demote = %+v; want the app session terminated and a final LSN", res)
		}
		final = res.FinalLSN
		if err := pgconnAlive(ctx, client); err == nil {
			t.Fatal("the client session survived Demote")
		}
		fresh := connect(t, p.Primary, db, p.Options.AppUser)
		if _, err := fresh.Exec(ctx, "INSERT INTO t VALUES (-2)"); sqlState(err) != "25006" {
			t.Fatalf("write after Demote: %v, want read_only_sql_transaction (25006)", err)
		}
		if s, err := GetStatus(ctx, fresh); err != nil || !s.ReadOnly || s.Role() != RolePrimary {
			t.Fatalf("status after Demote: %+v, %v", s, err)
		}
		replayed, err := WaitReplayed(ctx, stby, final, 20*time.Millisecond)
		if err != nil || replayed < final {
			t.Fatalf("WaitReplayed = %v, %v; want >= %v", replayed, err, final)
		}
		var n int
		if err := stby.QueryRow(ctx, "SELECT count(*) FROM t WHERE v = -1").Scan(&n); err != nil || n != 1 {
			t.Fatalf("last write before Demote on the standby: %d rows, %v", n, err)
		}
	})

	t.Run("promotion that does not finish in time", func(t *testing.T) {
		startup := startupPID(t, stby)
		if err := syscall.Kill(startup, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		resumed := false
		defer func() {
			if !resumed {
				syscall.Kill(startup, syscall.SIGCONT)
			}
		}()
		if err := Promote(ctx, stby, 1); !errors.Is(err, ErrPromoteIncomplete) {
			t.Fatalf("Promote with a frozen startup process: %v, want ErrPromoteIncomplete", err)
		}
		if err := syscall.Kill(startup, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		resumed = true
		if err := WaitOutOfRecovery(ctx, stby, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := Promote(ctx, stby, 5); !errors.Is(err, ErrNotInRecovery) {
			t.Fatalf("second Promote: %v, want ErrNotInRecovery", err)
		}
		if _, err := WaitReplayed(ctx, stby, final, 20*time.Millisecond); !errors.Is(err, ErrNotInRecovery) {
			t.Fatalf("WaitReplayed on a primary: %v, want ErrNotInRecovery", err)
		}
	})

	t.Run("promoted standby is a writable primary on a new timeline", func(t *testing.T) {
		s, err := GetStatus(ctx, stby)
		if err != nil {
			t.Fatal(err)
		}
		if s.Role() != RolePrimary || s.Timeline != 2 || s.CurrentLSN < final || s.WALReceiver != nil {
			t.Fatalf("status after promotion %+v (final %v)", s, final)
		}
		if err := Checkpoint(ctx, stby); err != nil {
			t.Fatal(err)
		}
		if _, err := stby.Exec(ctx, "INSERT INTO t VALUES (-3)"); err != nil {
			t.Fatalf("write on the promoted standby: %v", err)
		}
	})

	t.Run("abandoned switchover: ClearReadOnly", func(t *testing.T) {
		if err := ClearReadOnly(ctx, prim); err != nil {
			t.Fatal(err)
		}
		fresh := connect(t, p.Primary, db, p.Options.AppUser)
		if _, err := fresh.Exec(ctx, "INSERT INTO t VALUES (-4)"); err != nil {
			t.Fatalf("write after ClearReadOnly: %v", err)
		}
	})
}

func pgconnAlive(ctx context.Context, c *pgx.Conn) error {
	_, err := c.Exec(ctx, "SELECT 1")
	return err
}

// startupPID finds the standby's startup (recovery) process.
func startupPID(t *testing.T, c *pgx.Conn) int {
	t.Helper()
	var pid int
	if err := c.QueryRow(context.Background(),
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'").Scan(&pid); err != nil {
		t.Fatalf("finding the startup process: %v", err)
	}
	if _, err := os.FindProcess(pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// A standby restarted while its primary is gone reports as received the
// start of the segment it will stream from, below what it replayed. The
// position Assess weighs against the primary's must be what it holds, or a
// standby with every write looks behind and its failover is refused
// (under synchronous replication, any lag refuses it).
func TestRestartedStandbyHoldsWhatItReplayed(t *testing.T) {
	p := pgharness.StartPairT(t, pgharness.PairOptions{Sync: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := p.Options.Database
	prim := connect(t, p.Primary, db, pgharness.Superuser)
	// Far enough into the segment that its start is visibly lower.
	if _, err := prim.Exec(ctx, "CREATE TABLE filler AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 3000) g"); err != nil {
		t.Fatal(err)
	}
	target, err := CurrentLSN(ctx, prim)
	if err != nil {
		t.Fatal(err)
	}
	stby := connect(t, p.Standby, db, pgharness.Superuser)
	pollUntil(t, 30*time.Second, "the standby replays the primary's last write", func() (bool, error) {
		s, err := GetStatus(ctx, stby)
		return err == nil && s.ReplayLSN >= target, err
	})
	if err := p.Primary.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := p.Standby.Stop(ctx, pgharness.StopFast); err != nil {
		t.Fatal(err)
	}
	if err := p.Standby.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stby = connect(t, p.Standby, db, pgharness.Superuser)
	var s Status
	pollUntil(t, 30*time.Second, "the restarted standby has replayed its WAL and asked to stream", func() (bool, error) {
		s, err = GetStatus(ctx, stby)
		return err == nil && s.ReplayLSN >= target && s.ReceiveLSN.IsValid(), err
	})
	t.Logf("primary's last position %v; restarted standby: received %v, replayed %v, WAL receiver %+v",
		target, s.ReceiveLSN, s.ReplayLSN, s.WALReceiver)
	if s.ReceiveLSN >= target {
		t.Fatalf("received position %v is not below the replayed %v: the case this test covers did not occur", s.ReceiveLSN, s.ReplayLSN)
	}
	if held := s.HeldLSN(); held < target {
		t.Errorf("HeldLSN %v, want at least the primary's last position %v that the standby replayed", held, target)
	}
}
