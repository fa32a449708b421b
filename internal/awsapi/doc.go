// Package awsapi holds Switchyard's narrow view of the AWS services the node
// agent and the Lambdas use: EC2, CloudWatch, Step Functions, DynamoDB.
// Route 53 and Secrets Manager, which the agent never calls, are in
// package awsall, so the agent's binary does not link them.
//
// Each interface lists only the calls Switchyard makes, with exactly the
// aws-sdk-go-v2 method signatures, so the SDK's *ec2.Client, *dynamodb.Client,
// ... satisfy them as they are and tests can hand in anything else that does.
// Domain packages take these interfaces, never concrete clients.
//
// Real clients are built in one place, awsall.NewClients, from
// config.LoadDefaultConfig: the usual credential chain, AWS_REGION, and
// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> endpoint overrides, which is
// how everything reaches the local emulator in the demo and the tests.
//
// AWS errors are classified once here (IsNotFound, IsThrottle,
// IsConditionalCheckFailed, ...) so callers never compare error strings.
package awsapi
