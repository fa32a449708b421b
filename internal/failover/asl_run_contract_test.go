package failover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard/switchyard/internal/asl"
)

// The same contract, run: statemachine/failover.asl.json executed by the
// local ASL interpreter, with the real Intake and, per case, one step
// failing with one of the handler error types.

// runMachine parses the ASL with every handler placeholder substituted by
// a Lambda ARN named after the placeholder.
func runMachine(t *testing.T) *asl.Machine {
	t.Helper()
	def, err := os.ReadFile(aslFile)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, task := range aslTasks {
		name := strings.TrimSuffix(strings.TrimPrefix(task.resource, "${"), "}")
		vars[name] = functionARN(task.resource)
	}
	sub, err := asl.Substitute(def, vars)
	if err != nil {
		t.Fatal(err)
	}
	m, err := asl.Parse(sub)
	if err != nil {
		t.Fatalf("%s does not parse: %v", aslFile, err)
	}
	return m
}

func functionARN(resource string) string {
	name := strings.TrimSuffix(strings.TrimPrefix(resource, "${"), "FunctionArn}")
	return "arn:aws:lambda:us-east-1:123456789012:function:switchyard-demo-" + strings.ToLower(name)
}

// taskRecorder counts the calls of each task and keeps the report's input.
type taskRecorder struct {
	mu          sync.Mutex
	calls       map[string]int
	reportInput State
}

func (r *taskRecorder) count(resource string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[resource]
}

// scriptedTasks wires Intake to the real handler and every other step to a
// stub returning its success output, except failAt, which always fails with
// failWith. The report stub keeps its input.
func scriptedTasks(t *testing.T, rec *taskRecorder, failAt string, failWith error) func(string) (asl.TaskFunc, bool) {
	intake := newTestIntake(t)
	success := map[string]any{
		"${LeaseFunctionArn}":   Lease{Acquired: true, Holder: testExecARN, Epoch: 8, Primary: "node1"},
		"${AssessFunctionArn}":  Assessment{Decision: DecisionProceed, Reason: "primary lost", OldPrimary: "node1", NewPrimary: "node2", Evidence: []string{"stub"}},
		"${FenceFunctionArn}":   done("node1 fenced (stop)"),
		"${PromoteFunctionArn}": done("node2 promoted"),
		"${RerouteFunctionArn}": done("clients routed to node2"),
		"${VerifyFunctionArn}":  done("a write landed on node2"),
		"${RecordFunctionArn}":  done("node2 is primary at epoch 8"),
	}
	byARN := map[string]string{}
	for _, task := range aslTasks {
		byARN[functionARN(task.resource)] = task.resource
	}
	return func(arn string) (asl.TaskFunc, bool) {
		resource, ok := byARN[arn]
		if !ok {
			return nil, false
		}
		return func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			rec.mu.Lock()
			rec.calls[resource]++
			rec.mu.Unlock()
			switch {
			case resource == "${IntakeFunctionArn}":
				return lambda.NewHandler(intake.Handle).Invoke(ctx, in)
			case resource == failAt:
				return nil, failWith
			case resource == reportResource:
				var s State
				if err := json.Unmarshal(in, &s); err != nil {
					return nil, fmt.Errorf("report input: %w", err)
				}
				rec.mu.Lock()
				rec.reportInput = s
				rec.mu.Unlock()
				summary := "stub report: no error in the state"
				if s.Error != nil {
					summary = "stub report: " + s.Error.Error
				}
				return json.Marshal(Report{Outcome: "failed", FailedStep: failAt, Summary: summary})
			}
			return json.Marshal(success[resource])
		}, true
	}
}

func runOptions(rec *taskRecorder, tasks func(string) (asl.TaskFunc, bool)) asl.Options {
	return asl.Options{
		Tasks:     tasks,
		Sleep:     func(ctx context.Context, _ time.Duration) error { return ctx.Err() }, // retries back off instantly
		Random:    func() float64 { return 0.5 },
		Execution: asl.ExecutionInfo{ID: testExecARN},
	}
}

func TestASLRunRejectedInputTouchesNothing(t *testing.T) {
	for _, tc := range []struct {
		name, mentions string
		input          []byte
	}{
		{"alarm back to OK", "not ALARM", readEvent(t, "alarm-ok.json")},
		{"not an object", "not a JSON object", []byte(`[1]`)},
		{"a string", "not a JSON object", []byte(`"failover"`)},
	} {
		t.Run(tc.name, func(t *testing.T) { runRejected(t, tc.input, tc.mentions) })
	}
}

