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
//   - Fresh data gate (invariant 3): the candidate must be a reachable
//     standby whose received WAL is within the configured lag of the last
//     known primary position; missing or stale evidence of that position
//     means refuse, unless the request is an audited force.
package decide
