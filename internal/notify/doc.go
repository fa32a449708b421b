// Package notify tells operators what happened to a cluster: it turns the
// changes of the cluster record into concise messages and publishes them to
// an SNS topic (template parameter NotificationEmail subscribes an
// address).
//
// The source is the record itself, through the table's DynamoDB stream:
// every actor already writes there (the failover Lambdas a history entry
// per execution, the agent its rejoins and the standby's eligibility, the
// CLI pauses), so nothing that changes the cluster can forget to notify,
// and no actor needs permission to publish. The table holds two items per
// cluster (the store's Layout): the record item, whose stream records carry
// the standby's eligibility, and the history item, whose stream records
// carry the history and the record's primary and epoch. Changes diffs a
// stream record's old and new images:
//
//   - each new history entry is one notice: a failover or switchover that
//     succeeded, failed or was aborted, a refusal, a no-action (the primary
//     was healthy), a rejoin, a pause or resume. A repeated routine outcome
//     that the record coalesces into the previous entry is notified again
//     only when its count reaches 10, 100, 1000, … so a refusal repeated
//     every 30 s for a day is three messages, not 2,880. When the history
//     item first appears (INSERT), only its newest entry is announced: the
//     older ones were moved from the record item, where a previous version
//     kept them and where they were announced;
//   - the standby losing its eligibility (no longer promotable without
//     losing acknowledged writes, or a former primary that must rejoin) is
//     "lost redundancy"; regaining it is "redundancy restored".
//
// A message names the cluster, what happened, the nodes, the epoch, the
// reason, per-step timings and, for an execution, its Step Functions
// console link. Delivery is at least once: Lambda retries a failed batch,
// so a message may arrive twice but is not lost while the stream keeps the
// record (24 hours).
package notify
