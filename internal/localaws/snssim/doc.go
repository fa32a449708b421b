// Package snssim emulates the part of Amazon SNS that Switchyard uses, over
// SNS's real wire protocol, so the unmodified aws-sdk-go-v2 sns client works
// against it through an endpoint override.
//
// The protocol is the AWS query protocol: a form-urlencoded POST carrying
// Action, Version=2010-03-31 and flattened parameters (Attributes.entry.1.key,
// MessageAttributes.entry.1.Value.DataType, ...). Answers are
// <{Op}Response><{Op}Result>...</{Op}Result><ResponseMetadata> documents in
// the http://sns.amazonaws.com/doc/2010-03-31/ namespace; errors are
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>
// documents with SNS's codes and HTTP statuses (NotFound 404,
// InvalidParameter 400, AuthorizationError 403, Throttled 429,
// InternalError 500), so the SDK returns its typed errors
// (*types.NotFoundException, *types.InvalidParameterException, ...).
//
// Service implements localaws.Service (signing name "sns"); register it on a
// localaws.Server, which adds the call log, fault injection and throttling.
// Publish draws from the localaws.BucketSNS token bucket; an empty bucket
// answers Throttled, the error SNS's model gives for an exceeded rate.
//
// Emulated operations: CreateTopic, DeleteTopic, ListTopics,
// GetTopicAttributes, Subscribe, ListSubscriptionsByTopic and Publish.
// Anything else is InvalidAction. Model, in brief:
//   - Topics are regional: a topic's ARN is arn:aws:sns:<region>:<account>:
//     <name>, the region taken from the call's SigV4 credential scope and
//     the account from Options. CreateTopic is idempotent by name. FIFO
//     topics are not emulated and are refused with InvalidParameter.
//   - Subscribe accepts the email, email-json, https, sqs and lambda
//     protocols. Email and https subscriptions wait for a confirmation that
//     never comes, as they would on AWS without a reader: Subscribe answers
//     "pending confirmation" and the topic counts them in
//     SubscriptionsPending. Queue and function subscriptions in the topic's
//     account are confirmed at once. Nothing is delivered to subscribers.
//   - Publish checks what SNS checks on a standard topic (a non-empty
//     message of at most 256 KiB with its attributes, the Subject rule) and
//     records the message. MessageAttributes are parsed and counted in the
//     size, nothing more.
//   - Every call that names a topic records its ARN with Call.AddResource,
//     even when the topic does not exist, as IAM authorizes against it.
//
// In-process callers (tests, the local stack) read what was published with
// Published and wait for it without sleeping with WaitPublished. All
// methods are safe for concurrent use.
package snssim
