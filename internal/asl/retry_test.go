package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

type transientError struct{}

func (transientError) Error() string { return "try again" }

// failing returns a TaskFunc that fails n times with err, then echoes, and
// counts its calls.
func failing(n int, err error, calls *atomic.Int32) TaskFunc {
	return func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		if int(calls.Add(1)) <= n {
			return nil, err
		}
		return in, nil
	}
}

func retryMachine(retry string) string {
	return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","Retry":` + retry + `,"End":true}}}`
}

func TestRetryBackoffAndMaxDelay(t *testing.T) {
	cases := []struct {
		name, retry string
		failures    int
		want        []time.Duration
		errName     string
	}{
		{"defaults: 1s, x2, 3 attempts", `[{"ErrorEquals":["transientError"]}]`, 5,
			[]time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second}, "transientError"},
		{"interval and backoff", `[{"ErrorEquals":["transientError"],"IntervalSeconds":3,"BackoffRate":1.5,"MaxAttempts":4}]`, 4,
			[]time.Duration{3 * time.Second, 4500 * time.Millisecond, 6750 * time.Millisecond, 10125 * time.Millisecond}, ""},
		{"MaxDelaySeconds caps", `[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2,"MaxAttempts":5,"MaxDelaySeconds":5}]`, 5,
			[]time.Duration{2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}, ""},
		{"MaxAttempts 0 never retries", `[{"ErrorEquals":["transientError"],"MaxAttempts":0},{"ErrorEquals":["States.ALL"]}]`, 1,
			nil, "transientError"},
		{"only the first matching retrier counts", `[{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":1},{"ErrorEquals":["transientError"],"MaxAttempts":5}]`, 3,
			[]time.Duration{time.Second}, "transientError"},
		{"non-matching retrier", `[{"ErrorEquals":["OtherError"]}]`, 1, nil, "transientError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			rec := &sleepRecorder{}
			_, err := runMachine(t, retryMachine(tc.retry), `{}`, Options{
				Sleep: rec.sleep,
				Tasks: taskTable(map[string]TaskFunc{fnArn + "f": failing(tc.failures, transientError{}, &calls)}),
			})
			if got := rec.recorded(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("delays %v, want %v", got, tc.want)
			}
			if int(calls.Load()) != len(tc.want)+1 {
				t.Fatalf("%d calls, want %d", calls.Load(), len(tc.want)+1)
			}
			if tc.errName == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if ee := execError(t, err); ee.ErrorName != tc.errName {
				t.Fatalf("got %+v", ee)
			}
		})
	}
}

