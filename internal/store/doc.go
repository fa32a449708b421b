// Package store keeps the cluster record in DynamoDB: the cluster's epoch
// (its fencing token), the node that is primary, the failover lease and a
// bounded history of failovers and switchovers.
//
// # Layout
//
// The table's hash key is "cluster" (S). Each cluster has two items. The
// record item, keyed by the cluster name, holds its state:
//
//	cluster    S  the cluster name
//	epoch      N  bumped by one each time a new lease holder takes over
//	primary    S  the node that is primary
//	failoverLock M {holder S (Step Functions execution ARN), expires N (Unix ms)};
//	              absent when no failover is in flight
//	primaryLease, standby, pause, rejoinRequest M  see Record
//	updatedAt  S  RFC 3339 time of the last write
//	version    N  compare-and-swap counter, bumped by every write
//
// The history item, keyed by HistoryKey(cluster) ("<cluster>#history";
// cluster names cannot contain "#"), holds the history:
//
//	cluster       S  HistoryKey(cluster)
//	history       L  oldest first: the last MaxHistory important entries
//	                 (primary changes, failed and aborted attempts) and the
//	                 last MaxRoutine routine ones (refused, not-needed); a
//	                 routine outcome repeating the newest entry is merged into
//	                 it (count, firstEpoch, firstExecution, firstFinishedAt).
//	                 Entries written before coalescing (no count) decode as
//	                 single entries.
//	recordVersion N  the record item's version written with it
//	primary, epoch   the record's after that write, so that a stream image
//	                 of the history item alone names them (notify)
//
// The history lives apart because DynamoDB bills a write by the size of
// the whole item (one WRU per started KB) and a consistent read by it too
// (one RRU per started 4 KB). The primary's agent renews its lease every
// couple of seconds and every agent reads the record every second; with
// the history inside, a full history (about 35 KB of typical entries,
// TestTypicalItemSizes) made each renewal cost 35 WRU. The record item
// stays below 1 KB, so a renewal is 1 WRU and an agent's read 1 RRU
// whatever the history holds. Writes that change the history (Commit,
// Release, TakeOverLock, RecordRejoin, SetPause, ClearPause: a few per
// failover) write both items in one TransactWriteItems, so finishing a
// failover still changes the primary, releases the lease and logs the
// entry as one atomic step. The history item stays far below DynamoDB's
// 400 KB item limit: about 200 KB in the worst case of every field at its
// bound (TestWorstCaseItemSize).
//
// Records written by earlier versions hold the history inside the record
// item. They decode as they are; writes that leave the history alone (a
// renewal) write it back untouched, and the first write that changes the
// history moves it, with the new entry, to the history item.
//
// Operations that neither read nor change the history (the lease renewal,
// AcquireLock, the fencing steps, CheckLock, GetState) read the record item
// alone and return the record without its history; Get and the operations
// that write history entries return it whole.
//
// # Concurrency
//
// Every write is a compare-and-swap: the store reads the record item with a
// strongly consistent GetItem (and, for operations that read or change the
// history, the history item after it; when that one was written after the
// record item was read, both are read again), decides in Go, and writes
// back conditioned on the version it read: a PutItem of the record item
// alone when the history is unchanged, else a TransactWriteItems of both
// items whose record Put carries the condition. A write that loses a race
// (ConditionalCheckFailedException, or a transaction cancelled for a
// failed condition or a conflict) re-reads and decides again, so of many
// executions racing for the lease exactly one wins and the others get
// *ErrLeaseHeld. The store is the record's only writer; everything else
// (the CLI, the node probe) only reads it.
//
// Every operation is idempotent for its caller: a retry of AcquireLease by
// the holder renews the lease without bumping the epoch, a retry of Commit
// or Release after it took effect finds its own history entry and returns
// the record unchanged.
package store
