package pgnode

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SyncWaiters is what pg_stat_activity says about sessions waiting for a
// synchronous standby to confirm their commit.
type SyncWaiters struct {
	// Count is the number of sessions waiting (wait_event 'SyncRep').
	Count int
	// Oldest is how long the longest of them has waited (since its
	// state_change), 0 when none waits.
	Oldest time.Duration
}

// SyncCommitWaiters reads how many sessions wait on synchronous
// replication and for how long.
func SyncCommitWaiters(ctx context.Context, conn *pgx.Conn) (SyncWaiters, error) {
	var w SyncWaiters
	var oldestMs float64
	err := conn.QueryRow(ctx, `
SELECT count(*), COALESCE(EXTRACT(EPOCH FROM max(now() - state_change)) * 1000, 0)
FROM pg_stat_activity WHERE wait_event_type = 'IPC' AND wait_event = 'SyncRep'`).Scan(&w.Count, &oldestMs)
	if err != nil {
		return SyncWaiters{}, fmt.Errorf("reading sessions waiting for synchronous commit: %w", err)
	}
	w.Oldest = time.Duration(oldestMs * float64(time.Millisecond))
	return w, nil
}

// SynchronousStandbyNames reads the setting in force.
func SynchronousStandbyNames(ctx context.Context, conn *pgx.Conn) (string, error) {
	var v string
	if err := conn.QueryRow(ctx, "SELECT current_setting('synchronous_standby_names')").Scan(&v); err != nil {
		return "", fmt.Errorf("reading synchronous_standby_names: %w", err)
	}
	return v, nil
}

// SetSynchronousStandbyNames sets synchronous_standby_names server-wide and
// across restarts (ALTER SYSTEM, then pg_reload_conf()). Waiting commits
// are released when it becomes "". Needs a superuser.
func SetSynchronousStandbyNames(ctx context.Context, conn *pgx.Conn, names string) error {
	stmt := "ALTER SYSTEM SET synchronous_standby_names = " + quoteLiteral(names)
	return alterSystem(ctx, conn, stmt)
}

// FlushLSN is pg_current_wal_flush_lsn() on a primary: WAL written and
// flushed locally, the position every locally committed transaction is at
// or before.
func FlushLSN(ctx context.Context, conn *pgx.Conn) (LSN, error) {
	return primaryLSN(ctx, conn, "pg_current_wal_flush_lsn()")
}

func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// DetachFromPrimary empties primary_conninfo on a standby (ALTER SYSTEM,
// then pg_reload_conf()): its WAL receiver stops and does not restart, so
// the old primary can no longer count it as a streaming standby. Needs a
// superuser.
func DetachFromPrimary(ctx context.Context, conn *pgx.Conn) error {
	return alterSystem(ctx, conn, "ALTER SYSTEM SET primary_conninfo = ''")
}
