// Package awsall builds one real SDK client per AWS service Switchyard
// calls (NewClients, FromConfig), and holds the narrow interfaces of the
// services only the Lambdas and the CLI call: Route 53 and Secrets Manager.
//
// It is apart from package awsapi (EC2, CloudWatch, Step Functions,
// DynamoDB, error classification) so that the node agent, which imports
// only awsapi, links none of the SDK packages it never calls: Go links every
// package a binary imports, with its initialisers, and each SDK service
// package costs the agent resident memory (docs/benchmarks.md).
//
// For the same reason everything that needs the SDK's config package is
// here, LocalConfig included: that package links the STS, SSO, SSO-OIDC and
// Sign-In clients, which the agent never uses.
package awsall
