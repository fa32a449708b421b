package pgnode

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// DemoteResult is what a graceful demotion did.
type DemoteResult struct {
	// Terminated is how many client sessions were ended.
	Terminated int
	// FinalLSN is the primary's WAL flush position after the last client
	// write and a checkpoint: once a standby has replayed up to it
	// (WaitReplayed), it holds every committed transaction.
	FinalLSN LSN
}

// Demote prepares a primary to hand over in a switchover: SetReadOnly, then
// TerminateClientBackends, then a CHECKPOINT (which also flushes WAL of
// asynchronous commits), then the flush position as FinalLSN. WAL senders
// keep running, so standbys keep streaming up to FinalLSN.
//
// This is a soft fence: a superuser session may still SET
// default_transaction_read_only = off, and the server keeps writing
// housekeeping WAL after FinalLSN. Stop or isolate the old primary before
// promoting, and rejoin it only as a standby (rewound if need be).
// ErrInRecovery means the server is a standby.
func Demote(ctx context.Context, conn *pgx.Conn) (DemoteResult, error) {
	in, err := InRecovery(ctx, conn)
	if err != nil {
		return DemoteResult{}, fmt.Errorf("demote: %w", err)
	}
	if in {
		return DemoteResult{}, fmt.Errorf("demote: %w", ErrInRecovery)
	}
	if err := SetReadOnly(ctx, conn); err != nil {
		return DemoteResult{}, fmt.Errorf("demote: %w", err)
	}
	n, err := TerminateClientBackends(ctx, conn)
	if err != nil {
		return DemoteResult{Terminated: n}, fmt.Errorf("demote: %w", err)
	}
	if err := Checkpoint(ctx, conn); err != nil {
		return DemoteResult{Terminated: n}, fmt.Errorf("demote: %w", err)
	}
	final, err := primaryLSN(ctx, conn, "pg_current_wal_flush_lsn()")
	if err != nil {
		return DemoteResult{Terminated: n}, fmt.Errorf("demote: %w", err)
	}
	return DemoteResult{Terminated: n, FinalLSN: final}, nil
}

// SetReadOnly makes new transactions read-only by default, server-wide and
// across restarts: ALTER SYSTEM SET default_transaction_read_only = on,
// then pg_reload_conf(). Sessions pick the change up at their next command.
func SetReadOnly(ctx context.Context, conn *pgx.Conn) error {
	return alterSystem(ctx, conn, "ALTER SYSTEM SET default_transaction_read_only = on")
}

// ClearReadOnly undoes SetReadOnly (ALTER SYSTEM RESET, then reload), e.g.
// when a switchover is abandoned and the old primary keeps its role.
func ClearReadOnly(ctx context.Context, conn *pgx.Conn) error {
	return alterSystem(ctx, conn, "ALTER SYSTEM RESET default_transaction_read_only")
}

func alterSystem(ctx context.Context, conn *pgx.Conn, stmt string) error {
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_reload_conf()").Scan(&ok); err != nil {
		return fmt.Errorf("SELECT pg_reload_conf(): %w", err)
	}
	if !ok {
		return fmt.Errorf("pg_reload_conf() returned false")
	}
	return nil
}

// TerminateClientBackends ends every client session except the caller's
// own (pg_terminate_backend); WAL senders and background workers are left
// alone. It returns how many sessions were signalled.
func TerminateClientBackends(ctx context.Context, conn *pgx.Conn) (int, error) {
	var n int
	err := conn.QueryRow(ctx, `
SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("terminating client sessions: %w", err)
	}
	return n, nil
}
