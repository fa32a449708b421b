package fence

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/switchyard/switchyard/internal/backoff"
	"github.com/switchyard/switchyard/internal/cluster"
)

// Defaults that apply when the cluster config leaves a field at 0.
const (
	defaultStopTimeout = 120 * time.Second
	defaultNeeded      = cluster.DefaultFenceConfirmObservations
)

// modeIsolate is the fence mode that is no longer offered (ErrNotAFence).
const modeIsolate = "isolate"

// Result says what fencing did and what it observed. It is part of the
// fence step's output, so it is plain JSON.
type Result struct {
	Mode string `json:"mode"`
	Node string `json:"node"`
	// Isolation is set when the mode isolates (best effort, never proof).
	Isolation *IsolationResult `json:"isolation,omitempty"`
	// Stop is the hard stop and its confirmation.
	Stop *StopResult `json:"stop,omitempty"`
	// DurationMs is how long fencing took, in milliseconds.
	DurationMs int64 `json:"durationMs"`
}

// IsolationResult is the outcome of isolating a network interface.
type IsolationResult struct {
	NetworkInterfaceID string `json:"networkInterfaceId"`
	// PreviousGroups are the groups observed before isolating (possibly a
	// stale read; for restoring the node later).
	PreviousGroups []string `json:"previousGroups,omitempty"`
	// Groups are the security groups observed after isolating (Isolate
	// only: HardStop does not wait to observe them).
	Groups []string `json:"groups,omitempty"`
	// Changed is true when ModifyNetworkInterfaceAttribute was accepted.
	Changed bool `json:"changed"`
	// Error is why a best-effort isolation failed; the stop went ahead.
	Error string `json:"error,omitempty"`
}

// StopResult is the outcome of the hard stop and its confirmation.
type StopResult struct {
	InstanceID string `json:"instanceId"`
	// InitialState and FinalState are the first and last instance states
	// DescribeInstances showed ("" when none did).
	InitialState string `json:"initialState"`
	FinalState   string `json:"finalState"`
	// StopRequests counts the StopInstances calls made (throttled retries
	// of one call count once); StopAccepted says one was accepted.
	StopRequests int  `json:"stopRequests"`
	StopAccepted bool `json:"stopAccepted"`
	// Polls counts the DescribeInstances calls made.
	Polls int `json:"polls"`
	// Consecutive of Needed consistent observations held at the end.
	Consecutive int `json:"consecutive"`
	Needed      int `json:"needed"`
	// NotProof counts NotFound and empty answers: each reset Consecutive.
	NotProof int `json:"notProof"`
	// ProbeAnswered counts the times the old PostgreSQL still answered and
	// vetoed the confirmation.
	ProbeAnswered int `json:"probeAnswered"`
	// Confirmed is true when the fence was confirmed; ProbeError is then
	// how the final probe failed.
	Confirmed  bool   `json:"confirmed"`
	ProbeError string `json:"probeError,omitempty"`
	// Observations are the last maxObservations observations, oldest
	// first; DroppedObservations says how many older ones were left out.
	Observations        []Observation `json:"observations"`
	DroppedObservations int           `json:"droppedObservations,omitempty"`
}

// maxObservations bounds StopResult.Observations (a step's output must
// stay small).
const maxObservations = 40

// ObservationKind says what one observation saw.
type ObservationKind string

// Kinds of observation.
const (
	// ObservedStopAccepted: StopInstances with Force and SkipOsShutdown was
	// accepted.
	ObservedStopAccepted ObservationKind = "stop-accepted"
	// ObservedStopRefused: StopInstances answered IncorrectInstanceState
	// (pending, shutting-down or terminated) or NotFound (not proof).
	ObservedStopRefused ObservationKind = "stop-refused"
	// ObservedDown: stopping, stopped, shutting-down or terminated, after an
	// accepted stop (or terminal): counted.
	ObservedDown ObservationKind = "down"
	// ObservedDownBeforeStop: stopping or stopped before any forced stop
	// was accepted: not counted (a stale read can show an earlier stop).
	ObservedDownBeforeStop ObservationKind = "down-before-stop"
	// ObservedUp: pending or running; the count restarts and the stop is
	// sent again.
	ObservedUp ObservationKind = "up"
	// ObservedNotFound and ObservedEmpty: InvalidInstanceID.NotFound or an
	// answer without the instance. Never proof; the count restarts.
	ObservedNotFound ObservationKind = "not-found"
	ObservedEmpty    ObservationKind = "empty"
	// ObservedAWSError: a throttled or failed call, retried; the count is
	// left as it was (nothing was observed).
	ObservedAWSError ObservationKind = "aws-error"
	// ObservedProbeAnswered: the old PostgreSQL still answered: veto.
	ObservedProbeAnswered ObservationKind = "probe-answered"
	// ObservedProbeFailed: it did not: with enough observations, confirmed.
	ObservedProbeFailed ObservationKind = "probe-failed"
)

func (k ObservationKind) String() string { return string(k) }

// Observation is one thing fencing saw.
type Observation struct {
	At   time.Time       `json:"at"`
	Kind ObservationKind `json:"kind"`
	// State is the instance state shown, for describe observations.
	State string `json:"state,omitempty"`
	// Consecutive is the count of consistent observations after this one.
	Consecutive int    `json:"consecutive"`
	Detail      string `json:"detail,omitempty"`
}

