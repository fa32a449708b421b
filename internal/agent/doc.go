// Package agent is the part of the node agent (nodeprobe) that owns the
// local PostgreSQL and obeys the cluster record, as Patroni's and
// CloudNativePG's agents do.
//
// # Contract
//
// Every loop (Config.Interval) the agent reads the cluster record with a
// consistent read and drives PostgreSQL to the role the record gives its
// node:
//
//   - The recorded primary runs writable only while it holds a valid
//     primary lease. Its agent renews the lease every RenewInterval with a
//     conditional write that also publishes its flushed WAL position and
//     synchronous standby (the data gate's evidence). A renewal refused
//     because the record names another primary, or because a failover
//     revoked the lease, stops PostgreSQL at once (immediate shutdown: open
//     sessions cannot commit afterwards). A renewal that cannot reach the
//     record keeps PostgreSQL writable only until StopBudget before the
//     lease expires, unless failsafe holds (a standby streaming from it
//     replied within FailsafeReply): a DynamoDB outage alone does not stop
//     a healthy pair.
//   - Any other node runs as a standby or not at all. A node that finds its
//     PostgreSQL writable without being the recorded primary fences itself:
//     it writes standby.signal and a fence marker into the data directory
//     (so that a start by hand, by systemd or by the agent comes up
//     read-only) and stops PostgreSQL immediately. A fenced node stays
//     stopped, with the reason in its log and Snapshot, until it is
//     rejoined.
//   - While the node is the writable primary, the agent keeps a watchdog
//     armed and pets it every loop: an agent that hangs or dies for
//     WatchdogTimeout (shorter than the lease by at least one renewal and
//     one second) has PostgreSQL taken down before the lease can expire.
//     Stopping the agent does not disarm the watchdog (a real /dev/watchdog
//     closed without the magic character keeps counting): a restarted
//     agent must pet it in time.
//   - The primary's agent manages synchronous replication
//     (synchronous_standby_names) under the "strict" or "available" policy
//     and records in the cluster record whether the standby may be
//     promoted (see sync.go).
//
// The agent never changes the cluster beyond its own node and the two
// record fields it owns (its primary lease and the standby's eligibility).
// Failovers are the state machine's job.
package agent
