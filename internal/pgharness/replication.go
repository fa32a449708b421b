package pgharness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultWaitTimeout bounds the Wait helpers when ctx has no deadline.
const defaultWaitTimeout = 60 * time.Second

// pollInterval is how often the Wait helpers look again.
const pollInterval = 50 * time.Millisecond

// StandbyStatus is one standby's row in the primary's pg_stat_replication.
type StandbyStatus struct {
	// State is the walsender state: startup, catchup, streaming, backup, stopping.
	State string
	// SyncState is async, potential, sync or quorum.
	SyncState string
}

// StandbyStatus returns the pg_stat_replication row whose application_name
// is standby; ok is false when the standby is not connected.
func (n *Node) StandbyStatus(ctx context.Context, standby string) (status StandbyStatus, ok bool, err error) {
	conn, err := n.Connect(ctx, "postgres", Superuser)
	if err != nil {
		return StandbyStatus{}, false, err
	}
	defer conn.Close(ctx)
	return n.standbyStatus(ctx, conn, standby)
}

func (n *Node) standbyStatus(ctx context.Context, conn *pgx.Conn, standby string) (status StandbyStatus, ok bool, err error) {
	err = conn.QueryRow(ctx,
		`SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1 ORDER BY backend_start DESC LIMIT 1`,
		standby).Scan(&status.State, &status.SyncState)
	if errors.Is(err, pgx.ErrNoRows) {
		return StandbyStatus{}, false, nil
	}
	if err != nil {
		return StandbyStatus{}, false, fmt.Errorf("pgharness: read pg_stat_replication on %s: %w", n.Name, err)
	}
	return status, true, nil
}

// WaitStreaming polls the primary n until standby is streaming (and is the
// synchronous standby when wantSync). If ctx has no deadline, 60s applies.
func (n *Node) WaitStreaming(ctx context.Context, standby string, wantSync bool) error {
	return n.waitStandby(ctx, standby, func(s StandbyStatus, ok bool) bool {
		return ok && s.State == "streaming" && (!wantSync || s.SyncState == "sync")
	}, fmt.Sprintf("%s streaming (sync=%v)", standby, wantSync))
}

// WaitStandbyGone polls the primary n until standby has no row in
// pg_stat_replication. If ctx has no deadline, 60s applies.
func (n *Node) WaitStandbyGone(ctx context.Context, standby string) error {
	return n.waitStandby(ctx, standby, func(_ StandbyStatus, ok bool) bool { return !ok },
		standby+" disconnected")
}

func (n *Node) waitStandby(ctx context.Context, standby string, done func(StandbyStatus, bool) bool, what string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultWaitTimeout)
		defer cancel()
	}
	var last StandbyStatus
	var lastOK bool
	var lastErr error
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		var s StandbyStatus
		var ok bool
		var err error
		if conn == nil {
			conn, err = n.Connect(ctx, "postgres", Superuser)
		}
		if conn != nil {
			s, ok, err = n.standbyStatus(ctx, conn, standby)
			if err != nil { // reconnect on the next round
				conn.Close(context.Background())
				conn = nil
			}
		}
		if err == nil && done(s, ok) {
			return nil
		}
		last, lastOK, lastErr = s, ok, err
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgharness: waiting on %s for %s: %w (last: %+v connected=%v err=%v)",
				n.Name, what, ctx.Err(), last, lastOK, lastErr)
		case <-time.After(pollInterval):
		}
	}
}

// SetSynchronousStandbys sets synchronous_standby_names on n ("" turns
// synchronous replication off) and reloads the configuration. It takes
// effect shortly after; use WaitStreaming(ctx, name, true) to see it.
func (n *Node) SetSynchronousStandbys(ctx context.Context, names string) error {
	if err := n.writeNodeConf(names); err != nil {
		return err
	}
	conn, err := n.Connect(ctx, "postgres", Superuser)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("pgharness: reload configuration of %s: %w", n.Name, err)
	}
	return nil
}

// ConfigureStandby turns a stopped node into a standby of the primary at
// replicationAddr (host:port): standby.signal, primary_conninfo with the
// node's name as application_name, and its own per-node settings with no
// synchronous standbys. Call it after pg_rewind (see Command), which copies
// the source's configuration files over the node's.
func (n *Node) ConfigureStandby(replicationAddr string) error {
	if n.Running() {
		return fmt.Errorf("pgharness: configure %s as standby: node is running", n.Name)
	}
	host, port, err := net.SplitHostPort(replicationAddr)
	if err != nil {
		return fmt.Errorf("pgharness: configure %s as standby: address %q: %w", n.Name, replicationAddr, err)
	}
	if err := writeFileKeepOwner(filepath.Join(n.DataDir, "standby.signal"), ""); err != nil {
		return fmt.Errorf("pgharness: configure %s as standby: %w", n.Name, err)
	}
	if err := n.setPrimaryConninfo(host, port); err != nil {
		return err
	}
	return n.writeNodeConf("")
}
