package fence

import (
	"fmt"
	"time"
)

// ErrFenceTimeout says the instance was not observed stopped before the
// deadline (cluster.Fence.StopTimeoutSeconds, or the caller's context). The
// node is NOT confirmed fenced: nothing may be promoted.
type ErrFenceTimeout struct {
	InstanceID string
	// LastState is the last instance state observed, "" if none was.
	LastState string
	Waited    time.Duration
	// Err is the context error that ended the wait, joined with the last
	// AWS error seen, if any.
	Err error
}

func (e *ErrFenceTimeout) Error() string {
	last := e.LastState
	if last == "" {
		last = "unknown"
	}
	msg := fmt.Sprintf("instance %s not stopped after %s (last observed state %s)", e.InstanceID, e.Waited.Round(time.Millisecond), last)
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
