package asl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// TaskFunc is an in-process Task resource, typically a Lambda handler. It
// receives the state's effective input (for lambda:invoke, the Payload) and
// returns the task result. ctx ends when the task times out or the execution
// is aborted.
type TaskFunc func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// Options configure one execution. All fields are optional.
type Options struct {
	// Tasks resolves a Task's Resource (a Lambda function ARN or any other
	// ARN) or, for "arn:aws:states:::lambda:invoke", the FunctionName
	// parameter exactly as the definition evaluates it.
	Tasks func(resource string) (TaskFunc, bool)
	// Sleep waits for Wait states and Retry intervals; nil means real time.
	Sleep func(ctx context.Context, d time.Duration) error
	// TimeoutSleep waits out TimeoutSeconds of tasks and of the execution;
	// nil means real time. It is separate from Sleep so that a fake Sleep
	// returning at once does not fire every timeout at once.
	TimeoutSleep func(ctx context.Context, d time.Duration) error
	// Now tells the time for events, the context object and Wait timestamps;
	// nil means time.Now.
	Now func() time.Time
	// Random returns a number in [0,1) for JitterStrategy FULL; nil means
	// math/rand.
	Random func() float64
	// OnEvent receives history events as they happen. Calls are serialised,
	// also for concurrent Parallel branches and Map iterations.
	OnEvent func(Event)
	// Execution names the execution in the context object ($$.Execution,
	// $$.StateMachine); empty fields get local defaults.
	Execution ExecutionInfo
}

// ExecutionInfo identifies an execution for the context object.
type ExecutionInfo struct {
	ID               string // execution ARN
	Name             string
	StateMachineID   string // state machine ARN
	StateMachineName string
	RoleArn          string
}

// Event is one execution history event, named like Step Functions' history
// event types (ExecutionStarted, TaskStateEntered, LambdaFunctionSucceeded,
// MapIterationStarted, ...).
type Event struct {
	Type      string
	StateName string // the state the event belongs to; "" for execution events
	Resource  string // Task resource (for lambda:invoke the integration ARN)
	Input     json.RawMessage
	Output    json.RawMessage
	Error     string
	Cause     string
	Index     int // Map iteration index for MapIteration* events
	Timestamp time.Time
}

// Execution statuses reported in ExecutionError.Status, as Step Functions
// names them.
const (
	StatusFailed   = "FAILED"
	StatusTimedOut = "TIMED_OUT"
	StatusAborted  = "ABORTED"
)

// ExecutionError is how an execution that did not succeed ends: failed with
// an error name and cause, timed out (States.Timeout) or aborted because the
// context of Run ended. (The brief's field "Error" is ErrorName here: Go does
// not allow a field and the Error method to share a name.)
type ExecutionError struct {
	ErrorName string
	Cause     string
	Status    string // StatusFailed, StatusTimedOut or StatusAborted
	err       error  // the context's cause for aborted executions
}

// Error implements error.
func (e *ExecutionError) Error() string {
	if e.Cause == "" {
		return fmt.Sprintf("execution %s: %s", e.Status, e.ErrorName)
	}
	return fmt.Sprintf("execution %s: %s: %s", e.Status, e.ErrorName, e.Cause)
}

// Unwrap returns the context error that aborted the execution, if any.
func (e *ExecutionError) Unwrap() error { return e.err }

var (
	errExecutionTimedOut = errors.New("asl: execution timed out")
	errTaskTimedOut      = errors.New("asl: task timed out")
)

