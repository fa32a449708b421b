// Package decide is the pure decision logic of the Assess step: given what
// was observed about both nodes, the cluster record and the trigger, decide
// whether to fail over, that no failover is needed, or to refuse.
//
// It enforces two of Switchyard's safety invariants and nothing here does
// I/O, so every rule is tested directly:
//
//   - Two signals (invariant 2): an unplanned failover needs at least two
//     independent observations of the primary's loss, and any positive
//     evidence that the primary is alive (a direct probe finds it writable,
//     or the standby still streams from it) means "no failover needed". A
//     broken monitoring path (heartbeats missing because a NAT gateway or
//     CloudWatch is down) is one signal at most.
//   - Fresh data gate (invariant 3): the primary's last position comes
//     from the cluster record's primary lease (renewed every few seconds
//     with the flushed LSN; a primary that cannot renew stops writing before
//     the lease expires, so the position is fresh by construction) and from
//     CloudWatch's PrimaryLSN, the higher of the two. Missing evidence is
//     refused; so is stale evidence: the primary seen alive after its lease
//     expired plus the clock margin, or, with no lease, CloudWatch evidence
//     older than its bounds. Under synchronous replication the candidate
//     must be the standby the record marks eligible, have been the
//     synchronous standby at the last renewal, and hold everything (zero
//     lag); under asynchronous replication its lag must be within
//     MaxLagBytes. Force turns a refusal into a proceed marked Forced,
//     with BytesAtRisk for the audit.
//
// Every input, the clock and the bounds included, is in Observation, so a
// table test can state "evidence 14 minutes old → refuse".
package decide
