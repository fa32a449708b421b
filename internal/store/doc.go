// Package store keeps the cluster record in DynamoDB: the cluster's epoch
// (its fencing token), the node that is primary, the failover lease and a
// bounded history of failovers and switchovers.
//
// # Layout
//
// The table's hash key is "cluster" (S). Each cluster is exactly one item:
//
//	cluster    S  the cluster name
//	epoch      N  bumped by one each time a new lease holder takes over
//	primary    S  the node that is primary
//	lease      M  {holder S (Step Functions execution ARN), expires N (Unix ms)};
//	              absent when no failover is in flight
//	updatedAt  S  RFC 3339 time of the last write
//	version    N  compare-and-swap counter, bumped by every write
//	history    L  oldest first: the last MaxHistory important entries (primary
//	              changes, failed and aborted attempts) and the last MaxRoutine
//	              routine ones (refused, not-needed); a routine outcome repeating
//	              the newest entry is merged into it (count, firstEpoch,
//	              firstExecution, firstFinishedAt). Records written before
//	              coalescing (no count) decode as single entries.
//
// History lives inside the record rather than as separate items on purpose:
// finishing a failover must change the primary, release the lease and log
// the entry as one atomic step, and one conditional PutItem on one item
// gives that without transactions. MaxHistory+MaxRoutine entries with
// every field bounded keep the item far below DynamoDB's 400 KB item limit:
// about 150 KB in the worst case (TestWorstCaseItemSize), a few tens of KB
// with real reasons.
//
// # Concurrency
//
// Every write is a compare-and-swap: the store reads the item with a
// strongly consistent GetItem, decides in Go, and writes the whole item
// back with PutItem conditioned on the version it read. A write that loses
// a race (ConditionalCheckFailedException) re-reads and decides again, so
// of many executions racing for the lease exactly one wins and the others
// get *ErrLeaseHeld. The store is the record's only writer; everything else
// (the CLI, the node probe) only reads it.
//
// Every operation is idempotent for its caller: a retry of AcquireLease by
// the holder renews the lease without bumping the epoch, a retry of Commit
// or Release after it took effect finds its own history entry and returns
// the record unchanged.
package store