func TestRetryFullJitter(t *testing.T) {
	retry := `[{"ErrorEquals":["States.ALL"],"IntervalSeconds":4,"MaxAttempts":3,"MaxDelaySeconds":6,"JitterStrategy":"FULL"}]`
	caps := []time.Duration{4 * time.Second, 6 * time.Second, 6 * time.Second}

	// A fixed random share scales each capped interval exactly.
	var calls atomic.Int32
	rec := &sleepRecorder{}
	_, err := runMachine(t, retryMachine(retry), `{}`, Options{
		Sleep: rec.sleep, Random: func() float64 { return 0.25 },
		Tasks: taskTable(map[string]TaskFunc{fnArn + "f": failing(3, transientError{}, &calls)}),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Second, 1500 * time.Millisecond, 1500 * time.Millisecond}
	if got := rec.recorded(); !reflect.DeepEqual(got, want) {
		t.Fatalf("delays %v, want %v", got, want)
	}

	// With the real random source every delay stays within [0, cap] and they
	// are not all equal to the cap.
	atCap := 0
	for run := 0; run < 20; run++ {
		calls.Store(0)
		rec := &sleepRecorder{}
		if _, err := runMachine(t, retryMachine(retry), `{}`, Options{
			Sleep: rec.sleep, Tasks: taskTable(map[string]TaskFunc{fnArn + "f": failing(3, transientError{}, &calls)}),
		}); err != nil {
			t.Fatal(err)
		}
		for i, d := range rec.recorded() {
			if d < 0 || d > caps[i] {
				t.Fatalf("delay %d = %v outside [0, %v]", i, d, caps[i])
			}
			if d == caps[i] {
				atCap++
			}
		}
	}
	if atCap == 60 {
		t.Fatal("FULL jitter never randomised a delay")
	}
}

func TestTaskFailedDoesNotMatchTimeout(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","TimeoutSeconds":1,
		"Retry":[{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":3}],
		"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Caught"},{"ErrorEquals":["States.Timeout"],"ResultPath":"$.timeout","Next":"TimedOut"}],"End":true},
		"Caught":{"Type":"Succeed"},"TimedOut":{"Type":"Succeed"}}}`
	var calls atomic.Int32
	started := make(chan struct{}, 10)
	block := func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		calls.Add(1)
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	var log eventLog
	out, err := runMachine(t, def, `{"in":1}`, Options{
		TimeoutSleep: func(ctx context.Context, _ time.Duration) error { // fires once the handler runs
			select {
			case <-started:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		Tasks:   taskTable(map[string]TaskFunc{fnArn + "f": block}),
		OnEvent: log.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Fatalf("States.TaskFailed retried a timeout: %d calls", calls.Load())
	}
	var got struct {
		In      int
		Timeout struct{ Error, Cause string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.In != 1 || got.Timeout.Error != StatesTimeout {
		t.Fatalf("got %s", out)
	}
	want := []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
		"LambdaFunctionTimedOut", "TaskStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}
	if got := log.types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestCatchResultPathAndRetryCount(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f",
		"Parameters":{"attempt.$":"$$.State.RetryCount"},
		"Retry":[{"ErrorEquals":["transientError"],"MaxAttempts":2}],
		"Catch":[{"ErrorEquals":["OtherError"],"Next":"Other"},{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Recover"}],
		"End":true},
		"Other":{"Type":"Fail","Error":"Wrong"},
		"Recover":{"Type":"Pass","End":true}}}`
	var attempts []string
	fn := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		attempts = append(attempts, string(in))
		return nil, transientError{}
	}
	out, err := runMachine(t, def, `{"cluster":"c1"}`, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "f": fn})})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`{"attempt":0}`, `{"attempt":1}`, `{"attempt":2}`}; !reflect.DeepEqual(attempts, want) {
		t.Fatalf("attempts %v, want %v", attempts, want)
	}
	assertJSON(t, out, `{"cluster":"c1","error":{"Error":"transientError","Cause":"{\"errorMessage\":\"try again\",\"errorType\":\"transientError\"}"}}`)
}

func TestCatchResultPathNullAndDefault(t *testing.T) {
	for resultPath, want := range map[string]string{
		`,"ResultPath":null`: `{"in":1}`,
		``:                   `{"Error":"E","Cause":"{\"errorMessage\":\"boom\",\"errorType\":\"E\"}"}`,
	} {
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f",
			"Catch":[{"ErrorEquals":["E"]` + resultPath + `,"Next":"S"}],"End":true},"S":{"Type":"Succeed"}}}`
		fn := func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return nil, &NamedError{Name: "E", Message: "boom"}
		}
		out, err := runMachine(t, def, `{"in":1}`, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "f": fn})})
		if err != nil {
			t.Fatal(err)
		}
		assertJSON(t, out, want)
	}
}

func TestUncaughtErrorFailsExecution(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","End":true}}}`
	fn := func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, fmt.Errorf("fence: %w", errors.New("denied"))
	}
	_, err := runMachine(t, def, `{}`, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "f": fn})})
	ee := execError(t, err)
	if ee.ErrorName != "wrapError" || ee.Status != StatusFailed {
		t.Fatalf("got %+v", ee)
	}
	assertJSON(t, ee.Cause, `{"errorMessage":"fence: denied","errorType":"wrapError"}`)
}
