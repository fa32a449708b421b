package sfnsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/localaws/eventbus"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
)

// StartExecution refuses an input longer than 256 KiB (in UTF-8 bytes) with
// the modelled length constraint's ValidationException, and creates
// nothing; exactly 262144 bytes is accepted.
func TestStartExecutionInputSizeLimit(t *testing.T) {
	st := newStack(t, map[string]asl.TaskFunc{holdArn: newGate().task})
	machine := st.createMachine(t, "hold", holdDefinition)
	input := func(n int) string {
		// {"pad":"ééé…"}: two bytes per é, so the limit counts bytes.
		pad := n - len(`{"pad":""}`)
		return `{"pad":"` + strings.Repeat("é", pad/2) + strings.Repeat("x", pad%2) + `"}`
	}
	ok := input(262144)
	if len(ok) != 262144 {
		t.Fatalf("test input has %d bytes", len(ok))
	}
	out := st.start(t, machine, "at-the-limit", ok)
	if done := st.waitDone(t, aws.ToString(out.ExecutionArn)); done.Status != "SUCCEEDED" {
		t.Fatalf("input of 262144 bytes: execution %s", done.Status)
	}

	_, err := st.client.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(machine),
		Name: aws.String("over-the-limit"), Input: aws.String(input(262145))})
	apiError(t, err, "ValidationException", "Member must have length less than or equal to 262144")
	if _, err := st.sim.Start(context.Background(), machine, "over-in-process", []byte(input(262145))); err == nil {
		t.Fatal("Start accepted 262145 bytes")
	}
	if got := len(st.sim.Executions(machine)); got != 1 {
		t.Fatalf("%d executions after the refused starts, want 1", got)
	}
	if got := len(st.sim.StatusChangeEvents()); got != 2 {
		t.Fatalf("%d status change events, want RUNNING and SUCCEEDED of the accepted start only", got)
	}
}

type statusChange struct {
	Source     string   `json:"source"`
	DetailType string   `json:"detail-type"`
	Account    string   `json:"account"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     struct {
		ExecutionArn    string  `json:"executionArn"`
		StateMachineArn string  `json:"stateMachineArn"`
		Name            string  `json:"name"`
		Status          string  `json:"status"`
		StartDate       int64   `json:"startDate"`
		StopDate        *int64  `json:"stopDate"`
		Input           string  `json:"input"`
		Output          *string `json:"output"`
		Error           *string `json:"error"`
		Cause           *string `json:"cause"`
	} `json:"detail"`
}

// Every execution publishes RUNNING and then exactly one terminal status to
// the event bus, shaped as Step Functions' EventBridge events.
func TestStatusChangeEventsReachTheBus(t *testing.T) {
	const (
		failArn  = "arn:aws:lambda:us-east-1:123456789012:function:fail"
		blockArn = "arn:aws:lambda:us-east-1:123456789012:function:block"
	)
	bus := eventbus.New(eventbus.Options{})
	t.Cleanup(bus.Close)
	var mu sync.Mutex
	got := map[string][]statusChange{} // by execution name
	err := bus.PutRule("sfn", []byte(`{"source":["aws.states"],"detail-type":["Step Functions Execution Status Change"]}`),
		func(_ context.Context, event []byte) error {
			var ev statusChange
			if err := json.Unmarshal(event, &ev); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			got[ev.Detail.Name] = append(got[ev.Detail.Name], ev)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	g := newGate()
	fail := func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, errors.New("boom") }
	block := func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	st := newStack(t, map[string]asl.TaskFunc{holdArn: g.task, failArn: fail, blockArn: block}, func(o *sfnsim.Options) {
		o.Publisher = bus
		// Execution timeouts fire at once; no task here sets its own.
		o.TimeoutSleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	})
	hold := st.createMachine(t, "hold", holdDefinition)
	failing := st.createMachine(t, "failing",
		`{"StartAt":"F","States":{"F":{"Type":"Task","Resource":"`+failArn+`","End":true}}}`)
	timing := st.createMachine(t, "timing",
		`{"StartAt":"Block","TimeoutSeconds":5,"States":{"Block":{"Type":"Task","Resource":"`+blockArn+`","End":true}}}`)
	ctx := context.Background()

	st.waitDone(t, aws.ToString(st.start(t, hold, "ok", `{"hold":false}`).ExecutionArn))
	st.waitDone(t, aws.ToString(st.start(t, failing, "failed", `{}`).ExecutionArn))
	st.waitDone(t, aws.ToString(st.start(t, timing, "timed-out", `{}`).ExecutionArn))
	aborted := aws.ToString(st.start(t, hold, "aborted", `{"hold":true}`).ExecutionArn)
	waitFor(t, g.entered, "the held task")
	if _, err := st.client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(aborted),
		Error: aws.String("OperatorAbort"), Cause: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.sim.WaitStoppedTasks(wctx); err != nil {
		t.Fatal(err)
	}
	if err := bus.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	if errs := st.sim.PublishErrors(); len(errs) > 0 {
		t.Fatalf("publish errors: %v", errs)
	}

	want := map[string]struct{ status, errName string }{ // errName "": any
		"ok": {"SUCCEEDED", ""}, "failed": {"FAILED", ""}, "timed-out": {"TIMED_OUT", "States.Timeout"},
		"aborted": {"ABORTED", "OperatorAbort"},
	}
	mu.Lock()
	defer mu.Unlock()
	for name, w := range want {
		evs := got[name]
		if len(evs) != 2 || evs[0].Detail.Status != "RUNNING" || evs[1].Detail.Status != w.status {
			t.Errorf("%s: events %+v, want RUNNING then %s", name, evs, w.status)
			continue
		}
		run, end := evs[0], evs[1]
		if run.Source != "aws.states" || run.DetailType != "Step Functions Execution Status Change" ||
			run.Account != "123456789012" || run.Region != "us-east-1" || len(run.Resources) != 1 ||
			run.Resources[0] != run.Detail.ExecutionArn || !strings.Contains(run.Detail.StateMachineArn, ":stateMachine:") {
			t.Errorf("%s: envelope %+v", name, run)
		}
		if run.Detail.StopDate != nil || run.Detail.Output != nil || run.Detail.StartDate == 0 || run.Detail.Input == "" {
			t.Errorf("%s: RUNNING detail %+v", name, run.Detail)
		}
		if end.Detail.StopDate == nil || *end.Detail.StopDate < end.Detail.StartDate || end.Detail.StartDate != run.Detail.StartDate {
			t.Errorf("%s: %s dates %d..%v", name, w.status, end.Detail.StartDate, end.Detail.StopDate)
		}
		if w.status == "SUCCEEDED" {
			if end.Detail.Output == nil || *end.Detail.Output != `{"held":false}` || end.Detail.Error != nil {
				t.Errorf("ok: output %v error %v", end.Detail.Output, end.Detail.Error)
			}
		} else if end.Detail.Output != nil || end.Detail.Error == nil || (w.errName != "" && *end.Detail.Error != w.errName) {
			t.Errorf("%s: output %v error %v, want error %s", name, end.Detail.Output, end.Detail.Error, w.errName)
		}
	}
}
