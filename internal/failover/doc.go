// Package failover holds the handlers of the failover state machine's steps:
// intake, lease, assess, fence, promote, reroute, verify, record and the
// failure report. Each handler is a typed function over the State document
// that flows through statemachine/failover.asl.json; functions/<step>/main.go
// only wires one of them to lambda.Start, and the local stack calls the very
// same handlers in-process.
//
// Contract with the state machine:
//   - Every handler receives the whole State and returns only its own part;
//     the ASL puts that part under the ResultPath named in State's field tags.
//   - Errors are returned as the named types in errors.go. Lambda reports the
//     Go type name as errorType, and the ASL's Retry/Catch match on it:
//     TransientError is retried with backoff, every other error goes to the
//     failure report, which releases the lease and records which steps
//     completed.
//   - Intake and Assess never change anything. Fence always completes before
//     Promote starts (the ASL has no path around it).
//   - Every handler is idempotent: a retry after a lost response converges.
package failover
