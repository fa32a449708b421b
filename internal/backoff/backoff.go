package backoff

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// Policy says how often and how patiently Retry calls an operation.
type Policy struct {
	// Initial is the wait after the first failure.
	Initial time.Duration
	// Max caps the waits after later failures (not the first); zero or
	// less means no cap.
	Max time.Duration
	// Attempts is the most calls Retry makes; less than 1 counts as 1.
	Attempts int
}

// Delay returns the wait, before jitter, that follows failed call n (n >= 1):
// Initial after the first, then double the previous wait, capped at Max.
func (p Policy) Delay(n int) time.Duration {
	d := p.Initial
	for i := 1; i < n; i++ {
		if d > math.MaxInt64/2 {
			d = math.MaxInt64 // doubling would overflow
		} else {
			d *= 2
		}
		if p.Max > 0 && d >= p.Max {
			return p.Max
		}
	}
	return d
}

// Retry calls op until it returns nil, returns an error that is not
// Transient, or has been called p.Attempts times, waiting Jitter(p.Delay(n))
// after failed call n. It returns op's last error, or, when ctx ends
// during a wait, ctx's error joined with op's last error.
func Retry(ctx context.Context, p Policy, op func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || !Transient(err) || attempt >= p.Attempts {
			return err
		}
		if werr := Wait(ctx, Jitter(p.Delay(attempt))); werr != nil {
			return errors.Join(werr, err)
		}
	}
}

// Transient reports whether err may go away on its own: throttling, or a
// server-side (5xx) failure.
func Transient(err error) bool {
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

// Jitter returns a random duration between d/2 and d.
func Jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half)
}

// Wait pauses for d or until ctx ends, whichever is first. It returns
// ctx's error when ctx ended first.
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
