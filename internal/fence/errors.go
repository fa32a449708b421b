package fence

import (
	"errors"
	"fmt"
	"time"
)

// ErrNoProbe says HardStop was called without a probe of the old
// primary's PostgreSQL: without one nothing can be confirmed.
var ErrNoProbe = errors.New("no probe of the old primary's PostgreSQL: a fence cannot be confirmed without one")

// ErrNotAFence says the configured fence mode cannot confirm a fence.
// "isolate" is one: security groups are stateful, so replacing them does
// not end connections already open and pooled clients keep writing to the
// old primary.
var ErrNotAFence = errors.New("fence mode cannot confirm a fence")

// ErrFenceTimeout says the fence was not confirmed before the deadline
// (cluster.Fence.StopTimeoutSeconds, or the caller's context). The node is
// NOT confirmed fenced: nothing may be promoted. The fields say what was
// missing; Err is the context error joined with the last AWS error seen
// (throttling, say), if any.
type ErrFenceTimeout struct {
	InstanceID string
	// LastState is the last instance state observed, "" if none was.
	LastState string
	Waited    time.Duration
	// StopAccepted is true once a StopInstances with Force and
	// SkipOsShutdown was accepted.
	StopAccepted bool
	// Consecutive of Needed consistent observations were made at the end.
	Consecutive, Needed int
	// NotProof counts NotFound and empty answers (each reset the count).
	NotProof int
	// ProbeAnswered counts the times the old PostgreSQL still answered.
	ProbeAnswered int
	Err           error
}

func (e *ErrFenceTimeout) Error() string {
	last := e.LastState
	if last == "" {
		last = "unknown"
	}
	msg := fmt.Sprintf("instance %s not confirmed fenced after %s (last observed state %s, %d of %d consistent observations",
		e.InstanceID, e.Waited.Round(time.Millisecond), last, e.Consecutive, e.Needed)
	if !e.StopAccepted {
		msg += ", no forced stop accepted"
	}
	if e.NotProof > 0 {
		msg += fmt.Sprintf(", %d NotFound or empty answers, not proof", e.NotProof)
	}
	if e.ProbeAnswered > 0 {
		msg += fmt.Sprintf(", its PostgreSQL still answered %d times", e.ProbeAnswered)
	}
	msg += ")"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *ErrFenceTimeout) Unwrap() error { return e.Err }

// ErrIsolationNotConfirmed says the network interface was not observed
// with only the isolation group before the verification deadline.
type ErrIsolationNotConfirmed struct {
	NetworkInterfaceID string
	GroupID            string
	// Groups is what was observed last.
	Groups []string
	Err    error
}

func (e *ErrIsolationNotConfirmed) Error() string {
	msg := fmt.Sprintf("network interface %s not observed isolated in %s (groups %v)", e.NetworkInterfaceID, e.GroupID, e.Groups)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *ErrIsolationNotConfirmed) Unwrap() error { return e.Err }
