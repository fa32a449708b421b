package reroute

import (
	"context"
	"errors"
	"time"

	"github.com/switchyard/switchyard/internal/backoff"
)

// Option adjusts concurrency, polling and retries.
type Option func(*options)

type options struct {
	concurrency   int
	pollInterval  time.Duration
	verifyTimeout time.Duration
	retry         backoff.Policy
}

func apply(opts []Option) options {
	o := options{
		concurrency:   4,
		pollInterval:  time.Second,
		verifyTimeout: 30 * time.Second,
		retry:         backoff.Policy{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Attempts: 5},
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithConcurrency bounds how many ReplaceRoute calls run at once
// (default 4, below EC2's mutating refill rate).
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = max(n, 1) } }

// WithPollInterval sets the pause between two verification reads and
// between two GetChange calls (default 1s).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithVerifyTimeout bounds how long a change may take to be observed by
// a describe call (default 30s). Route 53's INSYNC wait is bounded by the
// caller's context only.
func WithVerifyTimeout(d time.Duration) Option { return func(o *options) { o.verifyTimeout = d } }

// WithRetry sets the first backoff and the number of attempts for a
// throttled or transiently failing mutating call (default 250ms, 5).
func WithRetry(firstBackoff time.Duration, attempts int) Option {
	return func(o *options) { o.retry.Initial, o.retry.Attempts = firstBackoff, max(attempts, 1) }
}

// poll calls check until it reports done, returns an error that is not
// transient, or the verify deadline passes. In the last case timedOut is
// true and err joins the deadline's error with check's last transient one.
func (o options) poll(ctx context.Context, check func(context.Context) (bool, error)) (timedOut bool, err error) {
	vctx, cancel := context.WithTimeout(ctx, o.verifyTimeout)
	defer cancel()
	var last error
	for {
		done, err := check(vctx)
		switch {
		case err == nil && done:
			return false, nil
		case err == nil:
			last = nil
		case backoff.Transient(err) || vctx.Err() != nil:
			last = err
		default:
			return false, err
		}
		if werr := backoff.Wait(vctx, o.pollInterval); werr != nil {
			return true, errors.Join(werr, last)
		}
	}
}
