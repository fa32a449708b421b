package asl

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The input and output processing examples of the ASL specification and the
// Step Functions developer guide.
func TestInputOutputProcessing(t *testing.T) {
	cases := []struct {
		name, state, input, result, want string
	}{
		{
			name:   "ResultPath merges into the input (spec example)",
			state:  `"InputPath":"$.lambda","ResultPath":"$.data.lambdaresult","OutputPath":"$.data"`,
			input:  `{"title":"Numbers to add","numbers":{"val1":3,"val2":4}, "lambda":{"who":"AWS Step Functions"}, "data":{"x":1}}`,
			result: `{"sum":7}`,
			want:   `{"x":1,"lambdaresult":{"sum":7}}`,
		},
		{
			name:   "ResultPath creates missing objects",
			state:  `"ResultPath":"$.a.b.c"`,
			input:  `{"keep":true}`,
			result: `42`,
			want:   `{"keep":true,"a":{"b":{"c":42}}}`,
		},
		{
			name:   "ResultPath null keeps the input",
			state:  `"ResultPath":null`,
			input:  `{"keep":1}`,
			result: `{"dropped":true}`,
			want:   `{"keep":1}`,
		},
		{
			name:   "default ResultPath replaces the input",
			state:  ``,
			input:  `{"keep":1}`,
			result: `{"new":true}`,
			want:   `{"new":true}`,
		},
		{
			name:   "OutputPath null yields an empty object",
			state:  `"OutputPath":null`,
			input:  `{"a":1}`,
			result: `{"b":2}`,
			want:   `{}`,
		},
		{
			name:   "ResultSelector shapes the result before ResultPath",
			state:  `"ResultSelector":{"sum.$":"$.Payload.sum","fixed":"x"},"ResultPath":"$.out"`,
			input:  `{"in":1}`,
			result: `{"Payload":{"sum":7,"noise":"y"},"StatusCode":200}`,
			want:   `{"in":1,"out":{"sum":7,"fixed":"x"}}`,
		},
		{
			name:   "ResultPath into an array element",
			state:  `"ResultPath":"$.list[1]"`,
			input:  `{"list":[1,2,3]}`,
			result: `"two"`,
			want:   `{"list":[1,"two",3]}`,
		},
		{
			name:   "bracket notation",
			state:  `"InputPath":"$['odd key']","ResultPath":"$['out key']"`,
			input:  `{"odd key":{"v":1}}`,
			result: `5`,
			want:   `{"odd key":{"v":1},"out key":5}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			comma := ""
			if tc.state != "" {
				comma = ","
			}
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","End":true` + comma + tc.state + `}}}`
			out, err := runMachine(t, def, tc.input, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "f": constant(tc.result)})})
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, out, tc.want)
		})
	}
}

func TestInputPathAndParametersFeedTheTask(t *testing.T) {
	var got string
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","End":true,
		"InputPath":"$.order",
		"Parameters":{"id.$":"$.id","first.$":"$.items[0].sku","all.$":"$.items[*].sku","static":{"nested.$":"$.id"},
			"list":[{"x.$":"$.id"}],"exec.$":"$$.Execution.Name","state.$":"$$.State.Name","input.$":"$$.Execution.Input.tag"}}}}`
	fn := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		got = string(in)
		return json.RawMessage(`null`), nil
	}
	_, err := runMachine(t, def, `{"tag":"t1","order":{"id":12345678901234567890,"items":[{"sku":"a"},{"sku":"b"}]}}`,
		Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "f": fn}), Execution: ExecutionInfo{Name: "exec-1"}})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, got, `{"id":12345678901234567890,"first":"a","all":["a","b"],"static":{"nested":12345678901234567890},
		"list":[{"x":12345678901234567890}],"exec":"exec-1","state":"T","input":"t1"}`)
	if !strings.Contains(got, "12345678901234567890") {
		t.Fatalf("large integer lost precision: %s", got)
	}
}

func TestPassState(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.r","Next":"Q"},
		"Q":{"Type":"Pass","Parameters":{"copy.$":"$.r.x","orig.$":"$.in"},"End":true}}}`
	out, err := runMachine(t, def, `{"in":"v"}`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `{"copy":1,"orig":"v"}`)
}

