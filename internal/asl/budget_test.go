package asl

import (
	"errors"
	"strings"
	"testing"
)

const budgetTask = `"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"`

func TestWorstCaseCountsAttemptsBackoffWaitAndCatch(t *testing.T) {
	m := mustParse(t, `{"StartAt":"A","States":{
		"A":{`+budgetTask+`,"TimeoutSeconds":10,
			"Retry":[{"ErrorEquals":["X"],"IntervalSeconds":1,"MaxAttempts":3,"BackoffRate":2,"MaxDelaySeconds":3,"JitterStrategy":"FULL"},
			         {"ErrorEquals":["Y"],"IntervalSeconds":5,"MaxAttempts":1}],
			"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Slow"}],
			"Next":"Choose"},
		"Choose":{"Type":"Choice","Choices":[{"Variable":"$.x","BooleanEquals":true,"Next":"Wait"}],"Default":"Done"},
		"Wait":{"Type":"Wait","Seconds":7,"Next":"Done"},
		"Slow":{`+budgetTask+`,"Next":"Done"},
		"Done":{"Type":"Succeed"}}}`)
	b, err := m.WorstCase()
	if err != nil {
		t.Fatal(err)
	}
	// A: 1+3+1 attempts × 10 s, back-off 1+2+3 (capped) + 5; then the Catch
	// to Slow (default 60 s, one attempt) beats the Choice and its 7 s Wait.
	if b.Seconds != 50+11+60 {
		t.Errorf("worst case %v s, want 121 s; path %v", b.Seconds, b.Path)
	}
	var names []string
	for _, s := range b.Path {
		names = append(names, s.State)
	}
	if got := strings.Join(names, ","); got != "A,Slow,Done" {
		t.Errorf("critical path %s, want A,Slow,Done", got)
	}
	if a := b.Path[0]; a.Attempts != 5 || a.AttemptSeconds != 10 || a.BackoffSeconds != 11 || a.Via != "Catch[0].Next" {
		t.Errorf("first step %+v", a)
	}
}

func TestWorstCaseTakesTheSlowestParallelBranch(t *testing.T) {
	m := mustParse(t, `{"StartAt":"P","States":{
		"P":{"Type":"Parallel","End":true,"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":1,"IntervalSeconds":2}],"Branches":[
			{"StartAt":"B1","States":{"B1":{`+budgetTask+`,"TimeoutSeconds":5,"End":true}}},
			{"StartAt":"B2","States":{"B2":{"Type":"Wait","Seconds":9,"End":true}}}]}}}`)
	b, err := m.WorstCase()
	if err != nil {
		t.Fatal(err)
	}
	if b.Seconds != 2*9+2 {
		t.Errorf("worst case %v s, want 20 s (%v)", b.Seconds, b.Path)
	}
}

func TestWorstCaseRefusesLoopsAndInputDependentDurations(t *testing.T) {
	for name, def := range map[string]string{
		"loop": `{"StartAt":"A","States":{
			"A":{` + budgetTask + `,"TimeoutSeconds":1,"Next":"C"},
			"C":{"Type":"Choice","Choices":[{"Variable":"$.again","BooleanEquals":true,"Next":"A"}],"Default":"D"},
			"D":{"Type":"Succeed"}}}`,
		"seconds path": `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`,
		"timeout path": `{"StartAt":"A","States":{"A":{` + budgetTask + `,"TimeoutSecondsPath":"$.t","End":true}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := mustParse(t, def).WorstCase()
			if !errors.Is(err, ErrUnbounded) {
				t.Fatalf("err %v, want ErrUnbounded", err)
			}
			if name == "loop" && !strings.Contains(err.Error(), "A → C → A") {
				t.Errorf("err %v does not name the loop", err)
			}
		})
	}
}
