package asl

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

func mustParse(t *testing.T, def string) *Machine {
	t.Helper()
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

// runMachine runs def on input with instant sleeps unless opts says otherwise.
func runMachine(t *testing.T, def, input string, opts Options) (string, error) {
	t.Helper()
	m := mustParse(t, def)
	if opts.Sleep == nil {
		opts.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	}
	out, err := m.Run(context.Background(), json.RawMessage(input), opts)
	return string(out), err
}

func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("output %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("output mismatch\n got: %s\nwant: %s", got, want)
	}
}

func execError(t *testing.T, err error) *ExecutionError {
	t.Helper()
	var ee *ExecutionError
	if !errors.As(err, &ee) {
		t.Fatalf("want *ExecutionError, got %v", err)
	}
	return ee
}

func taskTable(fns map[string]TaskFunc) func(string) (TaskFunc, bool) {
	return func(res string) (TaskFunc, bool) {
		fn, ok := fns[res]
		return fn, ok
	}
}

// echo returns its input.
func echo(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }

func constant(out string) TaskFunc {
	return func(context.Context, json.RawMessage) (json.RawMessage, error) { return json.RawMessage(out), nil }
}

// sleepRecorder is a fake Sleep returning at once and recording the delays.
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// eventLog collects events; OnEvent must be safe under the interpreter's
// serialisation alone, so it deliberately takes no lock of its own.
type eventLog struct{ events []Event }

func (l *eventLog) record(e Event) { l.events = append(l.events, e) }

func (l *eventLog) types() []string {
	out := make([]string, len(l.events))
	for i, e := range l.events {
		out[i] = e.Type
	}
	return out
}

const fnArn = "arn:aws:lambda:us-east-1:123456789012:function:"
