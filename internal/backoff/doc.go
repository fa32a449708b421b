// Package backoff retries AWS calls that fail transiently, waiting longer
// after each failure.
//
// Retry calls an operation until it succeeds, fails with an error that
// Transient does not accept, or has been called Policy.Attempts times. It
// waits between two calls: Policy.Initial at first, twice as long after
// every further failure, never more than Policy.Max, each wait drawn at
// random from its upper half (jitter) so that callers failing together do
// not retry in step. The caller's context bounds the whole: a context that
// ends during a wait ends Retry with the context's error joined to the last
// failure.
//
// Transient accepts throttling, the server-side error codes AWS documents
// as worth retrying (InternalError, InternalFailure, ServiceUnavailable,
// Unavailable) and any HTTP 5xx answer. These retries come on top of the
// SDK's own.
//
// Wait is the context-aware pause Retry uses, for callers that poll.
package backoff