// Option adjusts how fencing waits.
type Option func(*options)

type options struct {
	pollInterval  time.Duration
	verifyTimeout time.Duration
	probeTimeout  time.Duration
	retry         backoff.Policy
	log           *slog.Logger
	probe         Probe
}

func defaults() options {
	return options{pollInterval: 2 * time.Second, verifyTimeout: 30 * time.Second, probeTimeout: 5 * time.Second,
		retry: backoff.Policy{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Attempts: 5}}
}

func apply(opts []Option) options {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	return o
}

// WithPollInterval sets the pause between two DescribeInstances /
// DescribeNetworkInterfaces polls (default 2s). The consistent
// observations a hard stop needs are spaced by it.
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithVerifyTimeout bounds how long Isolate waits to observe the isolation
// (default 30s).
func WithVerifyTimeout(d time.Duration) Option { return func(o *options) { o.verifyTimeout = d } }

// WithProbeTimeout bounds each probe of the old PostgreSQL (default 5s);
// a probe that runs out of time counts as not answering.
func WithProbeTimeout(d time.Duration) Option { return func(o *options) { o.probeTimeout = d } }

// WithRetry sets the first backoff and the number of attempts for a
// throttled or transiently failing mutating call (default 250ms, 5).
func WithRetry(firstBackoff time.Duration, attempts int) Option {
	return func(o *options) { o.retry.Initial, o.retry.Attempts = firstBackoff, max(attempts, 1) }
}

// WithLogger sets where fencing logs what it observes (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithProbe sets the probe Fence uses instead of
// PostgresProbe(node.PostgresAddr). HardStop takes its probe as an argument
// and ignores this option.
func WithProbe(p Probe) Option { return func(o *options) { o.probe = p } }

// HardStop fences node and returns once the fence is confirmed; it is what
// the Fence step calls before anything is promoted (invariant 1).
//
// It sends StopInstances with Force and SkipOsShutdown and confirms the
// stop only by consistent observations over time: cfg.ConfirmObservations
// (default 3) DescribeInstances reads in a row, spaced by the poll
// interval, all showing the instance stopping, stopped, shutting-down or
// terminated, made after the stop was accepted (shutting-down and
// terminated count without one: no later state can run); then probe must
// fail. A NotFound or empty answer is never proof: it restarts the count.
// A probe that answers vetoes; it is asked again after the next
// consistent observation. Running or pending restarts the count and sends
// the stop again.
//
// In mode isolate-and-stop the node's interface is first moved to
// cfg.IsolationSecurityGroupID, best effort: a failure is recorded in the
// result and the stop goes ahead. Mode isolate is refused (ErrNotAFence);
// "" means stop.
//
// The whole call is bounded by cfg.StopTimeoutSeconds (default 120) and by
// ctx. Errors: *ErrFenceTimeout when not confirmed in time (throttling
// that never let up included: see its Err); ErrNoProbe, ErrNotAFence or a
// missing instance id before anything is called; a permanent AWS error
// (UnauthorizedOperation, say) wrapped with context. Only a nil error
// means the node is fenced. Calling again after success or failure
// converges: a stopped instance accepts another forced stop.
func HardStop(ctx context.Context, api EC2API, node cluster.Node, cfg cluster.Fence, probe Probe, opts ...Option) (Result, error) {
	o := apply(opts)
	start := time.Now()
	res := Result{Mode: cfg.Mode, Node: node.Name}
	done := func(err error) (Result, error) {
		res.DurationMs = time.Since(start).Milliseconds()
		return res, err
	}
	isolate := false
	switch cfg.Mode {
	case cluster.FenceStop, "":
		res.Mode = cluster.FenceStop
	case cluster.FenceIsolateAndStop:
		isolate = true
	case modeIsolate:
		return done(fmt.Errorf("fencing node %s: mode %q: %w: security group changes keep open connections", node.Name, cfg.Mode, ErrNotAFence))
	default:
		return done(fmt.Errorf("fencing node %s: unknown fence mode %q", node.Name, cfg.Mode))
	}
	switch {
	case probe == nil:
		return done(fmt.Errorf("fencing node %s: %w", node.Name, ErrNoProbe))
	case node.InstanceID == "":
		return done(fmt.Errorf("fencing node %s: no instance id", node.Name))
	}
	timeout := time.Duration(cfg.StopTimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = defaultStopTimeout
	}
	needed := cfg.ConfirmObservations
	if needed <= 0 {
		needed = defaultNeeded
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if isolate {
		iso := isolateBestEffort(wctx, api, node.NetworkInterfaceID, cfg.IsolationSecurityGroupID, o)
		res.Isolation = &iso
	}
	st, err := confirmStop(wctx, api, node.InstanceID, needed, probe, o, start)
	res.Stop = &st
	if err != nil {
		return done(fmt.Errorf("fencing node %s: %w", node.Name, err))
	}
	return done(nil)
}

// Fence is HardStop with the probe set by WithProbe, or else
// PostgresProbe(node.PostgresAddr). It keeps the signature the Fence step
// has always called.
func Fence(ctx context.Context, api EC2API, node cluster.Node, cfg cluster.Fence, opts ...Option) (Result, error) {
	probe := apply(opts).probe
	if probe == nil && node.PostgresAddr != "" {
		probe = PostgresProbe(node.PostgresAddr)
	}
	return HardStop(ctx, api, node, cfg, probe, opts...)
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
