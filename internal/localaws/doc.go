// Package localaws is the core of Switchyard's wire-compatible AWS emulator.
//
// The emulator lets the unmodified aws-sdk-go-v2 clients used by the Lambdas,
// the node probe and the CLI talk HTTP to a local server through an endpoint
// override (AWS_ENDPOINT_URL). This package holds what every emulated service
// shares:
//
//   - Server, an http.Handler that routes a request to a Service by the SigV4
//     signing name in its Authorization header (the credential scope names the
//     service, exactly as AWS's front door does),
//   - token-bucket throttling with AWS's bucket sizes, switchable off,
//   - fault injection per service, operation and caller (latency, error rate,
//     fail the next N calls, partition of one client),
//   - a call log that records every call with its operation, the resources it
//     touched and the caller's access key id, so tests can compare what a
//     function did with what its IAM role allows,
//   - Topology, the declarative seed of a network (VPC, subnets, route tables,
//     ENIs, instances, Elastic IPs, hosted zones, secrets).
//
// Each service lives in its own subpackage (ec2sim, route53sim, cwsim, sfnsim,
// ddbsim, smsim, snssim) and speaks its real wire protocol; this package knows
// none of them. The emulator is a test and demo fixture: it is never deployed.
package localaws
