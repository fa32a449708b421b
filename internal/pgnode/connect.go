package pgnode

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultApplicationName is set on connections whose DSN names none, so
// Switchyard's sessions are recognisable in pg_stat_activity.
const DefaultApplicationName = "switchyard"

// Connect opens one connection to dsn (a libpq URL or key=value string).
// timeout bounds the connection attempt (TCP, TLS and authentication) when
// positive and overrides any connect_timeout in dsn; ctx can end it earlier.
func Connect(ctx context.Context, dsn string, timeout time.Duration) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The DSN may hold a password: report only that it did not parse.
		return nil, fmt.Errorf("parsing PostgreSQL connection string: %w", err)
	}
	if timeout > 0 {
		cfg.ConnectTimeout = timeout
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = DefaultApplicationName
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return conn, nil
}

// Ping runs a trivial query, proving the server answers queries (not only
// accepts connections).
func Ping(ctx context.Context, conn *pgx.Conn) error {
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("SELECT 1: %w", err)
	}
	return nil
}
