package fence

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/switchyard/switchyard/internal/awsapi"
)

const maxBackoff = 5 * time.Second

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
func retry(ctx context.Context, o options, op func(context.Context) error) error {
	delay := o.backoff
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || !transient(err) || attempt >= o.attempts {
			return err
		}
		if werr := wait(ctx, jitter(delay)); werr != nil {
			return errors.Join(werr, err)
		}
		delay = min(2*delay, maxBackoff)
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
