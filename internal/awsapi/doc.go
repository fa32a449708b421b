// Package awsapi holds Switchyard's narrow view of the AWS services it uses.
//
// Each interface lists only the calls Switchyard makes, with exactly the
// aws-sdk-go-v2 method signatures, so the SDK's *ec2.Client, *route53.Client,
// ... satisfy them as they are and tests can hand in anything else that does.
// Domain packages take these interfaces, never concrete clients.
//
// NewClients is the one place that builds real clients, from
// config.LoadDefaultConfig: the usual credential chain, AWS_REGION, and
// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> endpoint overrides, which is
// how everything reaches the local emulator in the demo and the tests.
//
// AWS errors are classified once here (IsNotFound, IsThrottle,
// IsConditionalCheckFailed, ...) so callers never compare error strings.
package awsapi
