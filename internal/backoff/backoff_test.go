package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/internal/backoff"
)

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " (test)"}
}

func httpErr(status int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      errors.New("no parseable body"),
	}}
}

func TestTransient(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"throttling", apiErr("Throttling"), true},
		{"EC2 request limit", apiErr("RequestLimitExceeded"), true},
		{"DynamoDB throughput", apiErr("ProvisionedThroughputExceededException"), true},
		{"internal error", apiErr("InternalError"), true},
		{"internal failure", apiErr("InternalFailure"), true},
		{"service unavailable", apiErr("ServiceUnavailable"), true},
		{"unavailable", apiErr("Unavailable"), true},
		{"wrapped throttling", fmt.Errorf("replacing route: %w", apiErr("Throttling")), true},
		{"HTTP 500", httpErr(http.StatusInternalServerError), true},
		{"HTTP 503 wrapped", fmt.Errorf("calling: %w", httpErr(http.StatusServiceUnavailable)), true},
		{"HTTP 400", httpErr(http.StatusBadRequest), false},
		{"not found", apiErr("InvalidRouteTableID.NotFound"), false},
		{"unauthorized", apiErr("UnauthorizedOperation"), false},
		{"plain error", errors.New("boom"), false},
		{"canceled", context.Canceled, false},
	}
	for _, c := range cases {
		if got := backoff.Transient(c.err); got != c.want {
			t.Errorf("%s: Transient(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

func TestDelayDoublesUpToMax(t *testing.T) {
	p := backoff.Policy{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Attempts: 10}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := p.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestDelayFirstWaitIsNotCapped(t *testing.T) {
	p := backoff.Policy{Initial: 8 * time.Second, Max: 5 * time.Second}
	if got := p.Delay(1); got != 8*time.Second {
		t.Errorf("Delay(1) = %v, want the initial 8s", got)
	}
	if got := p.Delay(2); got != 5*time.Second {
		t.Errorf("Delay(2) = %v, want the cap 5s", got)
	}
}

func TestDelayWithoutCapDoesNotOverflow(t *testing.T) {
	p := backoff.Policy{Initial: time.Second}
	if got := p.Delay(4); got != 8*time.Second {
		t.Errorf("Delay(4) = %v, want 8s", got)
	}
	if got := p.Delay(200); got != math.MaxInt64 {
		t.Errorf("Delay(200) = %v, want the largest duration", got)
	}
}

func TestJitterStaysInUpperHalf(t *testing.T) {
	const d = 1000 * time.Nanosecond
	seen := map[time.Duration]bool{}
	for range 2000 {
		j := backoff.Jitter(d)
		if j < d/2 || j > d {
			t.Fatalf("Jitter(%v) = %v, outside [%v, %v]", d, j, d/2, d)
		}
		seen[j] = true
	}
	if len(seen) < 10 {
		t.Errorf("Jitter(%v) gave only %d distinct values in 2000 draws", d, len(seen))
	}
	for _, d := range []time.Duration{0, 1} {
		if got := backoff.Jitter(d); got != d {
			t.Errorf("Jitter(%v) = %v, want it unchanged", d, got)
		}
	}
}

// script returns an op that fails with errs in turn, then succeeds, and
// counts its calls.
func script(calls *int, errs ...error) func(context.Context) error {
	return func(context.Context) error {
		*calls++
		if *calls <= len(errs) {
			return errs[*calls-1]
		}
		return nil
	}
}

func TestRetryUntilSuccess(t *testing.T) {
	calls := 0
	p := backoff.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 5}
	err := backoff.Retry(context.Background(), p, script(&calls, apiErr("Throttling"), httpErr(502)))
	if err != nil || calls != 3 {
		t.Fatalf("Retry: err %v after %d calls, want nil after 3", err, calls)
	}
}

func TestRetryStopsAfterAttempts(t *testing.T) {
	throttled := apiErr("RequestLimitExceeded")
	for _, attempts := range []int{-1, 0, 1, 3} {
		calls := 0
		p := backoff.Policy{Initial: time.Microsecond, Max: time.Microsecond, Attempts: attempts}
		err := backoff.Retry(context.Background(), p, script(&calls, throttled, throttled, throttled, throttled))
		want := max(attempts, 1)
		if calls != want || !errors.Is(err, throttled) {
			t.Errorf("Attempts %d: %d calls, err %v; want %d calls ending in the throttling error", attempts, calls, err, want)
		}
	}
}

func TestRetryGivesUpOnPermanentError(t *testing.T) {
	calls := 0
	denied := apiErr("UnauthorizedOperation")
	p := backoff.Policy{Initial: time.Millisecond, Max: time.Millisecond, Attempts: 5}
	err := backoff.Retry(context.Background(), p, script(&calls, apiErr("InternalError"), denied))
	if calls != 2 || !errors.Is(err, denied) {
		t.Fatalf("Retry: %d calls, err %v; want 2 calls ending in UnauthorizedOperation", calls, err)
	}
}

func TestRetryWaitsLongerEachTime(t *testing.T) {
	calls := 0
	var at []time.Time
	op := func(ctx context.Context) error {
		at = append(at, time.Now())
		return script(&calls, apiErr("Throttling"), apiErr("Throttling"), apiErr("Throttling"))(ctx)
	}
	p := backoff.Policy{Initial: 20 * time.Millisecond, Max: time.Second, Attempts: 4}
	if err := backoff.Retry(context.Background(), p, op); err != nil || calls != 4 {
		t.Fatalf("Retry: err %v after %d calls, want nil after 4", err, calls)
	}
	// Waits are at least half of 20ms, 40ms and 80ms.
	for i, least := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond} {
		if gap := at[i+1].Sub(at[i]); gap < least {
			t.Errorf("wait %d lasted %v, want at least %v", i+1, gap, least)
		}
	}
}

func TestRetryEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	throttled := apiErr("Throttling")
	calls := 0
	op := func(context.Context) error {
		calls++
		cancel() // ends the context before Retry's first wait
		return throttled
	}
	p := backoff.Policy{Initial: time.Hour, Max: time.Hour, Attempts: 5}
	done := make(chan error, 1)
	go func() { done <- backoff.Retry(ctx, p, op) }()
	select {
	case err := <-done:
		if calls != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, throttled) {
			t.Fatalf("Retry: %d calls, err %v; want 1 call, the cancellation joined with the throttling error", calls, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Retry kept waiting after its context was canceled")
	}
}

func TestWait(t *testing.T) {
	if err := backoff.Wait(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := backoff.Wait(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait past the deadline: err %v, want DeadlineExceeded", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("Wait returned %v after the context ended", waited)
	}
}
