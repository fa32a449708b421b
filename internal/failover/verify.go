package failover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/cluster"
)

// VerifyTable is the table Verify writes to, in the configured database.
const VerifyTable = "switchyard_verify"

// VerifyStep proves the failover end to end: through the client-facing
// address it writes a row naming this execution, then reads that row
// directly on the new primary. A write that lands anywhere else fails.
type VerifyStep struct {
	*Deps
	// Attempts and Backoff bound the wait for routing to take effect
	// (0: attemptsFor: 10 attempts 500 ms apart, or enough to outlast a
	// client-facing DNS record's TTL).
	Attempts int
	Backoff  time.Duration
}

// Handle is the Lambda handler.
func (h *VerifyStep) Handle(ctx context.Context, s State) (*StepResult, error) {
	start := h.now()
	log := h.logger("verify", s)
	if s.Assessment == nil {
		return nil, &StepFailed{Step: "verify", Err: errors.New("verify needs an assessment naming the new primary")}
	}
	node, ok := h.Config.Node(s.Assessment.NewPrimary)
	if !ok {
		return nil, &StepFailed{Step: "verify", Err: fmt.Errorf("node %q is not in the cluster config", s.Assessment.NewPrimary)}
	}
	attempts, backoff := h.Attempts, h.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	if attempts <= 0 {
		attempts = attemptsFor(h.Config, backoff)
	}
	epoch := int64(0)
	if s.Lease != nil {
		epoch = s.Lease.Epoch
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, &TransientError{Step: "verify", Err: ctx.Err()}
			case <-time.After(backoff):
			}
		}
		if last = h.writeThroughClientEndpoint(ctx, s.Execution, epoch); last != nil {
			log.Info("write through the client endpoint failed", "attempt", i+1, "err", last)
			continue
		}
		if last = h.readOnNode(ctx, node.PostgresAddr, s.Execution); last != nil {
			log.Info("verification row not on the new primary", "attempt", i+1, "err", last)
			continue
		}
		log.Info("verified", "endpoint", h.Config.Routing.ClientEndpoint, "node", node.Name, "attempts", i+1)
		return result(start, h.now(), fmt.Sprintf("a write through %s landed on %s", h.Config.Routing.ClientEndpoint, node.Name)), nil
	}
	return nil, retryable("verify", fmt.Errorf("after %d attempts: %w", attempts, last))
}

func (h *VerifyStep) writeThroughClientEndpoint(ctx context.Context, execution string, epoch int64) error {
	ctx, cancel := context.WithTimeout(ctx, 3*h.Config.ConnectTimeout())
	defer cancel()
	conn, err := h.connect(ctx, h.Config.Routing.ClientEndpoint)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// Verify proves that the client address reaches a writable
		// primary, not that replication is back: under the strict policy
		// the new primary names its missing standby and every synchronous
		// commit waits until it rejoins.
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = local`); err != nil {
			return fmt.Errorf("verification transaction: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+VerifyTable+` (execution text PRIMARY KEY, epoch bigint NOT NULL, written_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("creating %s: %w", VerifyTable, err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+VerifyTable+` (execution, epoch) VALUES ($1, $2)
			ON CONFLICT (execution) DO UPDATE SET epoch = EXCLUDED.epoch, written_at = now()`, execution, epoch)
		if err != nil {
			return fmt.Errorf("writing the verification row: %w", err)
		}
		return nil
	})
}

func (h *VerifyStep) readOnNode(ctx context.Context, addr, execution string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*h.Config.ConnectTimeout())
	defer cancel()
	conn, err := h.connect(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var inRecovery bool
	var n int
	err = conn.QueryRow(ctx, `SELECT pg_is_in_recovery(), (SELECT count(*) FROM `+VerifyTable+` WHERE execution = $1)`, execution).Scan(&inRecovery, &n)
	switch {
	case err != nil:
		return fmt.Errorf("reading the verification row on %s: %w", addr, err)
	case inRecovery:
		return fmt.Errorf("%s is in recovery", addr)
	case n != 1:
		return fmt.Errorf("the row written through the client endpoint is not on %s: the endpoint reaches another server", addr)
	}
	return nil
}

// verifyMaxWait caps Verify's wait for routing, well inside its Task's
// TimeoutSeconds (40) in the state machine.
const verifyMaxWait = 30 * time.Second

// attemptsFor is how many writes Verify tries, backoff apart: 10, or when
// the client endpoint is reached through a configured DNS record (it is
// the record's name, or DNS records are the only targets), enough to span
// the record's TTL plus 5 s (at most verifyMaxWait). A resolver may keep
// answering with the old primary's address for the whole TTL after
// Reroute changed the record, so a shorter wait would report a good
// failover as failed.
func attemptsFor(cfg *cluster.Config, backoff time.Duration) int {
	host, _, err := net.SplitHostPort(cfg.Routing.ClientEndpoint)
	if err != nil {
		host = cfg.Routing.ClientEndpoint
	}
	dnsOnly := cfg.Routing.OverlayIP == nil && cfg.Routing.ElasticIP == nil
	wait := time.Duration(0)
	for _, d := range cfg.Routing.DNS {
		if dnsOnly || strings.EqualFold(strings.TrimSuffix(d.Name, "."), strings.TrimSuffix(host, ".")) {
			wait = max(wait, time.Duration(d.TTL)*time.Second+5*time.Second)
		}
	}
	wait = min(wait, verifyMaxWait)
	return max(10, int(wait/backoff)+1)
}
