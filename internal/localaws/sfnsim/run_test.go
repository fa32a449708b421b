package sfnsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
)

const (
	assessArn  = "arn:aws:lambda:us-east-1:123456789012:function:assess"
	promoteArn = "arn:aws:lambda:us-east-1:123456789012:function:promote"
)

// failoverDefinition: Assess (a Lambda ARN task) retries TransientError
// twice with back-off and catches everything into a Fail state; a Wait;
// then Promote through the lambda:invoke integration.
const failoverDefinition = `{
  "Comment": "sample failover",
  "StartAt": "Assess",
  "States": {
    "Assess": {
      "Type": "Task",
      "Resource": "` + assessArn + `",
      "ResultPath": "$.assessment",
      "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}],
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refuse"}],
      "Next": "Settle"
    },
    "Settle": {"Type": "Wait", "Seconds": 30, "Next": "Promote"},
    "Promote": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "` + promoteArn + `", "Payload.$": "$"},
      "OutputPath": "$.Payload",
      "End": true
    },
    "Refuse": {"Type": "Fail", "Error": "FailoverRefused", "Cause": "assessment failed"}
  }
}`

// TransientError is the handler error Retry matches by its Go type name.
type TransientError struct{}

func (TransientError) Error() string { return "standby not reachable yet" }

// flakyAssess fails with TransientError the first failures calls.
func flakyAssess(failures int32, calls *atomic.Int32) asl.TaskFunc {
	return func(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
		if calls.Add(1) <= failures {
			return nil, TransientError{}
		}
		return json.RawMessage(`{"decision":"proceed"}`), nil
	}
}

func promote(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
	var in struct {
		Cluster    string `json:"cluster"`
		Assessment struct {
			Decision string `json:"decision"`
		} `json:"assessment"`
	}
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"promoted": in.Cluster, "because": in.Assessment.Decision})
}

func TestTaskRetryAndHistory(t *testing.T) {
	var calls atomic.Int32
	st := newStack(t, map[string]asl.TaskFunc{assessArn: flakyAssess(2, &calls), promoteArn: promote})
	machine := st.createMachine(t, "failover", failoverDefinition)
	started := st.start(t, machine, "", `{"cluster":"pg-main"}`)
	arn := aws.ToString(started.ExecutionArn)
	if !strings.HasPrefix(arn, "arn:aws:states:us-east-1:123456789012:execution:failover:") {
		t.Fatalf("execution ARN %s", arn)
	}
	done := st.waitDone(t, arn)
	if done.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s (%s: %s)", done.Status, aws.ToString(done.Error), aws.ToString(done.Cause))
	}
	if got := aws.ToString(done.Output); got != `{"because":"proceed","promoted":"pg-main"}` {
		t.Fatalf("output %s", got)
	}
	if aws.ToString(done.Input) != `{"cluster":"pg-main"}` || done.StopDate == nil || done.StopDate.Before(*done.StartDate) {
		t.Fatalf("describe: input %s start %v stop %v", aws.ToString(done.Input), done.StartDate, done.StopDate)
	}
	if calls.Load() != 3 {
		t.Fatalf("assess called %d times, want 3", calls.Load())
	}
	if got, want := st.sleepsSoFar(), []time.Duration{2 * time.Second, 4 * time.Second, 30 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("sleeps %v, want %v (two retries with back-off, then the Wait)", got, want)
	}

	events := st.history(t, arn, 0, false)
	attempt := []string{"LambdaFunctionScheduled", "LambdaFunctionStarted"}
	want := slices.Concat([]string{"ExecutionStarted", "TaskStateEntered"},
		attempt, []string{"LambdaFunctionFailed"}, attempt, []string{"LambdaFunctionFailed"}, attempt,
		[]string{"LambdaFunctionSucceeded", "TaskStateExited", "WaitStateEntered", "WaitStateExited",
			"TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"})
	if got := eventTypes(events); !slices.Equal(got, want) {
		t.Fatalf("history\n got %v\nwant %v", got, want)
	}
	for i, e := range events {
		if e.Id != int64(i+1) || e.PreviousEventId != int64(i) || e.Timestamp == nil || e.Timestamp.Before(*done.StartDate) {
			t.Fatalf("event %d: id %d previous %d timestamp %v", i, e.Id, e.PreviousEventId, e.Timestamp)
		}
	}
	if d := events[0].ExecutionStartedEventDetails; d == nil || aws.ToString(d.Input) != `{"cluster":"pg-main"}` || aws.ToString(d.RoleArn) != roleArn {
		t.Fatalf("ExecutionStarted details %+v", d)
	}
	if d := events[1].StateEnteredEventDetails; d == nil || aws.ToString(d.Name) != "Assess" || aws.ToString(d.Input) != `{"cluster":"pg-main"}` {
		t.Fatalf("TaskStateEntered details %+v", d)
	}
	if d := events[2].LambdaFunctionScheduledEventDetails; d == nil || aws.ToString(d.Resource) != assessArn {
		t.Fatalf("LambdaFunctionScheduled details %+v", d)
	}
	if d := events[4].LambdaFunctionFailedEventDetails; d == nil || aws.ToString(d.Error) != "TransientError" || !strings.Contains(aws.ToString(d.Cause), "standby not reachable yet") {
		t.Fatalf("LambdaFunctionFailed details %+v", d)
	}
	if d := events[10].LambdaFunctionSucceededEventDetails; d == nil || aws.ToString(d.Output) != `{"decision":"proceed"}` {
		t.Fatalf("LambdaFunctionSucceeded details %+v", d)
	}
	if d := events[15].TaskScheduledEventDetails; d == nil || aws.ToString(d.ResourceType) != "lambda" || aws.ToString(d.Resource) != "invoke" ||
		aws.ToString(d.Region) != "us-east-1" || !strings.Contains(aws.ToString(d.Parameters), promoteArn) {
		t.Fatalf("TaskScheduled details %+v", d)
	}
	if d := events[len(events)-1].ExecutionSucceededEventDetails; d == nil || aws.ToString(d.Output) != aws.ToString(done.Output) {
		t.Fatalf("ExecutionSucceeded details %+v", d)
	}

	reversed := st.history(t, arn, 4, true)
	slices.Reverse(reversed)
	if !slices.EqualFunc(reversed, events, func(a, b types.HistoryEvent) bool { return a.Id == b.Id && a.Type == b.Type }) {
		t.Fatalf("paginated reverse history %v differs from %v", eventTypes(reversed), eventTypes(events))
	}
	noData, err := st.client.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(false), MaxResults: 2})
	if err != nil || noData.Events[1].StateEnteredEventDetails == nil || noData.Events[1].StateEnteredEventDetails.Input != nil {
		t.Fatalf("includeExecutionData=false: %v %+v", err, noData)
	}
}

