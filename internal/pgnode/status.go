package pgnode

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Role is what a server says it is: a primary (accepting writes) or a
// standby (in recovery).
type Role int

// Roles.
const (
	RoleUnknown Role = iota
	RolePrimary
	RoleStandby
)

// String returns "primary", "standby" or "unknown".
func (r Role) String() string {
	switch r {
	case RolePrimary:
		return "primary"
	case RoleStandby:
		return "standby"
	}
	return "unknown"
}

// Status is one server's view of itself, as observed at ServerTime.
type Status struct {
	// ServerVersionNum is server_version_num (e.g. 150018);
	// ServerVersion is the human form ("15.18 (Debian …)").
	ServerVersionNum int
	ServerVersion    string
	// ServerTime is now() on the server when the status was read.
	ServerTime time.Time
	// InRecovery is pg_is_in_recovery(): true on a standby.
	InRecovery bool
	// Timeline is the current timeline: on a primary the one it writes
	// (from the name of its current WAL file); on a standby the one it
	// last received WAL on, or, without a WAL receiver, that of its latest
	// restartpoint.
	Timeline uint32
	// ReadOnly is default_transaction_read_only as this session sees it
	// (Demote turns it on).
	ReadOnly bool

	// CurrentLSN is pg_current_wal_lsn() (primary only).
	CurrentLSN LSN
	// Replication lists the WAL senders to downstream standbys
	// (pg_stat_replication): on a primary its standbys, on a cascading
	// standby its own downstream ones.
	Replication []Replica

	// Standby only:
	// ReceiveLSN is pg_last_wal_receive_lsn(): WAL received and flushed
	// (InvalidLSN if streaming never started).
	ReceiveLSN LSN
	// ReplayLSN is pg_last_wal_replay_lsn().
	ReplayLSN LSN
	// ReplayPaused is pg_is_wal_replay_paused().
	ReplayPaused bool
	// LastReplayedTxTime is pg_last_xact_replay_timestamp(), the commit
	// time of the last replayed transaction (nil if none yet).
	LastReplayedTxTime *time.Time
	// WALReceiver is pg_stat_wal_receiver; nil when no WAL receiver runs
	// (the upstream is unreachable, or the server is a primary).
	WALReceiver *WALReceiver
}

// Replica is one row of pg_stat_replication.
type Replica struct {
	PID             int
	ApplicationName string
	// ClientAddr is the standby's address ("" for a Unix socket or when
	// the session may not see it).
	ClientAddr string
	// State is "startup", "catchup", "streaming", "backup" or "stopping".
	State                       string
	SentLSN, WriteLSN, FlushLSN LSN
	ReplayLSN                   LSN
	WriteLag, FlushLag          time.Duration
	ReplayLag                   time.Duration
	// SyncState is "async", "potential", "sync" or "quorum".
	SyncState string
	// ReplyTime is when the standby last reported (nil if never).
	ReplyTime *time.Time
}

// WALReceiver is the single row of pg_stat_wal_receiver.
type WALReceiver struct {
	PID int
	// Status is "streaming", "starting", "waiting", "restarting" or
	// "stopping".
	Status     string
	SenderHost string
	SenderPort int
	// ReceivedTLI is the timeline of the last WAL received.
	ReceivedTLI uint32
	// FlushedLSN is WAL received and flushed to disk.
	FlushedLSN LSN
	// LatestEndLSN is the end of WAL the upstream last reported having:
	// the standby's best local estimate of the primary's position.
	LatestEndLSN LSN
	// LastMsgReceiptTime is when the last message from the upstream
	// arrived (nil if none yet).
	LastMsgReceiptTime *time.Time
	SlotName           string
}

// Role is RoleStandby when the server is in recovery, RolePrimary otherwise.
func (s Status) Role() Role {
	if s.InRecovery {
		return RoleStandby
	}
	return RolePrimary
}

// HeldLSN is, on a standby, the end of the WAL it has on its disk: the
// greatest of what it received and flushed (pg_last_wal_receive_lsn(), the
// WAL receiver's flushed_lsn) and what it replayed. The received position
// alone can read lower: a standby restarted while its upstream is gone
// reports the start of the WAL segment it will stream from (measured with
// PostgreSQL 15: 0/3000000 received, 0/3037848 replayed). On a primary,
// its current position.
func (s Status) HeldLSN() LSN {
	if !s.InRecovery {
		return s.CurrentLSN
	}
	held := s.ReceiveLSN.Max(s.ReplayLSN)
	if s.WALReceiver != nil {
		held = held.Max(s.WALReceiver.FlushedLSN)
	}
	return held
}

// ReplayLagBytes is, on a standby, how many bytes of WAL it knows of but has
// not replayed: from the replay position to the later of what it received
// and what its upstream last reported having. 0 on a primary.
func (s Status) ReplayLagBytes() int64 {
	if !s.InRecovery {
		return 0
	}
	end := s.ReceiveLSN
	if s.WALReceiver != nil {
		end = end.Max(s.WALReceiver.LatestEndLSN).Max(s.WALReceiver.FlushedLSN)
	}
	if lag := end.Sub(s.ReplayLSN); lag > 0 {
		return lag
	}
	return 0
}

// The CASEs keep primary-only and standby-only functions from raising
// "recovery is (not) in progress" on the other role.
const baseStatusSQL = `
SELECT pg_is_in_recovery(),
       current_setting('server_version_num')::int,
       current_setting('server_version'),
       current_setting('default_transaction_read_only'),
       now(),
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END,
       CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()::text END,
       CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,
       CASE WHEN pg_is_in_recovery() THEN pg_last_xact_replay_timestamp() END,
       CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint()) END`

