// Package smsim emulates the part of AWS Secrets Manager that Switchyard
// uses: GetSecretValue, over the AWS JSON 1.1 protocol
// (X-Amz-Target: secretsmanager.GetSecretValue), so the unmodified
// aws-sdk-go-v2 secretsmanager client works against it through an endpoint
// override.
//
// Service implements localaws.Service (signing name "secretsmanager"). It is
// seeded from a localaws.Topology's secrets; in-process callers (the local
// stack's setup, tests) add or rotate values with PutSecret, which keeps
// Secrets Manager's version model: the new value is AWSCURRENT, the one it
// replaces AWSPREVIOUS. A secret is found by name, by full ARN or by the ARN
// without its random six-character suffix, as AWS allows. Secrets have only
// string values; binary secrets, resource policies and rotation are not
// emulated.
package smsim
