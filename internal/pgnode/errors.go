package pgnode

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// ErrPromoteIncomplete says pg_promote returned false: the server did
	// not leave recovery within the wait. Promotion may still complete
	// later; poll with WaitOutOfRecovery or Status.
	ErrPromoteIncomplete = errors.New("promotion did not complete within the wait")

	// ErrNotInRecovery says the server is not a standby (it is, or has
	// become, a primary), so there is nothing to promote or replay.
	ErrNotInRecovery = errors.New("server is not in recovery")

	// ErrInRecovery says the server is a standby where a primary was
	// expected (e.g. Demote on a standby).
	ErrInRecovery = errors.New("server is in recovery")
)

// sqlStateObjectNotInPrerequisiteState is what PostgreSQL raises for
// "recovery is not in progress" / "recovery is in progress".
const sqlStateObjectNotInPrerequisiteState = "55000"

// sqlState returns the SQLSTATE of a server error, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
