// Package fence fences a failed primary so that it can no longer
// acknowledge a write, and confirms it before anything is promoted (safety
// invariant 1: fence before promote).
//
// The Fence step calls HardStop with the node, the cluster's fence config
// and a Probe of the node's PostgreSQL (PostgresProbe(node.PostgresAddr)
// needs no credentials). Fence is the same with that probe by default.
//
// # The hard fence
//
// StopInstances with Force and SkipOsShutdown. It is confirmed only by
// consistent observations over time, never by one answer:
//
//   - cfg.ConfirmObservations (default 3) DescribeInstances reads in a row,
//     one poll interval apart, all showing the instance stopping, stopped,
//     shutting-down or terminated, after the forced stop was accepted
//     (shutting-down and terminated count without one: nothing runs after
//     them; a stale read can only show a state the instance really had);
//   - then a direct probe of the old PostgreSQL that fails. A probe that
//     answers vetoes; it is asked again after the next consistent read.
//
// EC2's API is eventually consistent: AWS documents that a read right
// after a change may show the resource as it was, and that
// InvalidInstanceID.NotFound "doesn't mean the instance doesn't exist"
// (Eventual consistency in the Amazon EC2 API, EC2 Developer Guide). So a
// NotFound or an answer without the instance is never proof: it restarts
// the count, is logged and recorded as not proof, and an instance EC2 does
// not know ends in *ErrFenceTimeout, not in success. A read showing
// stopped before our forced stop was accepted is not counted either (it
// may predate a restart). Running or pending restarts the count and sends
// the stop again. Every observation is in the Result.
//
// # Why "stopping" counts
//
// The assumption: once a stop that skips the OS shutdown is accepted and
// the instance reports stopping, its processes no longer run. AWS says
// StopInstances "shut[s] it down", that SkipOsShutdown bypasses "the
// graceful OS shutdown process", accepting "memory contents not flushed to
// disk or loss of in-flight IOs", and that "Bypassing the graceful OS
// shutdown is irreversible for the instance's current session" (Methods
// for stopping an instance, EC2 User Guide); Force "forcibly stops" an
// instance stuck stopping. AWS does not state the instant the guest stops
// executing within "stopping". That gap is why the probe is required: a
// PostgreSQL that still answers while EC2 says stopping vetoes the fence.
// The local stack ends the node's processes when "stopping" is reported,
// which is the assumption made concrete.
//
// # Isolation is not a fence
//
// Security groups are stateful: replacing an interface's groups does not
// end connections already open, so pooled clients keep writing to the old
// primary. Mode "isolate" on its own is refused (ErrNotAFence; the cluster
// config rejects it too). Mode isolate-and-stop moves the interface to the
// isolation group first, best effort (a failure is recorded and the stop
// goes ahead: new connections are refused while the stop lands, and a
// restarted node comes back isolated); confirmation still comes only from
// the stop. Isolate, the standalone call, waits to observe the groups and
// never takes a NotFound as isolated.
//
// # Bounds and errors
//
// The whole call is bounded by cfg.StopTimeoutSeconds (default 120) and
// ctx; each probe by WithProbeTimeout. Throttling and server errors are
// retried with backoff within the deadline, on top of the SDK's own
// retries (invariant 5). Errors tell "not confirmed" (*ErrFenceTimeout,
// which carries the last AWS error, throttling included) from a refused
// setup (ErrNoProbe, ErrNotAFence) and from a permanent AWS error
// (UnauthorizedOperation, say, wrapped). Only a nil error means fenced.
// Calling again converges: a stopped instance accepts another forced stop.
//
// The tests run against the EC2 emulator (internal/localaws/ec2sim) with
// its eventual consistency on: stale states and spurious NotFound.
package fence
