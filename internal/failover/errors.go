package failover

import (
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/internal/store"
)

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

// LockLost: the execution no longer holds the failover lock of its epoch
// (another execution took over, or the lock was released). The step did
// nothing; retrying cannot help.
type LockLost struct{ Err error }

func (e *LockLost) Error() string { return "failover lock lost: " + e.Err.Error() }
func (e *LockLost) Unwrap() error { return e.Err }

// lockErr turns the store's lock and fence refusals into the named errors of
// the state machine's contract; other errors are classified as usual.
func lockErr(step string, err error) error {
	var lost *store.ErrLockLost
	var notFenced *store.ErrNotFenced
	var notEligible *store.ErrNotEligible
	switch {
	case errors.As(err, &notEligible):
		return &StepFailed{Step: step, Err: err}
	case errors.As(err, &lost):
		return &LockLost{Err: fmt.Errorf("%s: %w", step, err)}
	case errors.As(err, &notFenced):
		return &FenceNotConfirmed{Err: fmt.Errorf("%s: %w", step, err)}
	}
	return classify(step, err)
}
