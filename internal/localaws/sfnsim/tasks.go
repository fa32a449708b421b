package sfnsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/internal/asl"
)

// errStopped is the cause of an execution context cancelled by
// StopExecution.
var errStopped = errors.New("sfnsim: execution stopped")

// resolver wraps Options.Tasks for one execution so that its Lambda
// invocations behave as in AWS when the execution is stopped: StopExecution
// does not stop a running invocation, which runs to its end and whose
// result is discarded. The function therefore runs in a context that the
// execution's end does not cancel, except when the task times out or the
// Service is closed. While it runs it counts in ex.inflight, which
// WaitStoppedTasks watches.
func (s *Service) resolver(ex *execution) func(string) (asl.TaskFunc, bool) {
	if s.opts.Tasks == nil {
		return nil
	}
	return func(resource string) (asl.TaskFunc, bool) {
		fn, ok := s.opts.Tasks(resource)
		if !ok || fn == nil {
			return fn, ok
		}
		return func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			return s.invoke(ctx, ex, fn, in)
		}, true
	}
}

type taskResult struct {
	out json.RawMessage
	err error
}

func (s *Service) invoke(ctx context.Context, ex *execution, fn asl.TaskFunc, in json.RawMessage) (json.RawMessage, error) {
	fnCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopOnClose := context.AfterFunc(s.baseCtx, cancel)
	s.mu.Lock()
	ex.inflight++
	s.mu.Unlock()
	done := make(chan taskResult, 1)
	go func() {
		defer s.taskDone(ex)
		defer stopOnClose()
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				done <- taskResult{err: fmt.Errorf("task panicked: %v", p)}
			}
		}()
		out, err := fn(fnCtx, in)
		done <- taskResult{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		if !errors.Is(context.Cause(ctx), errStopped) {
			cancel() // the task timed out or the Service is closing
		}
		// Stopped: the invocation runs on, its result discarded.
		return nil, fmt.Errorf("task abandoned: %w", context.Cause(ctx))
	}
}

// taskDone ends one invocation counted in ex.inflight.
func (s *Service) taskDone(ex *execution) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex.inflight--
	close(s.tasksChanged)
	s.tasksChanged = make(chan struct{})
}

// WaitStoppedTasks blocks until no task invocation of an execution stopped
// by StopExecution is still running, or ctx ends. Such invocations run to
// their end as in AWS; tests use this to wait for them instead of sleeping.
func (s *Service) WaitStoppedTasks(ctx context.Context) error {
	for {
		s.mu.Lock()
		busy := 0
		for _, ex := range s.executions {
			if ex.stopped {
				busy += ex.inflight
			}
		}
		changed := s.tasksChanged
		s.mu.Unlock()
		if busy == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d task(s) of stopped executions: %w", busy, ctx.Err())
		}
	}
}
