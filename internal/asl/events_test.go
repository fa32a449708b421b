package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

func TestEventOrder(t *testing.T) {
	def := `{"StartAt":"Intake","States":{
		"Intake":{"Type":"Pass","Result":{"ok":true},"ResultPath":"$.intake","Next":"Assess"},
		"Assess":{"Type":"Task","Resource":"` + fnArn + `assess","ResultPath":"$.assess","Next":"Decide"},
		"Decide":{"Type":"Choice","Choices":[{"Variable":"$.assess.proceed","BooleanEquals":true,"Next":"Notify"}],"Default":"Done"},
		"Notify":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"notify","Payload.$":"$.assess"},
			"ResultSelector":{"sent.$":"$.Payload"},"ResultPath":"$.notify","Next":"Done"},
		"Done":{"Type":"Succeed","OutputPath":"$.notify"}}}`
	tick := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { tick = tick.Add(time.Millisecond); return tick }
	var log eventLog
	out, err := runMachine(t, def, `{"cluster":"c1"}`, Options{
		Now:     now,
		OnEvent: log.record,
		Tasks: taskTable(map[string]TaskFunc{
			fnArn + "assess": constant(`{"proceed":true}`),
			"notify":         constant(`"yes"`),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `{"sent":"yes"}`)
	type ev struct{ Type, State, Resource, Input, Output string }
	want := []ev{
		{"ExecutionStarted", "", "", `{"cluster":"c1"}`, ""},
		{"PassStateEntered", "Intake", "", `{"cluster":"c1"}`, ""},
		{"PassStateExited", "Intake", "", "", `{"cluster":"c1","intake":{"ok":true}}`},
		{"TaskStateEntered", "Assess", "", `{"cluster":"c1","intake":{"ok":true}}`, ""},
		{"LambdaFunctionScheduled", "Assess", fnArn + "assess", `{"cluster":"c1","intake":{"ok":true}}`, ""},
		{"LambdaFunctionStarted", "Assess", fnArn + "assess", "", ""},
		{"LambdaFunctionSucceeded", "Assess", fnArn + "assess", "", `{"proceed":true}`},
		{"TaskStateExited", "Assess", "", "", `{"assess":{"proceed":true},"cluster":"c1","intake":{"ok":true}}`},
		{"ChoiceStateEntered", "Decide", "", `{"assess":{"proceed":true},"cluster":"c1","intake":{"ok":true}}`, ""},
		{"ChoiceStateExited", "Decide", "", "", `{"assess":{"proceed":true},"cluster":"c1","intake":{"ok":true}}`},
		{"TaskStateEntered", "Notify", "", `{"assess":{"proceed":true},"cluster":"c1","intake":{"ok":true}}`, ""},
		{"TaskScheduled", "Notify", "arn:aws:states:::lambda:invoke", `{"FunctionName":"notify","Payload":{"proceed":true}}`, ""},
		{"TaskStarted", "Notify", "arn:aws:states:::lambda:invoke", "", ""},
		{"TaskSucceeded", "Notify", "arn:aws:states:::lambda:invoke", "", `{"ExecutedVersion":"$LATEST","Payload":"yes","StatusCode":200}`},
		{"TaskStateExited", "Notify", "", "", `{"assess":{"proceed":true},"cluster":"c1","intake":{"ok":true},"notify":{"sent":"yes"}}`},
		{"SucceedStateEntered", "Done", "", `{"assess":{"proceed":true},"cluster":"c1","intake":{"ok":true},"notify":{"sent":"yes"}}`, ""},
		{"SucceedStateExited", "Done", "", "", `{"sent":"yes"}`},
		{"ExecutionSucceeded", "", "", "", `{"sent":"yes"}`},
	}
	var got []ev
	for i, e := range log.events {
		got = append(got, ev{e.Type, e.StateName, e.Resource, string(e.Input), string(e.Output)})
		if i > 0 && !e.Timestamp.After(log.events[i-1].Timestamp) {
			t.Fatalf("event %d timestamp %v not after %v", i, e.Timestamp, log.events[i-1].Timestamp)
		}
	}
	if !reflect.DeepEqual(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w ev
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("event %d:\n got %+v\nwant %+v", i, g, w)
			}
		}
	}
}

func TestFailedExecutionEvents(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","End":true}}}`
	var log eventLog
	_, err := runMachine(t, def, `{}`, Options{OnEvent: log.record, Tasks: taskTable(map[string]TaskFunc{
		fnArn + "f": func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, errors.New("nope") },
	})})
	execError(t, err)
	want := []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"}
	if got := log.types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	last := log.events[len(log.events)-1]
	if last.Error != "errorString" || last.Cause != `{"errorMessage":"nope","errorType":"errorString"}` {
		t.Fatalf("ExecutionFailed %+v", last)
	}
}