func TestCatchEndsInFail(t *testing.T) {
	st := newStack(t, map[string]asl.TaskFunc{
		assessArn: func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return nil, &asl.NamedError{Name: "StandbyTooFarBehind", Message: "lag 9000 bytes"}
		},
		promoteArn: func(context.Context, json.RawMessage) (json.RawMessage, error) {
			t.Errorf("promote ran after a refused assessment")
			return nil, errors.New("must not run")
		},
	})
	machine := st.createMachine(t, "failover", failoverDefinition)
	arn := aws.ToString(st.start(t, machine, "refused", `{}`).ExecutionArn)
	done := st.waitDone(t, arn)
	if done.Status != types.ExecutionStatusFailed || aws.ToString(done.Error) != "FailoverRefused" || aws.ToString(done.Cause) != "assessment failed" || done.Output != nil {
		t.Fatalf("describe: %s %s %s output %v", done.Status, aws.ToString(done.Error), aws.ToString(done.Cause), done.Output)
	}
	events := st.history(t, arn, 0, false)
	last := events[len(events)-1]
	if last.Type != types.HistoryEventTypeExecutionFailed || last.ExecutionFailedEventDetails == nil ||
		aws.ToString(last.ExecutionFailedEventDetails.Error) != "FailoverRefused" {
		t.Fatalf("last event %s %+v", last.Type, last.ExecutionFailedEventDetails)
	}
	if !slices.Contains(eventTypes(events), "FailStateEntered") || len(st.sleepsSoFar()) != 0 {
		t.Fatalf("a non-retryable error was retried or did not reach the Fail state: %v, sleeps %v", eventTypes(events), st.sleepsSoFar())
	}
}

func TestExecutionTimesOut(t *testing.T) {
	st := newStack(t, map[string]asl.TaskFunc{
		assessArn: func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}, func(o *sfnsim.Options) {
		o.TimeoutSleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	})
	machine := st.createMachine(t, "slow", `{"StartAt":"Assess","TimeoutSeconds":60,"States":{"Assess":{"Type":"Task","Resource":"`+assessArn+`","End":true}}}`)
	arn := aws.ToString(st.start(t, machine, "", `{}`).ExecutionArn)
	done := st.waitDone(t, arn)
	if done.Status != types.ExecutionStatusTimedOut || aws.ToString(done.Error) != "States.Timeout" {
		t.Fatalf("describe: %s %s %s", done.Status, aws.ToString(done.Error), aws.ToString(done.Cause))
	}
	events := st.history(t, arn, 0, false)
	if last := events[len(events)-1]; last.Type != types.HistoryEventTypeExecutionTimedOut || last.ExecutionTimedOutEventDetails == nil {
		t.Fatalf("last event %s", last.Type)
	}
}
