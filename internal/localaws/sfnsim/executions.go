package sfnsim

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/localaws"
)

// Execution statuses, as Step Functions reports them.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// execution is one run of a state machine. Every field is guarded by the
// Service's mutex.
type execution struct {
	arn, name string
	sm        *stateMachine
	input     string
	status    string
	output    string
	errName   string
	cause     string
	start     time.Time
	stop      time.Time
	events    []historyEvent
	cancel    context.CancelCauseFunc
	settled   chan struct{} // closed when status leaves RUNNING
	stopped   bool          // ended by StopExecution
	inflight  int           // task invocations still running
}

// ExecutionInfo is an in-process snapshot of an execution.
type ExecutionInfo struct {
	ARN             string
	StateMachineARN string
	Name            string
	Status          string // RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED
	Input           json.RawMessage
	Output          json.RawMessage // set when SUCCEEDED
	Error, Cause    string          // set when FAILED, TIMED_OUT or ABORTED (if given)
	StartDate       time.Time
	StopDate        time.Time // zero while RUNNING
}

func (ex *execution) info() ExecutionInfo {
	i := ExecutionInfo{ARN: ex.arn, StateMachineARN: ex.sm.arn, Name: ex.name, Status: ex.status,
		Input: json.RawMessage(ex.input), Error: ex.errName, Cause: ex.cause, StartDate: ex.start, StopDate: ex.stop}
	if ex.status == StatusSucceeded {
		i.Output = json.RawMessage(ex.output)
	}
	return i
}

// Start starts an execution in process, exactly as StartExecution does
// (name idempotency included; an empty name is a new UUID), and returns its
// ARN. The execution does not depend on ctx: it runs until it ends, is
// stopped or the Service is closed. Errors are *localaws.APIError with Step
// Functions' codes. The local EventBridge uses it as a rule target.
func (s *Service) Start(_ context.Context, stateMachineArn, name string, input []byte) (string, error) {
	var in *string
	if input != nil {
		str := string(input)
		in = &str
	}
	ex, err := s.startAndPublish(stateMachineArn, name, in)
	if err != nil {
		return "", err
	}
	return ex.arn, nil
}

// WaitExecution blocks until the execution leaves RUNNING, or ctx ends, and
// returns its status.
func (s *Service) WaitExecution(ctx context.Context, executionArn string) (string, error) {
	s.mu.Lock()
	ex, err := s.execution(executionArn)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	select {
	case <-ex.settled:
	default:
		select {
		case <-ex.settled:
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for execution %s: %w", executionArn, ctx.Err())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return ex.status, nil
}

// Execution returns a snapshot of the execution with the ARN.
func (s *Service) Execution(executionArn string) (ExecutionInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, ok := s.executions[executionArn]
	if !ok {
		return ExecutionInfo{}, false
	}
	return ex.info(), true
}

// Executions returns snapshots of the state machine's executions, oldest
// first; nil for an unknown state machine.
func (s *Service) Executions(stateMachineArn string) []ExecutionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, ok := s.machines[stateMachineArn]
	if !ok {
		return nil
	}
	out := make([]ExecutionInfo, len(sm.executions))
	for i, ex := range sm.executions {
		out[i] = ex.info()
	}
	return out
}

// maxInputBytes is the longest execution input Step Functions accepts, in
// UTF-8 bytes (256 KiB).
const maxInputBytes = 262144

// startAndPublish starts an execution as StartExecution does and publishes
// its RUNNING event before the execution can change status again.
func (s *Service) startAndPublish(machineArn, name string, input *string) (*execution, error) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	ex, event, launch, err := s.start(machineArn, name, input)
	if err != nil {
		return nil, err
	}
	s.publish(event)
	if launch != nil {
		go launch()
	}
	return ex, nil
}

