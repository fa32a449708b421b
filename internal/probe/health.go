package probe

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/internal/pgnode"
)

// Observation is the result of one health check.
type Observation struct {
	At time.Time
	// Status is what the server reported; meaningful only when Err is nil.
	Status pgnode.Status
	// Err says why the check failed (connect, query or status read).
	Err error
}

// Healthy reports whether PostgreSQL answered every query of the check.
func (o Observation) Healthy() bool { return o.Err == nil }

// Checker runs one health check. Implementations bound the check by ctx.
type Checker interface {
	Check(ctx context.Context) Observation
}

// PGChecker checks a PostgreSQL server through a fresh connection each
// time: a new connection proves the server still accepts sessions (not
// only that an old one survives), at the cost of one backend start per
// check.
type PGChecker struct {
	DSN            string
	ConnectTimeout time.Duration
}

// Check connects, runs SELECT 1, reads the node status and disconnects.
func (c PGChecker) Check(ctx context.Context) Observation {
	obs := Observation{At: time.Now()}
	conn, err := pgnode.Connect(ctx, c.DSN, c.ConnectTimeout)
	if err != nil {
		obs.Err = err
		return obs
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if err := pgnode.Ping(ctx, conn); err != nil {
		obs.Err = err
		return obs
	}
	obs.Status, obs.Err = pgnode.GetStatus(ctx, conn)
	return obs
}
