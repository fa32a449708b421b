package asl

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRejects(t *testing.T) {
	task := func(extra string) string {
		return `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + fnArn + `f","End":true` + extra + `}}}`
	}
	cases := []struct {
		name, def, where, field, reason string
	}{
		{"not JSON", `{`, "", "", "not valid JSON"},
		{"unknown top-level field", `{"StartAt":"A","Bogus":1,"States":{"A":{"Type":"Succeed"}}}`, "", "Bogus", "not a valid field"},
		{"missing StartAt", `{"States":{"A":{"Type":"Succeed"}}}`, "", "StartAt", "required"},
		{"StartAt names no state", `{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}`, "", "StartAt", `"X"`},
		{"unknown state field", task(`,"Foo":1`), `state "A"`, "Foo", "not a valid field of a Task state"},
		{"field of another state type", task(`,"Result":1`), `state "A"`, "Result", "not a valid field of a Task state"},
		{"HeartbeatSeconds unsupported", task(`,"HeartbeatSeconds":10`), `state "A"`, "HeartbeatSeconds", "not supported"},
		{"Assign unsupported", task(`,"Assign":{"x":1}`), `state "A"`, "Assign", "variables"},
		{"JSONata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, "", "QueryLanguage", "JSONPath"},
		{"unknown type", `{"StartAt":"A","States":{"A":{"Type":"Sleep","End":true}}}`, `state "A"`, "Type", "unknown state type"},
		{"Next to unknown state", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nope"}}}`, `state "A"`, "Next", `"Nope" does not exist`},
		{"missing Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass"},"B":{"Type":"Succeed"}}}`, `state "A"`, "Next", "either Next or"},
		{"Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B","End":true},"B":{"Type":"Succeed"}}}`, `state "A"`, "End", "mutually exclusive"},
		{"unreachable state", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, `state "B"`, "", "not reachable"},
		{"no terminal state", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`, "", "States", "no terminal state"},
		{"Choice default to unknown", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"S"}],"Default":"X"},"S":{"Type":"Succeed"}}}`, `state "C"`, "Default", `"X" does not exist`},
		{"Catch to unknown", task(`,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"X"}]`), `state "A"`, "Catch[0].Next", `"X" does not exist`},
		{"States.ALL not last in Retry", task(`,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["E"]}]`), `state "A" Retry[0]`, "ErrorEquals", "must be the last"},
		{"States.ALL not last in Catch", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + fnArn + `f","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"B"},{"ErrorEquals":["E"],"Next":"B"}]},"B":{"Type":"Succeed"}}}`, `state "A" Catch[0]`, "ErrorEquals", "must be the last"},
		{"States.ALL not alone", task(`,"Retry":[{"ErrorEquals":["E","States.ALL"]}]`), `state "A" Retry[0]`, "ErrorEquals", "alone"},
		{"unknown States error", task(`,"Retry":[{"ErrorEquals":["States.Timout"]}]`), `state "A" Retry[0]`, "ErrorEquals", "not a predefined"},
		{"empty ErrorEquals", task(`,"Retry":[{"ErrorEquals":[]}]`), `state "A" Retry[0]`, "ErrorEquals", "at least one"},
		{"BackoffRate below 1", task(`,"Retry":[{"ErrorEquals":["E"],"BackoffRate":0.5}]`), `state "A" Retry[0]`, "BackoffRate", "between"},
		{"MaxDelaySeconds zero", task(`,"Retry":[{"ErrorEquals":["E"],"MaxDelaySeconds":0}]`), `state "A" Retry[0]`, "MaxDelaySeconds", "between"},
		{"bad JitterStrategy", task(`,"Retry":[{"ErrorEquals":["E"],"JitterStrategy":"HALF"}]`), `state "A" Retry[0]`, "JitterStrategy", "FULL or NONE"},
		{"unknown retrier field", task(`,"Retry":[{"ErrorEquals":["E"],"Attempts":2}]`), `state "A" Retry[0]`, "Attempts", "not a valid field of a Retrier"},
		{"bad InputPath", task(`,"InputPath":"a.b"`), `state "A"`, "InputPath", "must begin with '$'"},
		{"filter path", task(`,"InputPath":"$.a[?(@.x)]"`), `state "A"`, "InputPath", "unsupported subscript"},
		{"ResultPath with wildcard", task(`,"ResultPath":"$.a[*]"`), `state "A"`, "ResultPath", "reference path"},
		{"ResultPath in context", task(`,"ResultPath":"$$.a"`), `state "A"`, "ResultPath", "reference path"},
		{"unknown intrinsic", task(`,"Parameters":{"x.$":"States.Nope(1)"}`), `state "A"`, "Parameters.x.$", "unknown intrinsic"},
		{"intrinsic arity", task(`,"Parameters":{"x.$":"States.MathAdd(1)"}`), `state "A"`, "Parameters.x.$", "2 arguments"},
		{"unterminated intrinsic", task(`,"Parameters":{"x.$":"States.Format('a'"}`), `state "A"`, "Parameters.x.$", "expected"},
		{"dynamic field not a string", task(`,"Parameters":{"x.$":1}`), `state "A"`, "Parameters.x.$", "path or intrinsic"},
		{"template key collision", task(`,"Parameters":{"x":1,"x.$":"$.a"}`), `state "A"`, "Parameters.x.$", "same key"},
		{"Parameters not an object", task(`,"Parameters":[1]`), `state "A"`, "Parameters", "JSON object"},
		{"TimeoutSeconds zero", task(`,"TimeoutSeconds":0`), `state "A"`, "TimeoutSeconds", "between"},
		{"Resource placeholder", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${FenceArn}","End":true}}}`, `state "A"`, "Resource", "unsubstituted"},
		{"waitForTaskToken", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","End":true}}}`, `state "A"`, "Resource", "callback"},
		{"lambda:invoke without FunctionName", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"Payload":{}},"End":true}}}`, `state "A"`, "Parameters", "FunctionName"},
		{"lambda:invoke bad parameter", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Body":1},"End":true}}}`, `state "A"`, "Parameters.Body", "not a parameter"},
		{"lambda:invoke async", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","InvocationType":"Event"},"End":true}}}`, `state "A"`, "Parameters.InvocationType", "RequestResponse"},
		{"Choice rule without Next", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true}],"Default":"S"},"S":{"Type":"Succeed"}}}`, `state "C" Choices[0]`, "Next", "required"},
		{"nested Choice rule with Next", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsPresent":true,"Next":"S"},"Next":"S"}]},"S":{"Type":"Succeed"}}}`, `state "C" Choices[0].Not`, "Next", "nested Choice rule"},
		{"Choice rule with two operators", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"IsNull":false,"Next":"S"}]},"S":{"Type":"Succeed"}}}`, `state "C" Choices[0]`, "", "exactly one"},
		{"Choice wrong comparand type", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"S"}]},"S":{"Type":"Succeed"}}}`, `state "C" Choices[0]`, "NumericEquals", "number"},
		{"Choice bad timestamp", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","TimestampEquals":"2020-01-01","Next":"S"}]},"S":{"Type":"Succeed"}}}`, `state "C" Choices[0]`, "TimestampEquals", "RFC 3339"},
		{"Choice with End", `{"StartAt":"C","States":{"C":{"Type":"Choice","End":true,"Choices":[{"Variable":"$.a","IsPresent":true,"Next":"S"}]},"S":{"Type":"Succeed"}}}`, `state "C"`, "End", "not a valid field of a Choice state"},
		{"Wait with two durations", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, `state "W"`, "", "exactly one"},
		{"Fail with Error and ErrorPath", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}}}`, `state "F"`, "ErrorPath", "mutually exclusive"},
		{"Succeed with Next", `{"StartAt":"A","States":{"A":{"Type":"Succeed","Next":"A"}}}`, `state "A"`, "Next", "not a valid field of a Succeed state"},
		{"Parallel without branches", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[],"End":true}}}`, `state "P"`, "Branches", "at least one"},
		{"branch leaves its scope", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"Z","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Next":"Z"}}}]},"Z":{"Type":"Succeed"}}}`, `state "P" Branches[0]: state "B"`, "Next", `"Z" does not exist`},
		{"duplicate names across branches", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}]}}}`, `state "P" Branches[1]: state "B"`, "", "unique"},
		{"distributed Map", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"B","States":{"B":{"Type":"Succeed"}}}}}}`, `state "M" ItemProcessor ProcessorConfig`, "Mode", "INLINE"},
		{"Map without processor", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true}}}`, `state "M"`, "ItemProcessor", "needs an ItemProcessor"},
		{"Map ItemReader", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemReader":{},"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}}}}`, `state "M"`, "ItemReader", "inline Map"},
		{"Map ItemSelector and Parameters", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemSelector":{},"Parameters":{},"Iterator":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}}}}`, `state "M"`, "Parameters", "mutually exclusive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.def))
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("want *DefinitionError, got %v", err)
			}
			if de.Where != tc.where || de.Field != tc.field || !strings.Contains(de.Reason, tc.reason) {
				t.Fatalf("got where=%q field=%q reason=%q\nwant where=%q field=%q reason containing %q",
					de.Where, de.Field, de.Reason, tc.where, tc.field, tc.reason)
			}
		})
	}
}