// start creates the execution and returns its RUNNING event and the
// function that runs it; a repeated request for a running execution
// returns that execution, no event and no function.
func (s *Service) start(machineArn, name string, input *string) (*execution, []byte, func(), error) {
	in := "{}"
	if input != nil {
		in = *input
	}
	// A modelled length constraint: the SDK's ValidationException, checked
	// before anything else and before anything is created.
	if len(in) > maxInputBytes {
		return nil, nil, nil, localaws.BadRequest("ValidationException",
			"1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to %d", maxInputBytes)
	}
	if !json.Valid([]byte(in)) {
		return nil, nil, nil, localaws.BadRequest("InvalidExecutionInput", "Invalid State Machine Execution Input: 'the input is not valid JSON: %.100s'", in)
	}
	if name == "" {
		name = newUUID()
	} else if err := checkName(name); err != nil {
		return nil, nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, err := s.machine(machineArn)
	if err != nil {
		return nil, nil, nil, err
	}
	arn := s.executionArn(sm.name, name)
	if ex, ok := s.executions[arn]; ok {
		// Standard workflows: the same name and input while the execution
		// runs is the same request; anything else reuses a name.
		if ex.status == StatusRunning && ex.input == in {
			return ex, nil, nil, nil
		}
		return nil, nil, nil, localaws.BadRequest("ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
	}
	ctx, cancel := context.WithCancelCause(s.baseCtx)
	ex := &execution{arn: arn, name: name, sm: sm, input: in, status: StatusRunning, start: s.opts.Now(),
		cancel: cancel, settled: make(chan struct{})}
	ex.record(historyEvent{typ: "ExecutionStarted", at: ex.start, detailsKey: "executionStartedEventDetails",
		details: map[string]any{"input": in, "inputDetails": notTruncated, "roleArn": sm.roleArn}})
	s.executions[arn] = ex
	sm.executions = append(sm.executions, ex)
	s.running.Add(1)
	info := asl.ExecutionInfo{ID: arn, Name: name, StateMachineID: sm.arn, StateMachineName: sm.name, RoleArn: sm.roleArn}
	return ex, s.statusEventLocked(ex), func() { s.run(ctx, ex, sm.machine, info) }, nil
}

func (s *Service) run(ctx context.Context, ex *execution, m *asl.Machine, info asl.ExecutionInfo) {
	defer s.running.Done()
	defer ex.cancel(nil)
	out, err := m.Run(ctx, json.RawMessage(ex.input), asl.Options{
		Tasks:        s.resolver(ex),
		Sleep:        s.opts.Sleep,
		TimeoutSleep: s.opts.TimeoutSleep,
		Now:          s.opts.Now,
		OnEvent:      func(e asl.Event) { s.recordEvent(ex, e) },
		Execution:    info,
	})
	s.finish(ex, out, err)
}

// finish records how Run ended, unless the execution was stopped
// meanwhile, and publishes the status change.
func (s *Service) finish(ex *execution, out json.RawMessage, err error) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.publish(s.finishLocked(ex, out, err))
}

// finishLocked records how Run ended and returns the status change event;
// nil if the execution was stopped meanwhile. s.pubMu is held.
func (s *Service) finishLocked(ex *execution, out json.RawMessage, err error) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ex.status != StatusRunning {
		return nil
	}
	ex.stop = s.opts.Now()
	if err == nil {
		if out == nil {
			out = json.RawMessage("null")
		}
		ex.status, ex.output = StatusSucceeded, string(out)
		ex.record(historyEvent{typ: "ExecutionSucceeded", at: ex.stop, detailsKey: "executionSucceededEventDetails",
			details: map[string]any{"output": ex.output, "outputDetails": notTruncated}})
		close(ex.settled)
		return s.statusEventLocked(ex)
	}
	ex.status, ex.errName, ex.cause = StatusFailed, "States.Runtime", err.Error()
	var ee *asl.ExecutionError
	if errors.As(err, &ee) {
		ex.errName, ex.cause = ee.ErrorName, ee.Cause
		switch ee.Status {
		case asl.StatusTimedOut:
			ex.status = StatusTimedOut
		case asl.StatusAborted: // the Service was closed
			ex.status = StatusAborted
		}
	}
	typ := map[string]string{StatusFailed: "ExecutionFailed", StatusTimedOut: "ExecutionTimedOut", StatusAborted: "ExecutionAborted"}[ex.status]
	ex.record(historyEvent{typ: typ, at: ex.stop, detailsKey: detailsKey(typ), details: errorDetails(ex.errName, ex.cause)})
	close(ex.settled)
	return s.statusEventLocked(ex)
}