func TestContextObject(t *testing.T) {
	start := time.Date(2024, 5, 1, 10, 0, 0, 123e6, time.UTC)
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"ctx.$":"$$"},"End":true}}}`
	out, err := runMachine(t, def, `{"a":1}`, Options{
		Now:       func() time.Time { return start },
		Execution: ExecutionInfo{ID: "arn:aws:states:eu-west-1:1:execution:sm:e1", Name: "e1", StateMachineID: "arn:sm", StateMachineName: "sm", RoleArn: "arn:role"},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `{"ctx":{
		"Execution":{"Id":"arn:aws:states:eu-west-1:1:execution:sm:e1","Name":"e1","Input":{"a":1},"RoleArn":"arn:role",
			"StartTime":"2024-05-01T10:00:00.123Z","RedriveCount":0},
		"StateMachine":{"Id":"arn:sm","Name":"sm"},
		"State":{"Name":"P","EnteredTime":"2024-05-01T10:00:00.123Z","RetryCount":0}}}`)
}

func TestLambdaInvokeIntegration(t *testing.T) {
	var gotInput string
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"` + fnArn + `assess:$LATEST","Payload.$":"$.req"},"End":true}}}`
	fn := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		gotInput = string(in)
		return json.RawMessage(`{"decision":"proceed"}`), nil
	}
	out, err := runMachine(t, def, `{"req":{"cluster":"c1"}}`,
		Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "assess:$LATEST": fn})})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, gotInput, `{"cluster":"c1"}`)
	assertJSON(t, out, `{"ExecutedVersion":"$LATEST","Payload":{"decision":"proceed"},"StatusCode":200}`)
}

func TestLambdaInvokeErrorUsesHandlerErrorType(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName.$":"$.fn","Payload":{}},"End":true}}}`
	fn := func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, &fenceError{msg: "instance still running"}
	}
	_, err := runMachine(t, def, `{"fn":"fence"}`, Options{Tasks: taskTable(map[string]TaskFunc{"fence": fn})})
	ee := execError(t, err)
	if ee.ErrorName != "fenceError" || ee.Status != StatusFailed {
		t.Fatalf("got %+v", ee)
	}
	assertJSON(t, ee.Cause, `{"errorMessage":"instance still running","errorType":"fenceError"}`)
}

type fenceError struct{ msg string }

func (e *fenceError) Error() string { return e.msg }

func TestUnknownResourceFailsNamingIt(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `missing","End":true}}}`
	_, err := runMachine(t, def, `{}`, Options{Tasks: taskTable(nil)})
	ee := execError(t, err)
	if ee.ErrorName != "Lambda.ResourceNotFoundException" || !strings.Contains(ee.Cause, fnArn+"missing") {
		t.Fatalf("got %+v", ee)
	}
	def = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","End":true}}}`
	_, err = runMachine(t, def, `{}`, Options{})
	ee = execError(t, err)
	if ee.ErrorName != StatesRuntime || !strings.Contains(ee.Cause, "arn:aws:states:::sns:publish") {
		t.Fatalf("got %+v", ee)
	}
}

func TestPathFailuresAreRuntimeErrors(t *testing.T) {
	cases := map[string]string{
		"InputPath":  `"InputPath":"$.missing"`,
		"Parameters": `"Parameters":{"x.$":"$.missing"}`,
		"OutputPath": `"OutputPath":"$.missing"`,
	}
	for name, field := range cases {
		t.Run(name, func(t *testing.T) {
			// A catch-all Catch must not see States.Runtime.
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","End":true,` + field + `,
				"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}]},"C":{"Type":"Succeed"}}}`
			_, err := runMachine(t, def, `{"a":1}`, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "f": echo})})
			ee := execError(t, err)
			if ee.ErrorName != StatesRuntime || !strings.Contains(ee.Cause, "$.missing") {
				t.Fatalf("got %+v", ee)
			}
		})
	}
}

func TestResultPathMatchFailure(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`
	_, err := runMachine(t, def, `{"a":"not an object"}`, Options{})
	if ee := execError(t, err); ee.ErrorName != StatesResultPathMatchFailure {
		t.Fatalf("got %+v", ee)
	}
}

func TestInputIsNotModified(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
		{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"a","ResultPath":"$.shared.x","End":true}}},
		{"StartAt":"B","States":{"B":{"Type":"Pass","Result":"b","ResultPath":"$.shared.x","End":true}}}]}}}`
	out, err := runMachine(t, def, `{"shared":{"x":"orig","y":1}}`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `[{"shared":{"x":"a","y":1}},{"shared":{"x":"b","y":1}}]`)
}