func TestParseAcceptsFullDefinition(t *testing.T) {
	def := `{
	  "Comment": "every supported construct",
	  "Version": "1.0",
	  "QueryLanguage": "JSONPath",
	  "TimeoutSeconds": 3600,
	  "StartAt": "Intake",
	  "States": {
	    "Intake": {"Type": "Pass", "Comment": "c", "QueryLanguage": "JSONPath", "Parameters": {"req.$": "$"}, "ResultPath": "$.intake", "Next": "Route"},
	    "Route": {"Type": "Choice", "InputPath": "$", "OutputPath": "$",
	      "Choices": [
	        {"And": [{"Variable": "$.action", "IsPresent": true}, {"Not": {"Variable": "$.action", "StringEquals": "noop"}}], "Next": "Assess"},
	        {"Or": [{"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.limit"}, {"Variable": "$$.Execution.Name", "StringMatches": "manual-*"}], "Next": "Wait"}
	      ],
	      "Default": "Done"},
	    "Wait": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Assess"},
	    "Assess": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
	      "Parameters": {"FunctionName": "` + fnArn + `assess", "Payload.$": "$"},
	      "ResultSelector": {"decision.$": "$.Payload"}, "ResultPath": "$.assess", "OutputPath": "$",
	      "TimeoutSeconds": 30,
	      "Retry": [{"ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"], "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2, "MaxDelaySeconds": 10, "JitterStrategy": "FULL", "Comment": "transient"},
	                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}],
	      "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Failed"}],
	      "Next": "Reroute"},
	    "Reroute": {"Type": "Parallel", "Parameters": {"cluster.$": "$.cluster"}, "ResultPath": "$.reroute", "Next": "Each",
	      "Branches": [
	        {"StartAt": "Routes", "States": {"Routes": {"Type": "Task", "Resource": "` + fnArn + `routes", "End": true}}},
	        {"StartAt": "Dns", "Comment": "b", "States": {"Dns": {"Type": "Task", "Resource": "` + fnArn + `dns", "TimeoutSecondsPath": "$.t", "End": true}}}
	      ]},
	    "Each": {"Type": "Map", "ItemsPath": "$.targets", "MaxConcurrency": 2, "ItemSelector": {"t.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
	      "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Verify", "States": {"Verify": {"Type": "Task", "Resource": "` + fnArn + `verify", "End": true}}},
	      "ResultPath": null, "Next": "Legacy"},
	    "Legacy": {"Type": "Map", "Parameters": {"x.$": "$$.Map.Item.Value"}, "Iterator": {"StartAt": "L", "States": {"L": {"Type": "Pass", "End": true}}}, "ResultPath": null, "Next": "Done"},
	    "Done": {"Type": "Succeed"},
	    "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "States.Format('failed: {}', $.error.Cause)"}
	  }
	}`
	m := mustParse(t, def)
	if m.StartAt() != "Intake" || m.TimeoutSeconds() != 3600 {
		t.Fatalf("StartAt=%q TimeoutSeconds=%d", m.StartAt(), m.TimeoutSeconds())
	}
	want := []string{fnArn + "assess", fnArn + "dns", fnArn + "routes", fnArn + "verify"}
	if got := m.Resources(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Resources() = %v, want %v", got, want)
	}
}

func TestSubstitute(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${FenceArn}","Parameters":{"t":"x-${Env}-y"},"End":true}}}`
	out, err := Substitute([]byte(def), map[string]string{"FenceArn": fnArn + "fence", "Env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	m := mustParse(t, string(out))
	if got := m.Resources(); len(got) != 1 || got[0] != fnArn+"fence" {
		t.Fatalf("Resources() = %v", got)
	}
	if !strings.Contains(string(out), `"x-prod-y"`) {
		t.Fatalf("substitution missing: %s", out)
	}
	if _, err := Substitute([]byte(def), map[string]string{"Env": "p"}); err == nil || !strings.Contains(err.Error(), "FenceArn") {
		t.Fatalf("want an error naming FenceArn, got %v", err)
	}
}
