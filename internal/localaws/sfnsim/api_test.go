package sfnsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
)

const holdArn = "arn:aws:lambda:us-east-1:123456789012:function:hold"

// holdDefinition runs one task that the test controls through a gate.
const holdDefinition = `{"StartAt":"Hold","States":{"Hold":{"Type":"Task","Resource":"` + holdArn + `","End":true}}}`

// gate is a task that holds executions whose input has "hold": true until
// released or cancelled, and counts its runs.
type gate struct {
	runs      atomic.Int32
	entered   chan struct{}
	release   chan struct{}
	cancelled chan struct{}
	once      sync.Once
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 100), release: make(chan struct{}), cancelled: make(chan struct{})}
}

func (g *gate) task(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	g.runs.Add(1)
	var in struct {
		Hold bool `json:"hold"`
	}
	_ = json.Unmarshal(input, &in)
	if !in.Hold {
		return json.RawMessage(`{"held":false}`), nil
	}
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return json.RawMessage(`{"held":true}`), nil
	case <-ctx.Done():
		g.once.Do(func() { close(g.cancelled) })
		return nil, ctx.Err()
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestStartExecutionNameIdempotency(t *testing.T) {
	g := newGate()
	st := newStack(t, map[string]asl.TaskFunc{holdArn: g.task})
	machine := st.createMachine(t, "hold", holdDefinition)
	ctx := context.Background()
	input := `{"hold":true,"reason":"switchover"}`
	first := st.start(t, machine, "switchover-1", input)
	waitFor(t, g.entered, "the task to start")

	again := st.start(t, machine, "switchover-1", input)
	if aws.ToString(again.ExecutionArn) != aws.ToString(first.ExecutionArn) || !again.StartDate.Equal(*first.StartDate) {
		t.Fatalf("same name and input while running: got %s@%v, want %s@%v",
			aws.ToString(again.ExecutionArn), again.StartDate, aws.ToString(first.ExecutionArn), first.StartDate)
	}
	_, err := st.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine),
		Name: aws.String("switchover-1"), Input: aws.String(`{"hold":true,"reason":"other"}`)})
	apiError(t, err, "ExecutionAlreadyExists", "Execution Already Exists: '"+aws.ToString(first.ExecutionArn)+"'")

	close(g.release)
	if done := st.waitDone(t, aws.ToString(first.ExecutionArn)); done.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s", done.Status)
	}
	if g.runs.Load() != 1 {
		t.Fatalf("the task ran %d times for one execution name", g.runs.Load())
	}
	_, err = st.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine),
		Name: aws.String("switchover-1"), Input: aws.String(input)})
	apiError(t, err, "ExecutionAlreadyExists", "Execution Already Exists")
}