type valueError struct{}

func (valueError) Error() string { return "value" }

func TestErrorType(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{errors.New("x"), "errorString"},
		{valueError{}, "valueError"},
		{&fenceError{}, "fenceError"},
		{&NamedError{Name: "PromoteFailed"}, "PromoteFailed"},
		{fmtWrap(&NamedError{Name: "PromoteFailed"}), "PromoteFailed"},
		{fmtWrap(&fenceError{}), "wrapError"},
		{messages.InvokeResponse_Error{Type: "Custom", Message: "m"}, "Custom"},
		{&messages.InvokeResponse_Error{Type: "CustomPtr", Message: "m"}, "CustomPtr"},
		{&panicError{value: "boom"}, "string"},
		{&panicError{value: &fenceError{}}, "fenceError"},
	}
	for _, tc := range cases {
		if got := ErrorType(tc.err); got != tc.want {
			t.Errorf("ErrorType(%#v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func fmtWrap(err error) error { return fmt.Errorf("context: %w", err) }

func TestHandlerPanicIsATaskError(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","End":true}}}`
	_, err := runMachine(t, def, `{}`, Options{Tasks: taskTable(map[string]TaskFunc{
		fnArn + "f": func(context.Context, json.RawMessage) (json.RawMessage, error) { panic("unexpected state") },
	})})
	ee := execError(t, err)
	if ee.ErrorName != "string" || ee.Cause != `{"errorMessage":"unexpected state","errorType":"string"}` {
		t.Fatalf("got %+v", ee)
	}
}

func TestWaitDurations(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, field, input string
		want               []time.Duration
	}{
		{"Seconds", `"Seconds":5`, `{}`, []time.Duration{5 * time.Second}},
		{"Seconds zero", `"Seconds":0`, `{}`, nil},
		{"SecondsPath", `"SecondsPath":"$.delay"`, `{"delay":30}`, []time.Duration{30 * time.Second}},
		{"Timestamp", `"Timestamp":"2025-06-01T12:01:30Z"`, `{}`, []time.Duration{90 * time.Second}},
		{"TimestampPath", `"TimestampPath":"$.at"`, `{"at":"2025-06-01T14:00:00+02:00"}`, nil},
		{"TimestampPath future", `"TimestampPath":"$.at"`, `{"at":"2025-06-01T12:00:02.5Z"}`, []time.Duration{2500 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &sleepRecorder{}
			def := `{"StartAt":"W","States":{"W":{"Type":"Wait",` + tc.field + `,"End":true}}}`
			out, err := runMachine(t, def, tc.input, Options{Sleep: rec.sleep, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, out, tc.input)
			if got := rec.recorded(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("slept %v, want %v", got, tc.want)
			}
		})
	}
	def := `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.delay","End":true}}}`
	_, err := runMachine(t, def, `{"delay":"soon"}`, Options{})
	if ee := execError(t, err); ee.ErrorName != StatesRuntime {
		t.Fatalf("got %+v", ee)
	}
}

func TestFailState(t *testing.T) {
	def := `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.code","CausePath":"States.Format('cluster {} refused: {}', $.cluster, $$.State.Name)"}}}`
	var log eventLog
	_, err := runMachine(t, def, `{"code":"Refused","cluster":"c1"}`, Options{OnEvent: log.record})
	ee := execError(t, err)
	if ee.ErrorName != "Refused" || ee.Cause != "cluster c1 refused: F" {
		t.Fatalf("got %+v", ee)
	}
	if want := []string{"ExecutionStarted", "FailStateEntered", "ExecutionFailed"}; !reflect.DeepEqual(log.types(), want) {
		t.Fatalf("events %v, want %v", log.types(), want)
	}
	_, err = runMachine(t, def, `{"code":7,"cluster":"c1"}`, Options{})
	if ee := execError(t, err); ee.ErrorName != StatesRuntime {
		t.Fatalf("got %+v", ee)
	}
}

func TestInvalidInputIsRejected(t *testing.T) {
	m := mustParse(t, `{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}`)
	if _, err := m.Run(context.Background(), json.RawMessage(`{"a":`), Options{}); err == nil {
		t.Fatal("want an error for invalid input")
	}
	out, err := m.Run(context.Background(), nil, Options{})
	if err != nil || string(out) != `{}` {
		t.Fatalf("empty input: %s, %v", out, err)
	}
}