func runRejected(t *testing.T, input []byte, mentions string) {
	m := runMachine(t)
	rec := &taskRecorder{calls: map[string]int{}}
	_, err := m.Run(context.Background(), input, runOptions(rec, scriptedTasks(t, rec, "", nil)))
	var ee *asl.ExecutionError
	if !errors.As(err, &ee) {
		t.Fatalf("execution ended with %v, want it failed", err)
	}
	if ee.Status != asl.StatusFailed || ee.ErrorName != "InputError" || !strings.Contains(ee.Cause, mentions) {
		t.Errorf("execution %s with %s: %s; want FAILED with InputError saying %q", ee.Status, ee.ErrorName, ee.Cause, mentions)
	}
	for _, task := range aslTasks {
		want := 0
		if task.resource == "${IntakeFunctionArn}" {
			want = 1
		}
		if got := rec.count(task.resource); got != want {
			t.Errorf("%s called %d times, want %d", task.resource, got, want)
		}
	}
}

func TestASLRunRoutesEachHandlerErrorToTheReport(t *testing.T) {
	d := loadASL(t)
	m := runMachine(t)
	proceedPath := []string{"${AssessFunctionArn}", "${FenceFunctionArn}", "${PromoteFunctionArn}",
		"${RerouteFunctionArn}", "${VerifyFunctionArn}", "${RecordFunctionArn}"}
	// The states of the proceed path (Record's resource also serves
	// RecordNoAction, with other retries).
	stateOf := map[string]string{}
	for _, name := range []string{"Assess", "Fence", "Promote", "Reroute", "Verify", "Record"} {
		stateOf[d.States[name].Resource] = name
	}
	for _, r := range proceedPath {
		if _, ok := stateOf[r]; !ok {
			t.Fatalf("no state of the proceed path runs %s (states by resource: %v)", r, stateOf)
		}
	}
	handlerErrors := []error{
		&TransientError{Step: "stub", Err: errors.New("throttled")},
		&StepFailed{Step: "stub", Err: errors.New("cannot")},
		&FenceNotConfirmed{Err: errors.New("instance still running")},
		&InputError{Msg: "stub"},
	}
	for i, failAt := range proceedPath {
		for _, failWith := range handlerErrors {
			name := asl.ErrorType(failWith)
			t.Run(stateOf[failAt]+"/"+name, func(t *testing.T) {
				rec := &taskRecorder{calls: map[string]int{}}
				_, err := m.Run(context.Background(), readEvent(t, "manual-failover.json"), runOptions(rec, scriptedTasks(t, rec, failAt, failWith)))
				var ee *asl.ExecutionError
				if !errors.As(err, &ee) {
					t.Fatalf("execution ended with %v, want it failed", err)
				}
				if ee.Status != asl.StatusFailed || ee.ErrorName != name || ee.Cause != "stub report: "+name {
					t.Errorf("execution %s with %q: %q; want FAILED with %q and the report's summary", ee.Status, ee.ErrorName, ee.Cause, name)
				}
				// Retried only if transient, as often as the ASL says.
				wantCalls := 1
				if name == "TransientError" {
					wantCalls += *d.States[stateOf[failAt]].Retry[0].MaxAttempts
				}
				if got := rec.count(failAt); got != wantCalls {
					t.Errorf("%s called %d times, want %d", failAt, got, wantCalls)
				}
				// Nothing after the failed step ran; in particular no
				// promotion after a failed assessment or fence.
				for _, later := range proceedPath[i+1:] {
					if n := rec.count(later); n != 0 {
						t.Errorf("%s ran %d times after %s failed", later, n, failAt)
					}
				}
				if n := rec.count(reportResource); n != 1 {
					t.Fatalf("the report ran %d times, want once", n)
				}
				got := rec.reportInput
				if got.Error == nil || got.Error.Error != name || !strings.Contains(got.Error.Cause, `"errorType":"`+name+`"`) {
					t.Errorf("the report got error %+v, want %s with Lambda's cause", got.Error, name)
				}
				if got.Execution != testExecARN || got.Request.Trigger != TriggerManual || got.Lease == nil || !got.Lease.Acquired {
					t.Errorf("the report got execution %q request %+v lease %+v: the state was lost on the way", got.Execution, got.Request, got.Lease)
				}
				wantCompleted := []string{}
				for _, before := range proceedPath[min(1, i):i] { // the mutating steps that succeeded (not Assess)
					wantCompleted = append(wantCompleted, strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(before, "${"), "FunctionArn}")))
				}
				if c := got.CompletedSteps(); strings.Join(c, ",") != strings.Join(wantCompleted, ",") {
					t.Errorf("the report sees completed steps %v, want %v", c, wantCompleted)
				}
			})
		}
	}
}
