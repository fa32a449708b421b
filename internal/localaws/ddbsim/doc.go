// Package ddbsim emulates the part of Amazon DynamoDB that Switchyard uses,
// speaking its real wire protocol (JSON 1.0, X-Amz-Target
// "DynamoDB_20120810.<Operation>") so the unmodified aws-sdk-go-v2 DynamoDB
// client works against it through an endpoint override.
//
// Supported operations: CreateTable, DescribeTable, DeleteTable, ListTables,
// GetItem, PutItem, UpdateItem, DeleteItem, Query and TransactWriteItems.
// Tables have a hash key and an optional range key; secondary indexes, TTL
// and TransactGetItems are not emulated.
//
// TransactWriteItems (Put, Update, Delete and ConditionCheck, up to 100)
// evaluates every condition before it writes anything and writes all or
// nothing; a failed condition is a TransactionCanceledException with one
// CancellationReasons entry per action (ConditionalCheckFailed or None),
// two actions on one item a ValidationException. Each item it writes is
// its own stream record. ClientRequestToken idempotency is not emulated.
//
// Expressions follow DynamoDB's grammar: ConditionExpression (comparisons,
// BETWEEN, IN, AND/OR/NOT, parentheses, attribute_exists,
// attribute_not_exists, attribute_type, begins_with, contains, size),
// UpdateExpression (SET with + and -, if_not_exists and list_append; REMOVE;
// ADD; DELETE), KeyConditionExpression, FilterExpression and
// ProjectionExpression, with nested document paths, expression attribute
// names and values, DynamoDB's reserved words and its checks for undefined
// and unused placeholders. Errors carry DynamoDB's codes
// (ValidationException, ConditionalCheckFailedException with the old item
// when ReturnValuesOnConditionCheckFailure is ALL_OLD,
// ResourceNotFoundException, ResourceInUseException).
//
// Query follows DynamoDB's paging: Limit caps the items read (before the
// FilterExpression), and LastEvaluatedKey is returned whenever a page stops
// at the limit, even when no items remain. The 1 MB page size, consumed
// capacity and item size limits are not emulated.
//
// Service.CreateTable creates a table in process for the local stack's
// bootstrap.
//
// Every operation is atomic: one mutex serialises all reads and writes, which
// is stronger than DynamoDB's per-item atomicity and therefore safe for the
// compare-and-swap patterns (leases, epochs) the failover relies on.
package ddbsim
