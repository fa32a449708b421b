// Package probe is the logic of nodeprobe, the agent that runs next to
// PostgreSQL on each of the two nodes.
//
// Every Interval the probe opens a fresh connection to the local server
// (bounded by CheckTimeout), runs SELECT 1 and reads its status through
// pgnode: role, timeline, WAL positions, the WAL receiver on a standby and
// the replication rows on a primary. From each result it publishes to
// CloudWatch, in namespace "Switchyard" by default:
//
//   - on a primary (the role the agent lets it publish as: the recorded
//     primary holding its lease), Heartbeat 1 under {Cluster, Node} and
//     {Cluster, Role=primary}, so an alarm on the role follows whichever
//     node is primary, and PrimaryLSN (bytes) under {Cluster, Node};
//   - on a standby, ReplayLagBytes under {Cluster, Role=standby}, and no
//     heartbeat: its replay lag is its sign of life;
//   - on a node declared unhealthy, Heartbeat 0 under {Cluster, Node} and
//     its role, urgently (below).
//
// Custom metrics are billed per series and month, hence no series that
// nothing reads (samplesFor).
//
// # Local recovery
//
// A failed check is not reported at once. After FailureThreshold
// consecutive failures the configured restart command is run, up to
// MaxRestarts times within a sliding Window, with Grace after each run for
// PostgreSQL to come up (the way SIOS LifeKeeper recovers locally before
// failing over). Only when that budget is spent is Heartbeat 0 published;
// while a failure is being confirmed or recovered, no Heartbeat value is
// published at all. Alarms must therefore treat missing data as breaching
// and tolerate the recovery time: with the defaults (1s checks, threshold
// 2, 2 restarts, 10s grace) a node that does not come back is reported
// about 21 seconds (plus the restart commands' run time) after its first
// failed check, inside the cluster's default 90-second heartbeat
// staleness; a node that comes back after one restart leaves a gap of a
// few seconds. Once declared unhealthy the probe makes no more restarts
// until PostgreSQL is seen healthy again: by then a failover may be
// fencing the node.
//
// # Publishing, batching and its trade-off
//
// Samples go into a bounded buffer (the oldest are dropped and counted when
// it is full) and are sent every FlushInterval in one PutMetricData call
// (up to 1,000 datums per call). Samples of the same series within one
// aggregation bucket (1 second by default) become one datum with
// Values/Counts. CloudWatch bills PutMetricData per request, so the flush
// interval sets the cost: at the default 50 s (DefaultFlushInterval) it is
// about 52,000 calls a month per node, at 5 s ten times that. It also sets
// the delay: a healthy heartbeat reaches CloudWatch up to FlushInterval
// (plus the call's latency) after it was measured, so keep FlushInterval at
// least 10 s under the heartbeat alarm's period (60 s by default), or the
// newest period is still empty when the alarm evaluates. Bad news does not
// wait: a sample marked Urgent (Heartbeat 0, and every sample the agent
// adds, since it publishes only while something is wrong) is sent within
// UrgentDelay (1 s), except while failed calls are being backed off.
// Failed calls are retried with exponential backoff and jitter (throttling
// and server errors keep their samples; data CloudWatch rejects as invalid
// is dropped), and nothing the publisher does ever delays a health check.
// When Run's context ends (SIGTERM in nodeprobe) one final flush is made,
// bounded by ShutdownTimeout.
//
// # Identity and settings
//
// ResolveIdentity fills the instance id, availability zone and private IP
// from the EC2 instance metadata service, IMDSv2 only (token first), unless
// given explicitly. Settings merges defaults, a JSON file, SWITCHYARD_*
// environment variables and flags (in increasing precedence) through one
// parser, so nodeprobe's main stays a few lines.
package probe
