package fence

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/backoff"
	"github.com/switchyard/switchyard/internal/cluster"
)

// defaultStopTimeout applies when cluster.Fence.StopTimeoutSeconds is 0.
const defaultStopTimeout = 120 * time.Second

// Result says what fencing did and what it observed at the end. It is part
// of the fence step's output, so it is plain JSON.
type Result struct {
	Mode string `json:"mode"`
	Node string `json:"node"`
	// Isolation is set when the mode isolates.
	Isolation *IsolationResult `json:"isolation,omitempty"`
	// Stop is set when the mode stops.
	Stop *StopResult `json:"stop,omitempty"`
	// DurationMs is how long fencing took, in milliseconds.
	DurationMs int64 `json:"durationMs"`
}

// IsolationResult is the outcome of isolating a network interface.
type IsolationResult struct {
	NetworkInterfaceID string   `json:"networkInterfaceId"`
	PreviousGroups     []string `json:"previousGroups,omitempty"`
	// Groups are the security groups observed after isolating.
	Groups []string `json:"groups,omitempty"`
	// Changed is false when the interface was isolated already.
	Changed bool `json:"changed"`
	// InterfaceGone is true when the interface no longer exists (it was
	// deleted with its terminated instance): nothing can reach the node
	// through it.
	InterfaceGone bool `json:"interfaceGone,omitempty"`
}

// StopResult is the outcome of stopping an instance.
type StopResult struct {
	InstanceID   string `json:"instanceId"`
	InitialState string `json:"initialState"`
	// FinalState is "stopped" or "terminated" (also for an instance that
	// no longer exists).
	FinalState string `json:"finalState"`
	// StopRequests counts the StopInstances calls made (0 when the
	// instance was already down).
	StopRequests int `json:"stopRequests"`
	Polls        int `json:"polls"`
}

// Option adjusts how fencing waits.
type Option func(*options)

type options struct {
	pollInterval  time.Duration
	verifyTimeout time.Duration
	retry         backoff.Policy
}

func defaults() options {
	return options{pollInterval: 2 * time.Second, verifyTimeout: 30 * time.Second,
		retry: backoff.Policy{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Attempts: 5}}
}

// WithPollInterval sets the pause between two DescribeInstances /
// DescribeNetworkInterfaces polls (default 2s).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithVerifyTimeout bounds how long isolation waits to be observed
// (default 30s).
func WithVerifyTimeout(d time.Duration) Option { return func(o *options) { o.verifyTimeout = d } }

// WithRetry sets the first backoff and the number of attempts for a
// throttled or transiently failing mutating call (default 250ms, 5).
func WithRetry(firstBackoff time.Duration, attempts int) Option {
	return func(o *options) { o.retry.Initial, o.retry.Attempts = firstBackoff, max(attempts, 1) }
}

// Fence fences node as cfg says and returns once it is confirmed. The
// caller bounds the whole call with ctx; the stop wait is further bounded
// by cfg.StopTimeoutSeconds. In isolate-and-stop mode a failed isolation
// ends the call before the stop (the step fails and is retried whole).
// Only a nil error means the node is fenced; retrying after success or
// failure converges.
func Fence(ctx context.Context, ec2 awsapi.EC2API, node cluster.Node, cfg cluster.Fence, opts ...Option) (Result, error) {
	start := time.Now()
	res := Result{Mode: cfg.Mode, Node: node.Name}
	done := func(err error) (Result, error) {
		res.DurationMs = time.Since(start).Milliseconds()
		return res, err
	}
	isolate, stop := false, false
	switch cfg.Mode {
	case cluster.FenceStop:
		stop = true
	case cluster.FenceIsolate:
		isolate = true
	case cluster.FenceIsolateAndStop:
		isolate, stop = true, true
	default:
		return done(fmt.Errorf("fencing node %s: unknown fence mode %q", node.Name, cfg.Mode))
	}
	if isolate {
		iso, err := Isolate(ctx, ec2, node.NetworkInterfaceID, cfg.IsolationSecurityGroupID, opts...)
		res.Isolation = &iso
		if err != nil {
			return done(fmt.Errorf("fencing node %s: %w", node.Name, err))
		}
	}
	if stop {
		timeout := time.Duration(cfg.StopTimeoutSeconds) * time.Second
		if timeout <= 0 {
			timeout = defaultStopTimeout
		}
		st, err := Stop(ctx, ec2, node.InstanceID, timeout, opts...)
		res.Stop = &st
		if err != nil {
			return done(fmt.Errorf("fencing node %s: %w", node.Name, err))
		}
	}
	return done(nil)
}

// sameGroups reports whether groups is exactly the one group want.
func sameGroups(groups []string, want string) bool {
	return len(groups) == 1 && groups[0] == want
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
