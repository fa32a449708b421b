package sfnsim

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/localaws"
)

// historyEvent is one event of an execution's history. details holds the
// event's detail structure (executionStartedEventDetails, ...) under
// detailsKey, data fields included.
type historyEvent struct {
	id, previous int64
	typ          string
	at           time.Time
	detailsKey   string
	details      map[string]any
}

var notTruncated = map[string]any{"truncated": false}

// dataFields are the detail fields GetExecutionHistory leaves out when
// includeExecutionData is false.
var dataFields = []string{"input", "inputDetails", "output", "outputDetails", "parameters"}

// record appends e with the next id. The Service's mutex is held.
func (ex *execution) record(e historyEvent) {
	e.id = int64(len(ex.events)) + 1
	e.previous = e.id - 1
	ex.events = append(ex.events, e)
}

// recordEvent adds an interpreter event to the history of a running
// execution. Execution-level events are the Service's to record, and
// nothing is recorded after the execution was stopped.
func (s *Service) recordEvent(ex *execution, e asl.Event) {
	if strings.HasPrefix(e.Type, "Execution") {
		return
	}
	at := e.Timestamp
	if at.IsZero() {
		at = s.opts.Now()
	}
	key, details := s.eventDetails(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ex.status != StatusRunning {
		return
	}
	ex.record(historyEvent{typ: e.Type, at: at, detailsKey: key, details: details})
}

// eventDetails builds the detail structure the SDK expects for an event
// type: stateEnteredEventDetails for every *StateEntered, the lambda and
// task detail structures, and map iteration details.
func (s *Service) eventDetails(e asl.Event) (string, map[string]any) {
	t := e.Type
	switch {
	case strings.HasSuffix(t, "StateEntered"):
		return "stateEnteredEventDetails", map[string]any{"name": e.StateName, "input": text(e.Input), "inputDetails": notTruncated}
	case strings.HasSuffix(t, "StateExited"):
		return "stateExitedEventDetails", map[string]any{"name": e.StateName, "output": text(e.Output), "outputDetails": notTruncated}
	case strings.HasPrefix(t, "MapIteration"):
		return detailsKey(t), map[string]any{"name": e.StateName, "index": e.Index}
	case t == "LambdaFunctionScheduled":
		return detailsKey(t), map[string]any{"resource": e.Resource, "input": text(e.Input), "inputDetails": notTruncated}
	case t == "LambdaFunctionSucceeded":
		return detailsKey(t), map[string]any{"output": text(e.Output), "outputDetails": notTruncated}
	case t == "LambdaFunctionFailed", t == "LambdaFunctionTimedOut", t == "LambdaFunctionScheduleFailed", t == "LambdaFunctionStartFailed":
		return detailsKey(t), errorDetails(e.Error, e.Cause)
	case strings.HasPrefix(t, "Task"):
		return detailsKey(t), s.taskDetails(e)
	}
	return "", nil
}

// taskDetails describes a service integration task event: the resource
// "arn:aws:states:::lambda:invoke" is resourceType "lambda", resource
// "invoke".
func (s *Service) taskDetails(e asl.Event) map[string]any {
	resourceType, resource := "", e.Resource
	if rest, ok := strings.CutPrefix(e.Resource, "arn:aws:states:::"); ok {
		resourceType, resource, _ = strings.Cut(rest, ":")
	}
	d := map[string]any{"resourceType": resourceType, "resource": resource}
	switch e.Type {
	case "TaskScheduled":
		d["region"] = s.opts.Region
		d["parameters"] = text(e.Input)
	case "TaskSucceeded", "TaskSubmitted":
		d["output"] = text(e.Output)
		d["outputDetails"] = notTruncated
	case "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed":
		for k, v := range errorDetails(e.Error, e.Cause) {
			d[k] = v
		}
	}
	return d
}

// detailsKey names an event type's detail member: "TaskFailed" →
// "taskFailedEventDetails".
func detailsKey(eventType string) string {
	return strings.ToLower(eventType[:1]) + eventType[1:] + "EventDetails"
}

func text(raw []byte) string {
	if raw == nil {
		return "null"
	}
	return string(raw)
}

func (s *Service) getExecutionHistory(call *localaws.Call) (any, error) {
	var in struct {
		ExecutionArn         string `json:"executionArn"`
		MaxResults           int    `json:"maxResults"`
		NextToken            string `json:"nextToken"`
		ReverseOrder         bool   `json:"reverseOrder"`
		IncludeExecutionData *bool  `json:"includeExecutionData"`
	}
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.ExecutionArn)
	s.mu.Lock()
	ex, err := s.execution(in.ExecutionArn)
	var events []historyEvent
	if err == nil {
		events = slices.Clone(ex.events)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if in.ReverseOrder {
		slices.Reverse(events)
	}
	page, next, err := paginate(events, func(e historyEvent) string { return strconv.FormatInt(e.id, 10) }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := make([]map[string]any, len(page))
	for i, e := range page {
		out[i] = e.wire(withData)
	}
	resp := map[string]any{"events": out}
	if next != "" {
		resp["nextToken"] = next
	}
	return resp, nil
}

// wire renders the event as GetExecutionHistory returns it.
func (e historyEvent) wire(withData bool) map[string]any {
	w := map[string]any{"id": e.id, "previousEventId": e.previous, "type": e.typ, "timestamp": epoch(e.at)}
	if e.detailsKey != "" {
		d := make(map[string]any, len(e.details))
		for k, v := range e.details {
			if withData || !slices.Contains(dataFields, k) {
				d[k] = v
			}
		}
		w[e.detailsKey] = d
	}
	return w
}