const walReceiverSQL = `
SELECT pid, coalesce(status, ''), coalesce(sender_host, ''), coalesce(sender_port, 0),
       coalesce(received_tli, 0), flushed_lsn::text, latest_end_lsn::text,
       last_msg_receipt_time, coalesce(slot_name, '')
FROM pg_stat_wal_receiver`

const replicationSQL = `
SELECT pid, coalesce(application_name, ''), coalesce(host(client_addr), ''), coalesce(state, ''),
       sent_lsn::text, write_lsn::text, flush_lsn::text, replay_lsn::text,
       extract(epoch FROM write_lag)::float8, extract(epoch FROM flush_lag)::float8,
       extract(epoch FROM replay_lag)::float8,
       coalesce(sync_state, ''), reply_time
FROM pg_stat_replication
ORDER BY application_name, pid`

// GetStatus reads the server's role, timeline, WAL positions, WAL receiver
// and replication state in three read-only queries.
func GetStatus(ctx context.Context, conn *pgx.Conn) (Status, error) {
	var (
		s                                 Status
		readOnly                          string
		current, walfile, receive, replay *string
		checkpointTLI                     *int64
	)
	err := conn.QueryRow(ctx, baseStatusSQL).Scan(&s.InRecovery, &s.ServerVersionNum, &s.ServerVersion,
		&readOnly, &s.ServerTime, &current, &walfile, &receive, &replay, &s.ReplayPaused,
		&s.LastReplayedTxTime, &checkpointTLI)
	if err != nil {
		return Status{}, fmt.Errorf("reading server status: %w", err)
	}
	s.ReadOnly = readOnly == "on"
	if s.CurrentLSN, err = parseNullLSN(current); err != nil {
		return Status{}, err
	}
	if s.ReceiveLSN, err = parseNullLSN(receive); err != nil {
		return Status{}, err
	}
	if s.ReplayLSN, err = parseNullLSN(replay); err != nil {
		return Status{}, err
	}
	if walfile != nil {
		if s.Timeline, err = timelineOfWALFile(*walfile); err != nil {
			return Status{}, err
		}
	}
	if s.WALReceiver, err = walReceiver(ctx, conn); err != nil {
		return Status{}, err
	}
	if s.InRecovery {
		switch {
		case s.WALReceiver != nil && s.WALReceiver.ReceivedTLI > 0:
			s.Timeline = s.WALReceiver.ReceivedTLI
		case checkpointTLI != nil:
			s.Timeline = uint32(*checkpointTLI)
		}
	}
	if s.Replication, err = replication(ctx, conn); err != nil {
		return Status{}, err
	}
	return s, nil
}

func walReceiver(ctx context.Context, conn *pgx.Conn) (*WALReceiver, error) {
	rows, err := conn.Query(ctx, walReceiverSQL)
	if err != nil {
		return nil, fmt.Errorf("reading pg_stat_wal_receiver: %w", err)
	}
	defer rows.Close()
	var w *WALReceiver
	for rows.Next() {
		var (
			r            WALReceiver
			tli          int64
			flushed, end *string
		)
		if err := rows.Scan(&r.PID, &r.Status, &r.SenderHost, &r.SenderPort, &tli, &flushed, &end,
			&r.LastMsgReceiptTime, &r.SlotName); err != nil {
			return nil, fmt.Errorf("reading pg_stat_wal_receiver: %w", err)
		}
		r.ReceivedTLI = uint32(tli)
		if r.FlushedLSN, err = parseNullLSN(flushed); err != nil {
			return nil, err
		}
		if r.LatestEndLSN, err = parseNullLSN(end); err != nil {
			return nil, err
		}
		w = &r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading pg_stat_wal_receiver: %w", err)
	}
	return w, nil
}

func replication(ctx context.Context, conn *pgx.Conn) ([]Replica, error) {
	rows, err := conn.Query(ctx, replicationSQL)
	if err != nil {
		return nil, fmt.Errorf("reading pg_stat_replication: %w", err)
	}
	defer rows.Close()
	var out []Replica
	for rows.Next() {
		var (
			r                           Replica
			sent, write, flush, replay  *string
			writeLag, flushLag, replLag *float64
		)
		if err := rows.Scan(&r.PID, &r.ApplicationName, &r.ClientAddr, &r.State, &sent, &write, &flush,
			&replay, &writeLag, &flushLag, &replLag, &r.SyncState, &r.ReplyTime); err != nil {
			return nil, fmt.Errorf("reading pg_stat_replication: %w", err)
		}
		for _, f := range []struct {
			dst *LSN
			src *string
		}{{&r.SentLSN, sent}, {&r.WriteLSN, write}, {&r.FlushLSN, flush}, {&r.ReplayLSN, replay}} {
			if *f.dst, err = parseNullLSN(f.src); err != nil {
				return nil, err
			}
		}
		r.WriteLag, r.FlushLag, r.ReplayLag = seconds(writeLag), seconds(flushLag), seconds(replLag)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading pg_stat_replication: %w", err)
	}
	return out, nil
}

func parseNullLSN(s *string) (LSN, error) {
	if s == nil {
		return InvalidLSN, nil
	}
	return ParseLSN(*s)
}

func seconds(f *float64) time.Duration {
	if f == nil {
		return 0
	}
	return time.Duration(*f * float64(time.Second))
}

// timelineOfWALFile reads the timeline from a WAL file name: its first 8 of
// 24 hexadecimal digits ("00000002000000000000000A" is timeline 2).
func timelineOfWALFile(name string) (uint32, error) {
	if len(name) != 24 {
		return 0, fmt.Errorf("WAL file name %q: want 24 hex digits", name)
	}
	tli, err := strconv.ParseUint(name[:8], 16, 32)
	if err != nil {
		return 0, fmt.Errorf("WAL file name %q: %w", name, err)
	}
	return uint32(tli), nil
}
