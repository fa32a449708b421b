package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// NamedError is an error a TaskFunc can return to fail the task with a
// chosen error name, as a Lambda function does with a custom errorType.
type NamedError struct {
	Name    string
	Message string
}

// Error implements error.
func (e *NamedError) Error() string { return e.Name + ": " + e.Message }

// ErrorType names a handler error the way Step Functions sees a Go Lambda
// function's error: the Name of a *NamedError or the Type of a
// messages.InvokeResponse_Error found in the chain, otherwise the Go type
// name of err itself as aws-lambda-go reports it (pointer element, no
// package: errors.New gives "errorString", fmt.Errorf with %w "wrapError").
func ErrorType(err error) string {
	var named *NamedError
	if errors.As(err, &named) {
		return named.Name
	}
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return ive.Type
	}
	var ivp *messages.InvokeResponse_Error
	if errors.As(err, &ivp) && ivp != nil {
		return ivp.Type
	}
	var p *panicError
	if errors.As(err, &p) {
		return goTypeName(p.value)
	}
	return goTypeName(err)
}

func goTypeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// errorMessage is the errorMessage Lambda reports for a handler error.
func errorMessage(err error) string {
	var named *NamedError
	if errors.As(err, &named) {
		return named.Message
	}
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return ive.Message
	}
	var ivp *messages.InvokeResponse_Error
	if errors.As(err, &ivp) && ivp != nil {
		return ivp.Message
	}
	return err.Error()
}

// lambdaFailure turns a handler error into the task error Step Functions
// reports: the error type as the name, the Lambda error document as cause.
func lambdaFailure(err error) *failure {
	name := ErrorType(err)
	doc, _ := encodeValue(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{errorMessage(err), name})
	if name == "" {
		name = StatesTaskFailed
	}
	return &failure{name: name, cause: string(doc)}
}

// panicError carries a panic of a handler, reported like the Lambda runtime.
type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprint(e.value) }

// taskEvents names the history events of one kind of task.
type taskEvents struct {
	scheduled, started, startFailed, succeeded, failed, timedOut string
}

var (
	lambdaEvents  = taskEvents{"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionStartFailed", "LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut"}
	serviceEvents = taskEvents{"TaskScheduled", "TaskStarted", "TaskStartFailed", "TaskSucceeded", "TaskFailed", "TaskTimedOut"}
)

// runTask performs one attempt of a Task state: input processing, the call,
// and result processing.
func (r *runner) runTask(ctx context.Context, st *state, input any, ctxObj map[string]any) (any, *failure) {
	eff, f := selectPath(st.inputPath, input, "InputPath", ctxObj)
	if f != nil {
		return nil, f
	}
	timeout := time.Duration(st.task.timeoutSeconds) * time.Second
	if p := st.task.timeoutPath; p != nil {
		v, ok := p.lookup(eff)
		n, isInt := asInt(v)
		if !ok || !isInt || n <= 0 {
			return nil, runtimeFailure("The TimeoutSecondsPath '%s' of state '%s' does not select a positive integer in %s",
				p.text, st.name, jsonText(eff))
		}
		timeout = time.Duration(n) * time.Second
	}
	params := eff
	if st.parameters != nil {
		if params, f = st.parameters.eval(&evalEnv{input: eff, ctx: ctxObj}); f != nil {
			return nil, f
		}
	}
	result, f := r.invoke(ctx, st, params, timeout)
	if f != nil {
		return nil, f
	}
	return r.applyResult(st, input, result, ctxObj)
}

// invoke calls the task's resource and reports the task events.
func (r *runner) invoke(ctx context.Context, st *state, params any, timeout time.Duration) (any, *failure) {
	t := st.task
	ev, target, payload := serviceEvents, t.resource, params
	if t.lambdaFunction {
		ev = lambdaEvents
	}
	if t.lambdaInvoke {
		pm, _ := params.(map[string]any)
		name, ok := pm["FunctionName"].(string)
		if !ok || name == "" {
			return nil, runtimeFailure("The FunctionName of state '%s' must be a non-empty string, got %s", st.name, jsonText(pm["FunctionName"]))
		}
		target = name
		if payload, ok = pm["Payload"]; !ok {
			payload = map[string]any{}
		}
	}
	base := Event{StateName: st.name, Resource: t.resource}
	r.emitTask(base, ev.scheduled, func(e *Event) { e.Input = r.raw(params) })

	var fn TaskFunc
	found := false
	if r.opts.Tasks != nil {
		fn, found = r.opts.Tasks(target)
	}
	if !found || fn == nil {
		f := runtimeFailure("No task handler is registered for resource %q", target)
		if t.lambdaFunction || t.lambdaInvoke {
			f = fail("Lambda.ResourceNotFoundException",
				"Function not found: %s (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException)", target)
		}
		r.emitTask(base, ev.startFailed, func(e *Event) { e.Error, e.Cause = f.name, f.cause })
		return nil, f
	}
	r.emitTask(base, ev.started, nil)

	in, _ := encodeValue(payload)
	out, err, timedOut := r.call(ctx, fn, in, timeout)
	switch {
	case timedOut:
		f := fail(StatesTimeout, "Task '%s' timed out after %s (TimeoutSeconds)", st.name, timeout)
		r.emitTask(base, ev.timedOut, func(e *Event) { e.Error, e.Cause = f.name, f.cause })
		return nil, f
	case ctx.Err() != nil:
		return nil, abortFailure
	case err != nil:
		f := lambdaFailure(err)
		r.emitTask(base, ev.failed, func(e *Event) { e.Error, e.Cause = f.name, f.cause })
		return nil, f
	}
	var result any
	if len(out) > 0 {
		if result, err = decodeValue(out); err != nil {
			f := runtimeFailure("The task of state '%s' returned invalid JSON: %v", st.name, err)
			r.emitTask(base, ev.failed, func(e *Event) { e.Error, e.Cause = f.name, f.cause })
			return nil, f
		}
	}
	if t.lambdaInvoke {
		result = map[string]any{"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": json.Number("200")}
	}
	r.emitTask(base, ev.succeeded, func(e *Event) { e.Output = r.raw(result) })
	return result, nil
}

func (r *runner) emitTask(base Event, typ string, fill func(*Event)) {
	base.Type = typ
	if fill != nil {
		fill(&base)
	}
	r.emit(base)
}

// call runs fn with a per-attempt timeout (0: none). A handler that ignores
// its context is abandoned when the timeout fires or the execution ends.
func (r *runner) call(ctx context.Context, fn TaskFunc, in json.RawMessage, timeout time.Duration) (json.RawMessage, error, bool) {
	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if timeout > 0 {
		go func() {
			if r.opts.TimeoutSleep(callCtx, timeout) == nil {
				cancel(errTaskTimedOut)
			}
		}()
	}
	type result struct {
		out json.RawMessage
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: &panicError{value: p}}
			}
		}()
		out, err := fn(callCtx, in)
		done <- result{out, err}
	}()
	select {
	case res := <-done:
		if res.err != nil && callCtx.Err() != nil {
			return nil, res.err, errors.Is(context.Cause(callCtx), errTaskTimedOut)
		}
		return res.out, res.err, false
	case <-callCtx.Done():
		return nil, callCtx.Err(), errors.Is(context.Cause(callCtx), errTaskTimedOut)
	}
}

// asInt reads a JSON integer.
func asInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	return i, err == nil
}
