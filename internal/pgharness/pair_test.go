package pgharness

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pollUntil calls check every 50ms until it returns true or the deadline passes.
func pollUntil(t *testing.T, timeout time.Duration, what string, check func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := check()
		if ok && err == nil {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func connect(t *testing.T, n *Node, db, user string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := n.Connect(ctx, db, user)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func countRows(ctx context.Context, conn *pgx.Conn, query string, args ...any) (int, error) {
	var n int
	err := conn.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

func TestSyncPair(t *testing.T) {
	t.Parallel()
	p := StartPairT(t, PairOptions{Sync: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := p.Options

	st, ok, err := p.Primary.StandbyStatus(ctx, "node2")
	if err != nil || !ok || st.State != "streaming" || st.SyncState != "sync" {
		t.Fatalf("standby status = %+v connected=%v err=%v, want streaming/sync", st, ok, err)
	}

	primary := connect(t, p.Primary, o.Database, o.AppUser)
	standby := connect(t, p.Standby, o.Database, o.AppUser)

	t.Run("write on primary is read on standby", func(t *testing.T) {
		if _, err := primary.Exec(ctx, `CREATE TABLE items (id int PRIMARY KEY, note text)`); err != nil {
			t.Fatal(err)
		}
		if _, err := primary.Exec(ctx, `INSERT INTO items VALUES (1, 'replicated')`); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, 30*time.Second, "row on standby", func() (bool, error) {
			var note string
			err := standby.QueryRow(ctx, `SELECT note FROM items WHERE id = 1`).Scan(&note)
			return note == "replicated", err
		})
		_, err := standby.Exec(ctx, `INSERT INTO items VALUES (2, 'on standby')`)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "25006" {
			t.Fatalf("write on standby: err = %v, want read_only_sql_transaction (25006)", err)
		}
	})

	t.Run("commit waits for the missing standby until the client gives up", func(t *testing.T) {
		if err := p.Standby.Stop(ctx, StopFast); err != nil {
			t.Fatal(err)
		}
		if err := p.Primary.WaitStandbyGone(ctx, "node2"); err != nil {
			t.Fatal(err)
		}
		waiter := connect(t, p.Primary, o.Database, o.AppUser)
		if _, err := waiter.Exec(ctx, `SET statement_timeout = '200ms'`); err != nil {
			t.Fatal(err)
		}
		type result struct {
			err     error
			elapsed time.Duration
		}
		done := make(chan result, 1)
		go func() {
			start := time.Now()
			callCtx, callCancel := context.WithTimeout(ctx, 3*time.Second)
			defer callCancel()
			_, err := waiter.Exec(callCtx, `INSERT INTO items VALUES (3, 'waits')`)
			done <- result{err, time.Since(start)}
		}()

		admin := connect(t, p.Primary, "postgres", Superuser)
		pollUntil(t, 10*time.Second, "backend waiting on SyncRep", func() (bool, error) {
			n, err := countRows(ctx, admin, `SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND usename = $1`, o.AppUser)
			return n == 1, err
		})
		if n, err := countRows(ctx, primary, `SELECT count(*) FROM items WHERE id = 3`); err != nil || n != 0 {
			t.Fatalf("row visible while its commit waits: count=%d err=%v", n, err)
		}

		r := <-done
		var pgErr *pgconn.PgError
		if errors.As(r.err, &pgErr) {
			t.Fatalf("insert ended with a server error %v; want the client deadline (statement_timeout must not end a sync-rep wait)", r.err)
		}
		if !pgconn.Timeout(r.err) || r.elapsed < 3*time.Second {
			t.Fatalf("insert returned after %v with %v; want the 3s client deadline", r.elapsed, r.err)
		}
		// pgx sends a cancel request when it abandons a call; the server
		// ends the wait and the commit, never rolled back, becomes visible.
		pollUntil(t, 10*time.Second, "abandoned commit visible (committed locally)", func() (bool, error) {
			n, err := countRows(ctx, primary, `SELECT count(*) FROM items WHERE id = 3`)
			return n == 1, err
		})
		if n, err := countRows(ctx, admin, `SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'`); err != nil || n != 0 {
			t.Fatalf("backends still waiting on SyncRep after cancel: %d, %v", n, err)
		}
	})

	t.Run("standby back: commits complete again", func(t *testing.T) {
		if err := p.Standby.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Primary.WaitStreaming(ctx, "node2", true); err != nil {
			t.Fatal(err)
		}
		callCtx, callCancel := context.WithTimeout(ctx, 10*time.Second)
		defer callCancel()
		if _, err := primary.Exec(callCtx, `INSERT INTO items VALUES (4, 'after return')`); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAsyncPairPromoteAfterPrimaryCrash(t *testing.T) {
	t.Parallel()
	p := StartPairT(t, PairOptions{PrimaryName: "alpha", StandbyName: "beta"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := p.Options

	st, ok, err := p.Primary.StandbyStatus(ctx, "beta")
	if err != nil || !ok || st.State != "streaming" || st.SyncState != "async" {
		t.Fatalf("standby status = %+v connected=%v err=%v, want streaming/async", st, ok, err)
	}
	primary := connect(t, p.Primary, o.Database, o.AppUser)
	if _, err := primary.Exec(ctx, `CREATE TABLE t (v int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := primary.Exec(ctx, `INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	standbyAdmin := connect(t, p.Standby, o.Database, Superuser)
	pollUntil(t, 30*time.Second, "row replicated", func() (bool, error) {
		n, err := countRows(ctx, standbyAdmin, `SELECT count(*) FROM t`)
		return n == 1, err
	})
	standbyAdmin.Close(ctx)

	t.Run("smart stop waits for clients", func(t *testing.T) {
		client := connect(t, p.Standby, o.Database, o.AppUser)
		short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
		err := p.Standby.Stop(short, StopSmart)
		cancelShort()
		if !errors.Is(err, context.DeadlineExceeded) || !p.Standby.Running() {
			t.Fatalf("smart stop with a client connected: err=%v running=%v; want it still waiting", err, p.Standby.Running())
		}
		client.Close(ctx)
		if err := p.Standby.Stop(ctx, StopSmart); err != nil {
			t.Fatal(err)
		}
		if p.Standby.Running() || p.Standby.PID() != 0 {
			t.Fatal("standby still running after smart stop")
		}
		if err := p.Standby.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Primary.WaitStreaming(ctx, "beta", false); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("kill primary, promote standby, write", func(t *testing.T) {
		pid := p.Primary.PID()
		if pid == 0 {
			t.Fatal("primary has no pid")
		}
		if err := p.Primary.Kill(); err != nil {
			t.Fatal(err)
		}
		if p.Primary.Running() || ProcessAlive(pid) {
			t.Fatalf("primary pid %d still alive after Kill", pid)
		}
		if left := LeftoverProcesses(p.Primary.DataDir); len(left) != 0 {
			t.Fatalf("processes %v of the killed primary remain", left)
		}
		admin := connect(t, p.Standby, o.Database, Superuser)
		var promoted bool
		if err := admin.QueryRow(ctx, `SELECT pg_promote(true, 60)`).Scan(&promoted); err != nil || !promoted {
			t.Fatalf("pg_promote = %v, %v", promoted, err)
		}
		var inRecovery bool
		if err := admin.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery); err != nil || inRecovery {
			t.Fatalf("pg_is_in_recovery after promote = %v, %v", inRecovery, err)
		}
		app := connect(t, p.Standby, o.Database, o.AppUser)
		if _, err := app.Exec(ctx, `INSERT INTO t VALUES (2)`); err != nil {
			t.Fatalf("write on promoted standby: %v", err)
		}
		if n, err := countRows(ctx, app, `SELECT count(*) FROM t`); err != nil || n != 2 {
			t.Fatalf("rows on promoted standby = %d, %v; want 2", n, err)
		}
	})

	t.Run("old primary rejoins as standby after pg_rewind", func(t *testing.T) {
		admin := connect(t, p.Standby, "postgres", Superuser)
		if _, err := admin.Exec(ctx, `CHECKPOINT`); err != nil { // the new timeline reaches pg_control
			t.Fatal(err)
		}
		rewind := p.Primary.Command(ctx, "pg_rewind",
			"--target-pgdata", p.Primary.DataDir, "--source-server", p.Standby.DSN("postgres", Superuser))
		if out, err := rewind.CombinedOutput(); err != nil {
			t.Fatalf("pg_rewind: %v\n%s", err, out)
		}
		if err := p.Primary.ConfigureStandby(p.Standby.Addr()); err != nil {
			t.Fatal(err)
		}
		if err := p.Primary.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Standby.WaitStreaming(ctx, "alpha", false); err != nil {
			t.Fatal(err)
		}
		old := connect(t, p.Primary, o.Database, o.AppUser)
		pollUntil(t, 30*time.Second, "write made after the failover on the old primary", func() (bool, error) {
			n, err := countRows(ctx, old, `SELECT count(*) FROM t WHERE v = 2`)
			return n == 1, err
		})
		var inRecovery bool
		if err := old.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery); err != nil || !inRecovery {
			t.Fatalf("old primary in recovery = %v, %v; want a standby", inRecovery, err)
		}
	})

	t.Run("close leaves no process and no directory", func(t *testing.T) {
		pids := []int{p.Primary.PID(), p.Standby.PID()}
		if pids[0] == 0 || pids[1] == 0 {
			t.Fatalf("postmaster pids before Close = %v, want both running", pids)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if ProcessAlive(pid) {
				t.Fatalf("postmaster %d alive after Close", pid)
			}
		}
		if left := LeftoverProcesses(p.Dir); len(left) != 0 {
			t.Fatalf("processes %v left in %s", left, p.Dir)
		}
		if _, err := os.Stat(p.Dir); !os.IsNotExist(err) {
			t.Fatalf("pair directory still there: %v", err)
		}
	})
}
