// Package eventbus is Switchyard's in-process stand-in for an Amazon
// EventBridge event bus, used by the local stack to carry CloudWatch
// "Alarm State Change" events to the failover state machine.
//
// A Bus holds rules. Each rule has an EventBridge event pattern and a Target
// (a Go function). Publish matches an event against every rule and queues it
// for delivery to the targets of the rules it matches. Delivery is
// asynchronous, as on EventBridge: each rule has its own worker, so events
// reach one target in the order they were published; a target that returns
// an error is retried with exponential backoff and jitter, a bounded number
// of times, and the event is then recorded as a failed delivery (where
// EventBridge would send it to a dead-letter queue).
//
// Event patterns follow EventBridge's pattern language: a JSON object with
// the structure of the events it matches, whose leaves are arrays of match
// values. Supported: exact strings, numbers, booleans and null; nested
// fields; arrays in events (a pattern matches when any element matches);
// "prefix", "suffix" and "equals-ignore-case" (also inside prefix/suffix);
// "anything-but" with a value, a list, or a prefix/suffix/equals-ignore-case;
// "numeric" ranges; "exists". "$or", "cidr" and "wildcard" are not
// supported and are rejected with a clear error, like any malformed pattern.
//
// The bus is a test and demo fixture: it keeps every delivery in memory.
package eventbus
