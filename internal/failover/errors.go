package failover

import "fmt"

// The handlers' error types. Lambda reports the Go type name as errorType,
// so statemachine/failover.asl.json matches these names in Retry and Catch;
// renaming one is a change of the state machine's contract.

// InputError: the trigger's input is malformed or not for this cluster.
// Nothing was touched.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return "bad input: " + e.Msg }

// TransientError: a dependency failed in a way worth retrying (throttling,
// a timeout, a connection refused). The ASL retries it with backoff.
type TransientError struct {
	Step string
	Err  error
}

func (e *TransientError) Error() string { return fmt.Sprintf("%s: transient: %v", e.Step, e.Err) }
func (e *TransientError) Unwrap() error { return e.Err }

// StepFailed: a step could not do its work and retrying will not help.
type StepFailed struct {
	Step string
	Err  error
}

func (e *StepFailed) Error() string { return fmt.Sprintf("%s failed: %v", e.Step, e.Err) }
func (e *StepFailed) Unwrap() error { return e.Err }

// FenceNotConfirmed: the old primary could not be confirmed fenced, so the
// standby must not be promoted.
type FenceNotConfirmed struct{ Err error }

func (e *FenceNotConfirmed) Error() string { return "fence not confirmed: " + e.Err.Error() }
func (e *FenceNotConfirmed) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}
