package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// ExecutionFailedError says a waited-for execution ended in a status other
// than SUCCEEDED.
type ExecutionFailedError struct {
	ExecutionARN string
	Status       string // FAILED, TIMED_OUT or ABORTED
	ErrorName    string // the execution's error, e.g. "States.TaskFailed"
	Cause        string
}

func (e *ExecutionFailedError) Error() string {
	msg := fmt.Sprintf("execution %s ended %s", e.ExecutionARN, e.Status)
	if e.ErrorName != "" {
		msg += ": error " + e.ErrorName
	}
	if e.Cause != "" {
		msg += ": cause " + e.Cause
	}
	return msg
}

// timelineEvent is one history event of an execution, as the CLI shows it.
type timelineEvent struct {
	ID        int64     `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	// ElapsedMillis is the time since the execution started.
	ElapsedMillis int64 `json:"elapsedMillis"`
	// State is the state the event belongs to: the state entered or exited,
	// or for task and Lambda events the state entered last.
	State string `json:"state,omitempty"`
	Type  string `json:"type"`
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
}

// executionResult is how an execution ended.
type executionResult struct {
	Status   string          `json:"status"`
	Error    string          `json:"error,omitempty"`
	Cause    string          `json:"cause,omitempty"`
	Output   string          `json:"output,omitempty"`
	Duration string          `json:"duration,omitempty"`
	Timeline []timelineEvent `json:"timeline"`
}

// err is the command's error for the result: nil when it succeeded.
func (r executionResult) err(executionARN string) error {
	if r.Status == string(types.ExecutionStatusSucceeded) {
		return nil
	}
	return &ExecutionFailedError{ExecutionARN: executionARN, Status: r.Status, ErrorName: r.Error, Cause: r.Cause}
}

// watcher polls one execution until it ends, reporting each history event
// once, in order.
type watcher struct {
	sfn          awsapi.SFNAPI
	executionARN string
	interval     time.Duration
	timeout      time.Duration // 0: no limit
	onEvent      func(timelineEvent)

	started  time.Time
	lastID   int64
	state    string
	timeline []timelineEvent
}

// wait polls DescribeExecution every interval and reports the history
// events that appeared since the last poll; it returns when the execution
// has left RUNNING (after reporting its last events), or fails when ctx
// ends or the timeout passes.
func (w *watcher) wait(ctx context.Context) (executionResult, error) {
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		desc, err := w.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(w.executionARN)})
		if err != nil {
			return executionResult{}, w.pollError("describing", ctx, err)
		}
		w.started = aws.ToTime(desc.StartDate)
		if err := w.readHistory(ctx); err != nil {
			return executionResult{}, w.pollError("reading the history of", ctx, err)
		}
		if desc.Status != types.ExecutionStatusRunning {
			res := executionResult{Status: string(desc.Status), Error: aws.ToString(desc.Error),
				Cause: aws.ToString(desc.Cause), Output: aws.ToString(desc.Output), Timeline: w.timeline}
			if desc.StopDate != nil {
				res.Duration = desc.StopDate.Sub(w.started).Round(time.Millisecond).String()
			}
			return res, nil
		}
		select {
		case <-ctx.Done():
			return executionResult{}, w.pollError("waiting for", ctx, ctx.Err())
		case <-tick.C:
		}
	}
}

func (w *watcher) pollError(doing string, ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return fmt.Errorf("%s execution %s: %w", doing, w.executionARN, err)
	}
	why := "interrupted"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = fmt.Sprintf("gave up after --timeout %s", w.timeout)
	}
	return fmt.Errorf("stopped waiting (%s); execution %s goes on: follow it with switchyard status", why, w.executionARN)
}

// readHistory reads the whole history and reports the events not seen yet.
func (w *watcher) readHistory(ctx context.Context) error {
	pages := sfn.NewGetExecutionHistoryPaginator(w.sfn, &sfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(w.executionARN), MaxResults: 1000})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if e.Id <= w.lastID {
				continue
			}
			w.lastID = e.Id
			ev := w.convert(e)
			w.timeline = append(w.timeline, ev)
			if w.onEvent != nil {
				w.onEvent(ev)
			}
		}
	}
	return nil
}

func (w *watcher) convert(e types.HistoryEvent) timelineEvent {
	at := aws.ToTime(e.Timestamp)
	ev := timelineEvent{ID: e.Id, Timestamp: at, ElapsedMillis: at.Sub(w.started).Milliseconds(), Type: string(e.Type)}
	switch {
	case e.StateEnteredEventDetails != nil:
		w.state = aws.ToString(e.StateEnteredEventDetails.Name)
		ev.State = w.state
	case e.StateExitedEventDetails != nil:
		ev.State = aws.ToString(e.StateExitedEventDetails.Name)
	case !isExecutionEvent(e.Type):
		ev.State = w.state
	}
	ev.Error, ev.Cause = errorOf(e)
	return ev
}

func isExecutionEvent(t types.HistoryEventType) bool {
	switch t {
	case types.HistoryEventTypeExecutionStarted, types.HistoryEventTypeExecutionSucceeded,
		types.HistoryEventTypeExecutionFailed, types.HistoryEventTypeExecutionAborted,
		types.HistoryEventTypeExecutionTimedOut:
		return true
	}
	return false
}

// errorOf returns the error and cause of a failure event.
func errorOf(e types.HistoryEvent) (string, string) {
	switch {
	case e.ExecutionFailedEventDetails != nil:
		return aws.ToString(e.ExecutionFailedEventDetails.Error), aws.ToString(e.ExecutionFailedEventDetails.Cause)
	case e.ExecutionAbortedEventDetails != nil:
		return aws.ToString(e.ExecutionAbortedEventDetails.Error), aws.ToString(e.ExecutionAbortedEventDetails.Cause)
	case e.ExecutionTimedOutEventDetails != nil:
		return aws.ToString(e.ExecutionTimedOutEventDetails.Error), aws.ToString(e.ExecutionTimedOutEventDetails.Cause)
	case e.TaskFailedEventDetails != nil:
		return aws.ToString(e.TaskFailedEventDetails.Error), aws.ToString(e.TaskFailedEventDetails.Cause)
	case e.TaskTimedOutEventDetails != nil:
		return aws.ToString(e.TaskTimedOutEventDetails.Error), aws.ToString(e.TaskTimedOutEventDetails.Cause)
	case e.TaskStartFailedEventDetails != nil:
		return aws.ToString(e.TaskStartFailedEventDetails.Error), aws.ToString(e.TaskStartFailedEventDetails.Cause)
	case e.TaskSubmitFailedEventDetails != nil:
		return aws.ToString(e.TaskSubmitFailedEventDetails.Error), aws.ToString(e.TaskSubmitFailedEventDetails.Cause)
	case e.LambdaFunctionFailedEventDetails != nil:
		return aws.ToString(e.LambdaFunctionFailedEventDetails.Error), aws.ToString(e.LambdaFunctionFailedEventDetails.Cause)
	case e.LambdaFunctionTimedOutEventDetails != nil:
		return aws.ToString(e.LambdaFunctionTimedOutEventDetails.Error), aws.ToString(e.LambdaFunctionTimedOutEventDetails.Cause)
	case e.LambdaFunctionScheduleFailedEventDetails != nil:
		return aws.ToString(e.LambdaFunctionScheduleFailedEventDetails.Error), aws.ToString(e.LambdaFunctionScheduleFailedEventDetails.Cause)
	case e.LambdaFunctionStartFailedEventDetails != nil:
		return aws.ToString(e.LambdaFunctionStartFailedEventDetails.Error), aws.ToString(e.LambdaFunctionStartFailedEventDetails.Cause)
	case e.MapRunFailedEventDetails != nil:
		return aws.ToString(e.MapRunFailedEventDetails.Error), aws.ToString(e.MapRunFailedEventDetails.Cause)
	}
	return "", ""
}

// printTimelineEvent writes one timeline line: elapsed time, state, event
// type, and the error of a failure event.
func printTimelineEvent(w io.Writer, e timelineEvent) {
	elapsed := (time.Duration(e.ElapsedMillis) * time.Millisecond).String()
	state := e.State
	if state == "" {
		state = "-"
	}
	line := fmt.Sprintf("  +%-9s %-28s %s", elapsed, state, e.Type)
	if e.Error != "" || e.Cause != "" {
		line += fmt.Sprintf("  %s: %s", e.Error, e.Cause)
	}
	fmt.Fprintln(w, line)
}

// printExecutionEnd writes how the execution ended.
func printExecutionEnd(w io.Writer, r executionResult) {
	if r.Duration != "" {
		fmt.Fprintf(w, "execution %s after %s\n", r.Status, r.Duration)
	} else {
		fmt.Fprintf(w, "execution %s\n", r.Status)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
	if r.Cause != "" {
		fmt.Fprintf(w, "  cause: %s\n", r.Cause)
	}
}