// StopExecution marks the execution ABORTED at once, but as in AWS a
// running Lambda invocation is not stopped: it runs to its end and its
// result is discarded.
func TestStopExecution(t *testing.T) {
	g := newGate()
	var result atomic.Value
	task := func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		out, err := g.task(ctx, in)
		result.Store(fmt.Sprintf("%s %v", out, err))
		return out, err
	}
	st := newStack(t, map[string]asl.TaskFunc{holdArn: task})
	machine := st.createMachine(t, "hold", holdDefinition)
	ctx := context.Background()
	arn := aws.ToString(st.start(t, machine, "", `{"hold":true}`).ExecutionArn)
	waitFor(t, g.entered, "the task to start")

	stopped, err := st.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn),
		Error: aws.String("OperatorAbort"), Cause: aws.String("stopped from the console")})
	if err != nil || stopped.StopDate == nil {
		t.Fatalf("StopExecution: %v %v", err, stopped)
	}
	// ABORTED at once, while the task still runs.
	if info, _ := st.sim.Execution(arn); info.Status != sfnsim.StatusAborted {
		t.Fatalf("status right after StopExecution: %s", info.Status)
	}
	status, err := st.sim.WaitExecution(ctx, arn)
	if err != nil || status != sfnsim.StatusAborted {
		t.Fatalf("WaitExecution: %s %v", status, err)
	}
	select {
	case <-g.cancelled:
		t.Fatal("StopExecution cancelled the running task")
	default:
	}
	close(g.release)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.sim.WaitStoppedTasks(wctx); err != nil {
		t.Fatal(err)
	}
	if got := result.Load(); got != `{"held":true} <nil>` {
		t.Fatalf("the stopped execution's task ended with %v, want it to run to completion", got)
	}
	st.sim.Close() // wait for the execution's goroutine: nothing may be recorded after the abort
	desc := st.waitDone(t, arn)
	if desc.Status != types.ExecutionStatusAborted || aws.ToString(desc.Error) != "OperatorAbort" ||
		aws.ToString(desc.Cause) != "stopped from the console" || !desc.StopDate.Equal(*stopped.StopDate) || desc.Output != nil {
		t.Fatalf("describe after stop: %s %s %s %v output %v", desc.Status, aws.ToString(desc.Error), aws.ToString(desc.Cause), desc.StopDate, desc.Output)
	}
	events := st.history(t, arn, 0, false)
	last := events[len(events)-1]
	if last.Type != types.HistoryEventTypeExecutionAborted || last.ExecutionAbortedEventDetails == nil ||
		aws.ToString(last.ExecutionAbortedEventDetails.Error) != "OperatorAbort" {
		t.Fatalf("history ends with %s %+v (%v)", last.Type, last.ExecutionAbortedEventDetails, eventTypes(events))
	}
	again, err := st.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Error: aws.String("Other")})
	if err != nil || !again.StopDate.Equal(*stopped.StopDate) {
		t.Fatalf("stopping a stopped execution: %v %v", err, again)
	}
	if desc := st.waitDone(t, arn); aws.ToString(desc.Error) != "OperatorAbort" {
		t.Fatalf("a second stop changed the error to %s", aws.ToString(desc.Error))
	}
}

func TestListExecutions(t *testing.T) {
	g := newGate()
	st := newStack(t, map[string]asl.TaskFunc{holdArn: g.task})
	machine := st.createMachine(t, "hold", holdDefinition)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		st.waitDone(t, aws.ToString(st.start(t, machine, fmt.Sprintf("quick-%d", i), `{}`).ExecutionArn))
	}
	st.start(t, machine, "held", `{"hold":true}`)
	waitFor(t, g.entered, "the held execution")
	defer close(g.release)

	list := func(filter types.ExecutionStatus, page int32) []string {
		t.Helper()
		var names []string
		var token *string
		for {
			out, err := st.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine),
				StatusFilter: filter, MaxResults: page, NextToken: token})
			if err != nil {
				t.Fatalf("ListExecutions: %v", err)
			}
			if int32(len(out.Executions)) > page && page > 0 {
				t.Fatalf("page of %d with MaxResults %d", len(out.Executions), page)
			}
			for _, e := range out.Executions {
				if aws.ToString(e.StateMachineArn) != machine || e.StartDate == nil {
					t.Fatalf("list item %+v", e)
				}
				names = append(names, aws.ToString(e.Name))
			}
			if out.NextToken == nil {
				return names
			}
			token = out.NextToken
		}
	}
	if got, want := list(types.ExecutionStatusSucceeded, 2), []string{"quick-5", "quick-4", "quick-3", "quick-2", "quick-1"}; !slices.Equal(got, want) {
		t.Fatalf("SUCCEEDED, newest first: %v, want %v", got, want)
	}
	if got := list(types.ExecutionStatusRunning, 0); !slices.Equal(got, []string{"held"}) {
		t.Fatalf("RUNNING: %v", got)
	}
	if got := list("", 4); len(got) != 6 || got[0] != "held" {
		t.Fatalf("all: %v", got)
	}
	_, err := st.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine), NextToken: aws.String("bogus")})
	apiError(t, err, "InvalidToken", "Invalid Token")
}

