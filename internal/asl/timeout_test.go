package asl

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// timer is a fake TimeoutSleep that fires when the test says so.
type timer struct {
	armed chan time.Duration
	fire  chan struct{}
}

func newTimer() *timer { return &timer{armed: make(chan time.Duration, 10), fire: make(chan struct{})} }

func (tm *timer) sleep(ctx context.Context, d time.Duration) error {
	tm.armed <- d
	select {
	case <-tm.fire:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func TestTaskTimeout(t *testing.T) {
	for _, tc := range []struct {
		name, timeoutField, input string
		want                      time.Duration
	}{
		{"TimeoutSeconds", `"TimeoutSeconds":7`, `{}`, 7 * time.Second},
		{"TimeoutSecondsPath", `"TimeoutSecondsPath":"$.limit"`, `{"limit":9}`, 9 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f",` + tc.timeoutField + `,"End":true}}}`
			m := mustParse(t, def)
			tm := newTimer()
			started := make(chan struct{})
			stuck := make(chan struct{}) // the handler ignores its context entirely
			defer close(stuck)
			fn := func(context.Context, json.RawMessage) (json.RawMessage, error) {
				close(started)
				<-stuck
				return nil, nil
			}
			done := make(chan error, 1)
			go func() {
				_, err := m.Run(context.Background(), json.RawMessage(tc.input), Options{
					TimeoutSleep: tm.sleep, Tasks: taskTable(map[string]TaskFunc{fnArn + "f": fn}),
				})
				done <- err
			}()
			if d := receive(t, tm.armed, "the timeout to be armed"); d != tc.want {
				t.Fatalf("timeout armed for %v, want %v", d, tc.want)
			}
			receive(t, started, "the handler to start")
			close(tm.fire)
			ee := execError(t, receive(t, done, "Run to return"))
			if ee.ErrorName != StatesTimeout || ee.Status != StatusFailed {
				t.Fatalf("got %+v", ee)
			}
		})
	}
}

func TestTaskTimeoutRealTime(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","TimeoutSeconds":1,"End":true}}}`
	cancelled := make(chan struct{})
	fn := func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		<-ctx.Done()
		close(cancelled)
		return nil, ctx.Err()
	}
	start := time.Now()
	_, err := mustParse(t, def).Run(context.Background(), nil, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "f": fn})})
	if ee := execError(t, err); ee.ErrorName != StatesTimeout {
		t.Fatalf("got %+v", ee)
	}
	receive(t, cancelled, "the handler's context to end")
	if el := time.Since(start); el < time.Second {
		t.Fatalf("timed out after %v, before TimeoutSeconds", el)
	}
}

func TestExecutionTimeout(t *testing.T) {
	def := `{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`
	tm := newTimer()
	var log eventLog
	done := make(chan error, 1)
	waiting := make(chan struct{})
	go func() {
		_, err := mustParse(t, def).Run(context.Background(), nil, Options{
			TimeoutSleep: tm.sleep,
			Sleep: func(ctx context.Context, _ time.Duration) error {
				close(waiting)
				<-ctx.Done()
				return ctx.Err()
			},
			OnEvent: log.record,
		})
		done <- err
	}()
	if d := receive(t, tm.armed, "the execution timeout"); d != time.Minute {
		t.Fatalf("execution timeout %v, want 1m", d)
	}
	receive(t, waiting, "the Wait state")
	close(tm.fire)
	ee := execError(t, receive(t, done, "Run to return"))
	if ee.ErrorName != StatesTimeout || ee.Status != StatusTimedOut {
		t.Fatalf("got %+v", ee)
	}
	want := []string{"ExecutionStarted", "WaitStateEntered", "WaitStateAborted", "ExecutionTimedOut"}
	if got := log.types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestAbortOnContextCancel(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f",
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}}`
	ctx, cancel := context.WithCancelCause(context.Background())
	started := make(chan struct{})
	fn := func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	var log eventLog
	done := make(chan error, 1)
	go func() {
		_, err := mustParse(t, def).Run(ctx, nil, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "f": fn}), OnEvent: log.record})
		done <- err
	}()
	receive(t, started, "the task")
	cancel(&ExecutionError{ErrorName: "Operator", Cause: "stopped by hand"})
	err := receive(t, done, "Run to return")
	ee := execError(t, err)
	if ee.Status != StatusAborted || ee.ErrorName != "Operator" || ee.Cause != "stopped by hand" {
		t.Fatalf("got %+v", ee)
	}
	if !errors.Is(err, context.Canceled) && errors.Unwrap(err) == nil {
		t.Fatalf("aborted error does not carry the context's cause: %v", err)
	}
	want := []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "TaskStateAborted", "ExecutionAborted"}
	if got := log.types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}
