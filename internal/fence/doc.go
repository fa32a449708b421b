// Package fence fences a failed primary so that it can no longer accept
// writes from clients, and confirms it before anything is promoted
// (safety invariant 1: fence before promote).
//
// Three modes, from cluster.Fence.Mode:
//
//   - stop: StopInstances with Force, then DescribeInstances until the
//     instance is "stopped". An instance that is already stopped, is
//     terminated, or no longer exists (InvalidInstanceID.NotFound) counts as
//     fenced. The wait is bounded by cluster.Fence.StopTimeoutSeconds and
//     ends in *ErrFenceTimeout. This is the default because it is the only
//     mode that ends connections already open.
//   - isolate: replace the security groups of the node's network interface
//     with the isolation group (ModifyNetworkInterfaceAttribute) and confirm
//     with DescribeNetworkInterfaces. Security groups are stateful and
//     changing them does not cut connections that are already established:
//     a client holding a session to the old primary can keep writing. Use
//     isolate on its own only where that is acceptable, or together with
//     stop.
//   - isolate-and-stop: isolate first (new connections are refused at
//     once), then stop (open ones end).
//
// Every call is idempotent: it looks before it acts, skips what is already
// done and converges when retried after success or after a partial run.
// Throttling and transient AWS errors are retried with backoff within the
// deadline, on top of the SDK's own retries (invariant 5).
package fence