func TestStateMachineAPI(t *testing.T) {
	g := newGate()
	st := newStack(t, map[string]asl.TaskFunc{holdArn: g.task})
	ctx := context.Background()
	arn := st.createMachine(t, "hold", holdDefinition)
	if arn != "arn:aws:states:us-east-1:123456789012:stateMachine:hold" {
		t.Fatalf("state machine ARN %s", arn)
	}
	if again := st.createMachine(t, "hold", holdDefinition); again != arn {
		t.Fatalf("idempotent create returned %s", again)
	}
	create := func(name, def, role string) error {
		_, err := st.client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role)})
		return err
	}
	apiError(t, create("hold", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, roleArn), "StateMachineAlreadyExists", "State Machine Already Exists: '"+arn+"'")
	apiError(t, create("broken", `{"StartAt":"Missing","States":{"P":{"Type":"Pass","End":true}}}`, roleArn), "InvalidDefinition", "Invalid State Machine Definition")
	apiError(t, create("broken", `{not json`, roleArn), "InvalidDefinition", "Invalid State Machine Definition")
	apiError(t, create("bad name", holdDefinition, roleArn), "InvalidName", "Invalid Name: 'bad name'")
	apiError(t, create("norole", holdDefinition, "not-an-arn"), "InvalidArn", "Invalid Arn")

	desc, err := st.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil || aws.ToString(desc.Definition) != holdDefinition || aws.ToString(desc.RoleArn) != roleArn ||
		desc.Status != types.StateMachineStatusActive || desc.Type != types.StateMachineTypeStandard || desc.CreationDate == nil {
		t.Fatalf("DescribeStateMachine: %v %+v", err, desc)
	}
	_, err = st.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn + "x")})
	apiError(t, err, "StateMachineDoesNotExist", "State Machine Does Not Exist")
	_, err = st.client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:hold:x")})
	apiError(t, err, "InvalidArn", "Invalid Arn")

	passDef := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"updated":true},"End":true}}}`
	if _, err := st.client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(passDef)}); err != nil {
		t.Fatalf("UpdateStateMachine: %v", err)
	}
	_, err = st.client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(`{}`)})
	apiError(t, err, "InvalidDefinition", "Invalid State Machine Definition")
	done := st.waitDone(t, aws.ToString(st.start(t, arn, "", `{}`).ExecutionArn))
	if aws.ToString(done.Output) != `{"updated":true}` {
		t.Fatalf("execution after update ran the old definition: %s", aws.ToString(done.Output))
	}
	machines, err := st.client.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(machines.StateMachines) != 1 || aws.ToString(machines.StateMachines[0].StateMachineArn) != arn {
		t.Fatalf("ListStateMachines: %v %+v", err, machines)
	}
}

func TestExecutionErrors(t *testing.T) {
	st := newStack(t, nil)
	machine := st.createMachine(t, "pass", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	ctx := context.Background()
	unknownMachine := "arn:aws:states:us-east-1:123456789012:stateMachine:nope"
	unknownExecution := "arn:aws:states:us-east-1:123456789012:execution:pass:nope"
	start := func(machine, name, input string) error {
		_, err := st.client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String(name), Input: aws.String(input)})
		return err
	}
	apiError(t, start(unknownMachine, "a", `{}`), "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+unknownMachine+"'")
	apiError(t, start(machine, "a", `{"unterminated":`), "InvalidExecutionInput", "Invalid State Machine Execution Input")
	apiError(t, start(machine, "has space", `{}`), "InvalidName", "Invalid Name")
	apiError(t, start(machine, strings.Repeat("n", 81), `{}`), "InvalidName", "Invalid Name")
	apiError(t, start("arn:aws:states:us-east-1:123456789012:activity:x", "a", `{}`), "InvalidArn", "Invalid Arn")

	_, err := st.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(unknownExecution)})
	apiError(t, err, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+unknownExecution+"'")
	_, err = st.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(machine)})
	apiError(t, err, "InvalidArn", "Invalid Arn")
	_, err = st.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(unknownExecution)})
	apiError(t, err, "ExecutionDoesNotExist", "Execution Does Not Exist")
	_, err = st.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(unknownExecution)})
	apiError(t, err, "ExecutionDoesNotExist", "Execution Does Not Exist")
	_, err = st.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(unknownMachine)})
	apiError(t, err, "StateMachineDoesNotExist", "State Machine Does Not Exist")

	arn := aws.ToString(st.start(t, machine, "ok", `{"x":1}`).ExecutionArn)
	st.waitDone(t, arn)
	_, err = st.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), NextToken: aws.String("garbage")})
	apiError(t, err, "InvalidToken", "Invalid Token")

	st.srv.SetBucket(localaws.BucketStepFunctions, 1, 0.001)
	err = nil
	for i := 0; i < 3 && err == nil; i++ {
		_, err = st.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	}
	apiError(t, err, "ThrottlingException", "Rate exceeded")
}

func TestInProcessAPI(t *testing.T) {
	st := newStack(t, nil)
	ctx := context.Background()
	machine, err := st.sim.CreateStateMachine("pass", []byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`), roleArn)
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	arn, err := st.sim.Start(ctx, machine, "from-eventbridge", []byte(`{"detail":{"state":"ALARM"}}`))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	status, err := st.sim.WaitExecution(ctx, arn)
	if err != nil || status != sfnsim.StatusSucceeded {
		t.Fatalf("WaitExecution: %s %v", status, err)
	}
	info, ok := st.sim.Execution(arn)
	if !ok || string(info.Output) != `{"detail":{"state":"ALARM"}}` || info.StopDate.IsZero() {
		t.Fatalf("Execution: %+v", info)
	}
	_, err = st.sim.Start(ctx, machine, "from-eventbridge", nil)
	var ae *localaws.APIError
	if !errors.As(err, &ae) || ae.Code != "ExecutionAlreadyExists" {
		t.Fatalf("reusing a name in process: %v", err)
	}
	second, err := st.sim.Start(ctx, machine, "", nil)
	if err != nil {
		t.Fatalf("Start without name: %v", err)
	}
	if _, err := st.sim.WaitExecution(ctx, second); err != nil {
		t.Fatalf("WaitExecution: %v", err)
	}
	all := st.sim.Executions(machine)
	if len(all) != 2 || all[0].ARN != arn || all[1].ARN != second || string(all[1].Input) != "{}" || len(all[1].Name) != 36 {
		t.Fatalf("Executions: %+v", all)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.sim.WaitExecution(cancelled, second); err != nil {
		t.Fatalf("waiting for a finished execution with a done context: %v", err)
	}
}

func TestSubstitute(t *testing.T) {
	tmpl := []byte(`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${AssessFunctionArn}","Next":"B"},"B":{"Type":"Task","Resource":"${PromoteFunctionArn}","End":true}}}`)
	got, err := sfnsim.Substitute(tmpl, map[string]string{"AssessFunctionArn": assessArn, "PromoteFunctionArn": promoteArn, "Unused": "x"})
	if err != nil {
		t.Fatalf("Substitute: %v", err)
	}
	if strings.Contains(string(got), "${") || !strings.Contains(string(got), `"Resource":"`+assessArn+`"`) {
		t.Fatalf("substituted: %s", got)
	}
	if _, err := asl.Parse(got); err != nil {
		t.Fatalf("substituted definition does not parse: %v", err)
	}
	_, err = sfnsim.Substitute(tmpl, map[string]string{"AssessFunctionArn": assessArn})
	if err == nil || !strings.Contains(err.Error(), "${PromoteFunctionArn}") {
		t.Fatalf("unresolved substitution: %v", err)
	}
}
