package asl

import (
	"strings"
	"testing"
)

// choiceMachine routes to "Yes" when rule matches and to "No" otherwise.
func choiceMachine(rule string) string {
	return `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[` + rule[:len(rule)-1] + `,"Next":"Yes"}],"Default":"No"},
		"Yes":{"Type":"Pass","Result":"yes","End":true},"No":{"Type":"Pass","Result":"no","End":true}}}`
}

func TestChoiceRules(t *testing.T) {
	input := `{"type":"Private","value":20,"big":12345678901234567891,"flag":true,"nothing":null,
		"when":"2016-03-14T01:59:00Z","later":"2016-03-14T02:00:00+01:00","limit":20,"name":"failover-node-2",
		"star":"a*b","list":[1,2]}`
	cases := []struct {
		rule string
		want bool
	}{
		{`{"Variable":"$.type","StringEquals":"Private"}`, true},
		{`{"Variable":"$.type","StringEquals":"Public"}`, false},
		{`{"Variable":"$.type","StringLessThan":"Q"}`, true},
		{`{"Variable":"$.type","StringGreaterThanEquals":"Private"}`, true},
		{`{"Variable":"$.type","StringLessThanEquals":"Pr"}`, false},
		{`{"Variable":"$.type","StringGreaterThan":"Pr"}`, true},
		{`{"Variable":"$.value","StringEquals":"20"}`, false}, // wrong type never matches
		{`{"Variable":"$.value","NumericEquals":20}`, true},
		{`{"Variable":"$.value","NumericEquals":20.0}`, true},
		{`{"Variable":"$.value","NumericLessThan":20}`, false},
		{`{"Variable":"$.value","NumericLessThanEquals":20}`, true},
		{`{"Variable":"$.value","NumericGreaterThan":19.5}`, true},
		{`{"Variable":"$.value","NumericGreaterThanEquals":21}`, false},
		{`{"Variable":"$.big","NumericGreaterThan":12345678901234567890}`, true},
		{`{"Variable":"$.type","NumericEquals":20}`, false},
		{`{"Variable":"$.value","NumericEqualsPath":"$.limit"}`, true},
		{`{"Variable":"$.value","NumericLessThanPath":"$.limit"}`, false},
		{`{"Variable":"$.type","StringEqualsPath":"$$.State.Name"}`, false},
		{`{"Variable":"$$.State.Name","StringEquals":"C"}`, true},
		{`{"Variable":"$.flag","BooleanEquals":true}`, true},
		{`{"Variable":"$.flag","BooleanEqualsPath":"$.flag"}`, true},
		{`{"Variable":"$.value","BooleanEquals":true}`, false},
		{`{"Variable":"$.when","TimestampEquals":"2016-03-14T01:59:00Z"}`, true},
		{`{"Variable":"$.when","TimestampEqualsPath":"$.later"}`, false},
		{`{"Variable":"$.later","TimestampLessThan":"2016-03-14T01:59:00Z"}`, true}, // 02:00+01:00 is 01:00Z
		{`{"Variable":"$.when","TimestampGreaterThanEquals":"2016-03-14T01:59:00Z"}`, true},
		{`{"Variable":"$.when","TimestampLessThanEqualsPath":"$.later"}`, false},
		{`{"Variable":"$.when","TimestampGreaterThan":"2016-03-14T01:58:59.999Z"}`, true},
		{`{"Variable":"$.type","TimestampEquals":"2016-03-14T01:59:00Z"}`, false},
		{`{"Variable":"$.name","StringMatches":"failover-*"}`, true},
		{`{"Variable":"$.name","StringMatches":"*-node-*"}`, true},
		{`{"Variable":"$.name","StringMatches":"*-2"}`, true},
		{`{"Variable":"$.name","StringMatches":"node*"}`, false},
		{`{"Variable":"$.star","StringMatches":"a\\*b"}`, true},
		{`{"Variable":"$.name","StringMatches":"a\\*b"}`, false},
		{`{"Variable":"$.nothing","IsNull":true}`, true},
		{`{"Variable":"$.value","IsNull":true}`, false},
		{`{"Variable":"$.missing","IsPresent":false}`, true},
		{`{"Variable":"$.nothing","IsPresent":true}`, true},
		{`{"Variable":"$.value","IsNumeric":true}`, true},
		{`{"Variable":"$.type","IsString":true}`, true},
		{`{"Variable":"$.flag","IsBoolean":true}`, true},
		{`{"Variable":"$.when","IsTimestamp":true}`, true},
		{`{"Variable":"$.type","IsTimestamp":false}`, true},
		{`{"Variable":"$.list[1]","NumericEquals":2}`, true},
		{`{"And":[{"Variable":"$.value","NumericGreaterThanEquals":20},{"Variable":"$.value","NumericLessThan":30}]}`, true},
		{`{"And":[{"Variable":"$.value","NumericGreaterThanEquals":20},{"Variable":"$.value","NumericLessThan":20}]}`, false},
		{`{"Or":[{"Variable":"$.type","StringEquals":"x"},{"Variable":"$.flag","BooleanEquals":true}]}`, true},
		{`{"Not":{"Variable":"$.type","StringEquals":"Private"}}`, false},
		{`{"Not":{"Or":[{"Variable":"$.missing","IsPresent":true},{"Variable":"$.value","IsString":true}]}}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			out, err := runMachine(t, choiceMachine(tc.rule), input, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := `"no"`
			if tc.want {
				want = `"yes"`
			}
			if out != want {
				t.Fatalf("got %s, want %s", out, want)
			}
		})
	}
}

func TestChoiceFirstMatchWinsAndOutputPath(t *testing.T) {
	def := `{"StartAt":"C","States":{"C":{"Type":"Choice","InputPath":"$.in","OutputPath":"$.v",
		"Choices":[{"Variable":"$.v","NumericGreaterThan":1,"Next":"A"},{"Variable":"$.v","NumericGreaterThan":0,"Next":"B"}]},
		"A":{"Type":"Pass","Parameters":{"state":"A","got.$":"$"},"End":true},"B":{"Type":"Pass","Parameters":{"state":"B","got.$":"$"},"End":true}}}`
	out, err := runMachine(t, def, `{"in":{"v":5}}`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, out, `{"state":"A","got":5}`)
}

func TestChoiceNoMatchFails(t *testing.T) {
	def := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.v","NumericEquals":1,"Next":"S"}]},"S":{"Type":"Succeed"}}}`
	_, err := runMachine(t, def, `{"v":2}`, Options{})
	if ee := execError(t, err); ee.ErrorName != StatesNoChoiceMatched || ee.Status != StatusFailed {
		t.Fatalf("got %+v", ee)
	}
}

func TestChoiceMissingVariableIsRuntimeError(t *testing.T) {
	for _, rule := range []string{
		`{"Variable":"$.missing","StringEquals":"x"}`,
		`{"Variable":"$.v","NumericEqualsPath":"$.missing"}`,
		`{"Variable":"$.missing","IsNull":false}`,
	} {
		_, err := runMachine(t, choiceMachine(rule), `{"v":1}`, Options{})
		ee := execError(t, err)
		if ee.ErrorName != StatesRuntime || !strings.Contains(ee.Cause, "$.missing") {
			t.Fatalf("%s: got %+v", rule, ee)
		}
	}
}