// Run executes the machine to completion with the given input (empty means
// {}) and returns the execution's output. An execution that fails, times out
// or is aborted returns an *ExecutionError. Cancelling ctx aborts the
// execution; if context.Cause(ctx) is an *ExecutionError its ErrorName and
// Cause are reported (as StopExecution's error and cause).
func (m *Machine) Run(ctx context.Context, input json.RawMessage, opts Options) (json.RawMessage, error) {
	if len(bytes.TrimSpace(input)) == 0 {
		input = json.RawMessage("{}")
	}
	in, err := decodeValue(input)
	if err != nil {
		return nil, fmt.Errorf("asl: execution input is not valid JSON: %w", err)
	}
	r := newRunner(m, opts, in)
	r.emit(Event{Type: "ExecutionStarted", Input: r.raw(in)})

	execCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if m.timeoutSeconds > 0 {
		go func() {
			if r.opts.TimeoutSleep(execCtx, time.Duration(m.timeoutSeconds)*time.Second) == nil {
				cancel(errExecutionTimedOut)
			}
		}()
	}
	out, f := r.runScope(execCtx, m.root, in)
	switch {
	case f == nil && execCtx.Err() == nil:
		b := r.raw(out)
		r.emit(Event{Type: "ExecutionSucceeded", Output: b})
		return b, nil
	case ctx.Err() == nil && errors.Is(context.Cause(execCtx), errExecutionTimedOut):
		e := &ExecutionError{ErrorName: StatesTimeout, Status: StatusTimedOut,
			Cause: fmt.Sprintf("The execution exceeded its TimeoutSeconds of %d", m.timeoutSeconds)}
		r.emit(Event{Type: "ExecutionTimedOut", Error: e.ErrorName, Cause: e.Cause})
		return nil, e
	case ctx.Err() != nil || f == nil || f.aborted:
		e := &ExecutionError{Status: StatusAborted, err: context.Cause(ctx)}
		var stop *ExecutionError
		if errors.As(context.Cause(ctx), &stop) {
			e.ErrorName, e.Cause = stop.ErrorName, stop.Cause
		}
		r.emit(Event{Type: "ExecutionAborted", Error: e.ErrorName, Cause: e.Cause})
		return nil, e
	}
	r.emit(Event{Type: "ExecutionFailed", Error: f.name, Cause: f.cause})
	return nil, &ExecutionError{ErrorName: f.name, Cause: f.cause, Status: StatusFailed}
}

// runner holds what one execution shares across its states and branches.
type runner struct {
	m            *Machine
	opts         Options
	execution    map[string]any // $$.Execution
	stateMachine map[string]any // $$.StateMachine
	mu           sync.Mutex     // serialises OnEvent
}

func newRunner(m *Machine, opts Options, input any) *runner {
	if opts.Sleep == nil {
		opts.Sleep = realSleep
	}
	if opts.TimeoutSleep == nil {
		opts.TimeoutSleep = realSleep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Random == nil {
		opts.Random = rand.Float64
	}
	ex := opts.Execution
	if ex.Name == "" {
		ex.Name = newUUID()
	}
	if ex.StateMachineName == "" {
		ex.StateMachineName = "StateMachine"
	}
	if ex.StateMachineID == "" {
		ex.StateMachineID = "arn:aws:states:us-east-1:123456789012:stateMachine:" + ex.StateMachineName
	}
	if ex.ID == "" {
		ex.ID = "arn:aws:states:us-east-1:123456789012:execution:" + ex.StateMachineName + ":" + ex.Name
	}
	if ex.RoleArn == "" {
		ex.RoleArn = "arn:aws:iam::123456789012:role/StatesExecutionRole"
	}
	return &runner{
		m:    m,
		opts: opts,
		execution: map[string]any{
			"Id": ex.ID, "Name": ex.Name, "Input": input, "RoleArn": ex.RoleArn,
			"StartTime": formatTime(opts.Now()), "RedriveCount": json.Number("0"),
		},
		stateMachine: map[string]any{"Id": ex.StateMachineID, "Name": ex.StateMachineName},
	}
}

func realSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// formatTime renders a time as the context object does (UTC, milliseconds).
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (r *runner) emit(e Event) {
	if r.opts.OnEvent == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Timestamp = r.opts.Now()
	r.opts.OnEvent(e)
}

// raw encodes a value for an event or the execution output.
func (r *runner) raw(v any) json.RawMessage {
	b, err := encodeValue(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

type mapItem struct {
	index int
	value any
}

// contextObject builds "$$" for a state.
func (r *runner) contextObject(st *state, entered time.Time, retryCount int64, item *mapItem) map[string]any {
	c := map[string]any{
		"Execution":    r.execution,
		"StateMachine": r.stateMachine,
		"State": map[string]any{
			"Name": st.name, "EnteredTime": formatTime(entered), "RetryCount": number(retryCount),
		},
	}
	if item != nil {
		c["Map"] = map[string]any{"Item": map[string]any{"Index": number(int64(item.index)), "Value": item.value}}
	}
	return c
}