func errorDetails(errName, cause string) map[string]any {
	d := map[string]any{}
	if errName != "" {
		d["error"] = errName
	}
	if cause != "" {
		d["cause"] = cause
	}
	return d
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// execution returns the execution with the ARN. s.mu is held.
func (s *Service) execution(arn string) (*execution, error) {
	if err := checkArn(arn, "execution"); err != nil {
		return nil, err
	}
	ex, ok := s.executions[arn]
	if !ok {
		return nil, localaws.BadRequest("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	return ex, nil
}

func (s *Service) startExecution(call *localaws.Call) (any, error) {
	var in struct {
		StateMachineArn string  `json:"stateMachineArn"`
		Name            string  `json:"name"`
		Input           *string `json:"input"`
	}
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.StateMachineArn)
	ex, err := s.startAndPublish(in.StateMachineArn, in.Name, in.Input)
	if err != nil {
		return nil, err
	}
	call.AddResource(ex.arn)
	return map[string]any{"executionArn": ex.arn, "startDate": epoch(ex.start)}, nil
}

type executionArnInput struct {
	ExecutionArn string `json:"executionArn"`
}

func (s *Service) describeExecution(call *localaws.Call) (any, error) {
	var in executionArnInput
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.ExecutionArn)
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, err := s.execution(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	out := executionListItem(ex)
	out["input"] = ex.input
	out["inputDetails"] = map[string]any{"included": true}
	if ex.status == StatusSucceeded {
		out["output"] = ex.output
		out["outputDetails"] = map[string]any{"included": true}
	}
	for k, v := range errorDetails(ex.errName, ex.cause) {
		out[k] = v
	}
	return out, nil
}

func executionListItem(ex *execution) map[string]any {
	out := map[string]any{"executionArn": ex.arn, "stateMachineArn": ex.sm.arn, "name": ex.name,
		"status": ex.status, "startDate": epoch(ex.start)}
	if ex.status != StatusRunning {
		out["stopDate"] = epoch(ex.stop)
	}
	return out
}

func (s *Service) listExecutions(call *localaws.Call) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		StatusFilter    string `json:"statusFilter"`
		MaxResults      int    `json:"maxResults"`
		NextToken       string `json:"nextToken"`
	}
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.StateMachineArn)
	switch in.StatusFilter {
	case "", StatusRunning, StatusSucceeded, StatusFailed, StatusTimedOut, StatusAborted, "PENDING_REDRIVE":
	default:
		return nil, localaws.BadRequest("ValidationException",
			"1 validation error detected: Value '%s' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]", in.StatusFilter)
	}
	s.mu.Lock()
	sm, err := s.machine(in.StateMachineArn)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var items []map[string]any
	for _, ex := range slices.Backward(sm.executions) {
		if in.StatusFilter == "" || in.StatusFilter == ex.status {
			items = append(items, executionListItem(ex))
		}
	}
	s.mu.Unlock()
	page, next, err := paginate(items, func(m map[string]any) string { return m["executionArn"].(string) }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []map[string]any{}
	}
	out := map[string]any{"executions": page}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Service) stopExecution(call *localaws.Call) (any, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
		Error        string `json:"error"`
		Cause        string `json:"cause"`
	}
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.ExecutionArn)
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	stop, event, err := s.stop(in.ExecutionArn, in.Error, in.Cause)
	if err != nil {
		return nil, err
	}
	s.publish(event)
	return map[string]any{"stopDate": epoch(stop)}, nil
}

// stop marks a running execution ABORTED at once, as StopExecution does,
// and returns its stop date and status change event (nil when it had
// already ended: stopping it changes nothing). The execution's goroutine
// is cancelled, but a Lambda task it is running runs on to its end and its
// result is discarded (see resolver). s.pubMu is held.
func (s *Service) stop(arn, errName, cause string) (time.Time, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, err := s.execution(arn)
	if err != nil {
		return time.Time{}, nil, err
	}
	if ex.status != StatusRunning {
		return ex.stop, nil, nil
	}
	ex.status, ex.errName, ex.cause, ex.stop, ex.stopped = StatusAborted, errName, cause, s.opts.Now(), true
	ex.record(historyEvent{typ: "ExecutionAborted", at: ex.stop, detailsKey: "executionAbortedEventDetails",
		details: errorDetails(errName, cause)})
	ex.cancel(errStopped)
	close(ex.settled)
	return ex.stop, s.statusEventLocked(ex), nil
}
