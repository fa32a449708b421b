package decide

import "time"

// Probe is what a direct connection to one node's PostgreSQL found.
type Probe struct {
	Reachable  bool
	Error      string // why it was not reachable
	InRecovery bool
	// ReceiveLSN is the end of the WAL the standby has on its disk, the
	// greatest of what it received and flushed and what it replayed
	// (pgnode.Status.HeldLSN); on a primary, its current LSN.
	ReceiveLSN uint64
	// Streaming is true when the standby's WAL receiver is streaming.
	Streaming bool
	// LastMessageAge is the time since the WAL receiver last heard from the
	// primary; meaningful only when Streaming.
	LastMessageAge time.Duration
}

// Node is what was observed about one node.
type Node struct {
	Name          string
	InstanceState string // EC2 state name: running, stopping, stopped, ...; "" unknown
	Impaired      bool   // EC2 instance or system status check failed
	Probe         Probe
}

// PrimaryLease is the recorded primary's lease as the cluster record holds
// it: the gate's first source of the primary's last position. The
// primary's agent renews it every few seconds with its flushed WAL
// position, and stops PostgreSQL before Expires when it cannot renew, so
// the primary cannot have written past LSN except before Expires.
type PrimaryLease struct {
	Node        string
	LSN         uint64    // flushed WAL position at the last renewal; 0 none
	Renewed     time.Time // when the agent sent the last renewal
	Expires     time.Time // zero: Renewed plus the lease duration
	SyncStandby string    // synchronous standby named at that renewal; "" async
}

// StandbyState is the primary agent's word, in the cluster record, on
// whether the other node may be promoted. Under synchronous replication the
// agent clears Eligible before it ever drops to asynchronous.
type StandbyState struct {
	Node     string
	Eligible bool
	Reason   string // why it is not eligible
	Changed  time.Time
}

// Observation is everything Assess gathered. Every age is relative to Now,
// and every bound is an input, so a test can say "evidence 14 minutes old".
type Observation struct {
	Trigger string // alarm (heartbeat), reachability-alarm, fast-path, manual
	Force   bool
	Target  string // requested node to promote, "" for the standby

	RecordPrimary string // primary named by the cluster record
	Nodes         []Node // both nodes

	// Now is when the observations were made.
	Now time.Time

	// Lease is the cluster record's primary lease, nil when the record holds
	// none; it counts as evidence only when it is RecordPrimary's and carries
	// an LSN. Standby is the record's standby eligibility, nil when none.
	Lease   *PrimaryLease
	Standby *StandbyState

	// PrimaryHeartbeatAge is the age of the primary's newest healthy
	// heartbeat in CloudWatch; HeartbeatKnown is false when none was found
	// or CloudWatch could not be read.
	PrimaryHeartbeatAge time.Duration
	HeartbeatKnown      bool
	// LastPrimaryLSN is the newest position the primary published to
	// CloudWatch, and LSNAge its age; LSNKnown is false when there is none.
	LastPrimaryLSN uint64
	LSNAge         time.Duration
	LSNKnown       bool

	// Synchronous: the pair replicates synchronously, so the candidate must
	// be the eligible synchronous standby and hold everything (zero lag).
	Synchronous bool
	// LeaseDuration is how long one renewal of the primary lease lasts, and
	// ClockMargin the clock error allowed past its expiry.
	LeaseDuration time.Duration
	ClockMargin   time.Duration
	// MaxEvidenceAge is how old CloudWatch evidence may be when it is the
	// only evidence (no lease in the record): nothing stops a primary that
	// holds no lease, so older evidence says nothing about what it wrote.
	MaxEvidenceAge time.Duration

	StaleAfter time.Duration // heartbeat freshness limit
	// StreamSilentAfter: a standby that heard from the primary within
	// this long is evidence the primary is alive (the fast path's silent
	// limit; 0 means StaleAfter). An idle primary sends nothing while its
	// standby keeps replying, so an older last message proves nothing.
	StreamSilentAfter time.Duration
	MaxLagBytes       int64 // asynchronous promotion limit
}

// Verdict is the decision and the evidence for it.
type Verdict struct {
	Decision   Decision
	Reason     string
	OldPrimary string
	NewPrimary string
	Evidence   []string
	LagBytes   int64 // -1 when unknown
	// BytesAtRisk is the WAL the candidate is known to lack: its lag behind
	// the last position the primary published (writes after that are not
	// counted), or -1 when that position is missing or stale, so nobody
	// can say. It is what a forced failover's history records.
	BytesAtRisk int64
	Forced      bool // force overrode a check that would have refused
}
