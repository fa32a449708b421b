package pgnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// InRecovery reports pg_is_in_recovery().
func InRecovery(ctx context.Context, conn *pgx.Conn) (bool, error) {
	var in bool
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&in); err != nil {
		return false, fmt.Errorf("SELECT pg_is_in_recovery(): %w", err)
	}
	return in, nil
}

// Promote asks a standby to leave recovery and become a primary with
// pg_promote(true, waitSeconds), which returns once the server accepts
// writes or the wait is over. waitSeconds <= 0 only signals the promotion
// (pg_promote(false)) and returns at once; follow with WaitOutOfRecovery.
//
// It returns ErrNotInRecovery when the server is not a standby (already a
// primary: the caller decides whether that is the expected result of an
// earlier attempt), and ErrPromoteIncomplete when the wait ran out; the
// promotion may still complete afterwards. ctx must outlive the wait.
func Promote(ctx context.Context, conn *pgx.Conn, waitSeconds int) error {
	in, err := InRecovery(ctx, conn)
	if err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	if !in {
		return fmt.Errorf("promote: %w", ErrNotInRecovery)
	}
	wait, secs := true, waitSeconds
	if waitSeconds <= 0 {
		wait, secs = false, 60 // pg_promote rejects a non-positive wait even when not waiting
	}
	var done bool
	err = conn.QueryRow(ctx, "SELECT pg_promote($1, $2)", wait, secs).Scan(&done)
	switch {
	case sqlState(err) == sqlStateObjectNotInPrerequisiteState:
		// "recovery is not in progress": promoted between the two queries.
		return fmt.Errorf("promote: %w: %v", ErrNotInRecovery, err)
	case err != nil:
		return fmt.Errorf("promote: SELECT pg_promote: %w", err)
	case !done:
		return fmt.Errorf("promote: pg_promote(true, %d) returned false: %w", secs, ErrPromoteIncomplete)
	}
	return nil
}

// WaitOutOfRecovery polls pg_is_in_recovery() every interval until it is
// false (the server is a primary) or ctx ends. A query error ends the wait.
func WaitOutOfRecovery(ctx context.Context, conn *pgx.Conn, interval time.Duration) error {
	return poll(ctx, interval, func() (bool, error) {
		in, err := InRecovery(ctx, conn)
		return !in, err
	}, "waiting for the server to leave recovery")
}

// WaitReplayed polls a standby every interval until it has replayed WAL up
// to target (pg_last_wal_replay_lsn() >= target) or ctx ends. It returns the
// last replay position seen. ErrNotInRecovery means the server stopped being
// a standby while waiting.
func WaitReplayed(ctx context.Context, conn *pgx.Conn, target LSN, interval time.Duration) (LSN, error) {
	var last LSN
	err := poll(ctx, interval, func() (bool, error) {
		var replay *string
		err := conn.QueryRow(ctx,
			"SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END").Scan(&replay)
		if err != nil {
			return false, fmt.Errorf("reading replay position: %w", err)
		}
		if replay == nil {
			return false, ErrNotInRecovery
		}
		if last, err = ParseLSN(*replay); err != nil {
			return false, err
		}
		return last >= target, nil
	}, "waiting for replay to reach "+target.String())
	return last, err
}

// Checkpoint runs CHECKPOINT (a restartpoint on a standby). After a
// promotion it makes the new timeline durable and shortens crash recovery.
func Checkpoint(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("CHECKPOINT: %w", err)
	}
	return nil
}

// CurrentLSN returns pg_current_wal_lsn() of a primary; ErrInRecovery on a
// standby.
func CurrentLSN(ctx context.Context, conn *pgx.Conn) (LSN, error) {
	return primaryLSN(ctx, conn, "pg_current_wal_lsn()")
}

func primaryLSN(ctx context.Context, conn *pgx.Conn, fn string) (LSN, error) {
	var s *string
	q := "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE " + fn + "::text END"
	if err := conn.QueryRow(ctx, q).Scan(&s); err != nil {
		return 0, fmt.Errorf("SELECT %s: %w", fn, err)
	}
	if s == nil {
		return 0, fmt.Errorf("%s: %w", fn, ErrInRecovery)
	}
	return ParseLSN(*s)
}

func poll(ctx context.Context, interval time.Duration, done func() (bool, error), what string) error {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := done()
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("%s: %w", what, ctx.Err())
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}
