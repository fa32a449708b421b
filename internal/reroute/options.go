package reroute

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// Option adjusts concurrency, polling and retries.
type Option func(*options)

type options struct {
	concurrency   int
	pollInterval  time.Duration
	verifyTimeout time.Duration
	backoff       time.Duration
	maxBackoff    time.Duration
	attempts      int
}

func apply(opts []Option) options {
	o := options{
		concurrency:   4,
		pollInterval:  time.Second,
		verifyTimeout: 30 * time.Second,
		backoff:       250 * time.Millisecond,
		maxBackoff:    5 * time.Second,
		attempts:      5,
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
	return func(o *options) { o.backoff, o.attempts = firstBackoff, max(attempts, 1) }
}

// transient reports whether err may go away on its own: throttling, or a
// server-side (5xx) failure.
func transient(err error) bool {
	if err == nil {
		return false
	}
	if awsapi.IsThrottle(err) {
		return true
	}
	switch awsapi.ErrorCode(err) {
	case "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable":
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() >= 500
}

// retry calls op until it succeeds, fails for good, or o.attempts calls
// failed transiently, backing off exponentially with jitter in between.
func (o options) retry(ctx context.Context, op func(context.Context) error) error {
	delay := o.backoff
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || !transient(err) || attempt >= o.attempts {
			return err
		}
		if werr := wait(ctx, jitter(delay)); werr != nil {
			return errors.Join(werr, err)
		}
		delay = min(2*delay, o.maxBackoff)
	}
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
		case transient(err) || vctx.Err() != nil:
			last = err
		default:
			return false, err
		}
		if werr := wait(vctx, o.pollInterval); werr != nil {
			return true, errors.Join(werr, last)
		}
	}
}

// jitter returns a duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half)
}

// wait pauses for d or until ctx ends, whichever is first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
