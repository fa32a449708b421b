package sfnsim

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// EventPublisher receives the EventBridge events of execution status
// changes, as JSON. *eventbus.Bus satisfies it.
type EventPublisher interface {
	Publish(ctx context.Context, event []byte) error
}

// Execution status change events, as Step Functions sends them to the
// default EventBridge bus.
const (
	EventSource     = "aws.states"
	EventDetailType = "Step Functions Execution Status Change"
)

// statusEvent is the EventBridge envelope of an execution status change.
type statusEvent struct {
	Version    string       `json:"version"`
	ID         string       `json:"id"`
	DetailType string       `json:"detail-type"`
	Source     string       `json:"source"`
	Account    string       `json:"account"`
	Time       string       `json:"time"`
	Region     string       `json:"region"`
	Resources  []string     `json:"resources"`
	Detail     statusDetail `json:"detail"`
}

// statusDetail is the event's detail: the execution as DescribeExecution
// shows it, with dates in epoch milliseconds and absent values as null.
type statusDetail struct {
	ExecutionArn    string        `json:"executionArn"`
	StateMachineArn string        `json:"stateMachineArn"`
	Name            string        `json:"name"`
	Status          string        `json:"status"`
	StartDate       int64         `json:"startDate"`
	StopDate        *int64        `json:"stopDate"`
	Input           string        `json:"input"`
	InputDetails    *dataIncluded `json:"inputDetails"`
	Output          *string       `json:"output"`
	OutputDetails   *dataIncluded `json:"outputDetails"`
	Error           *string       `json:"error"`
	Cause           *string       `json:"cause"`
}

type dataIncluded struct {
	Included bool `json:"included"`
}

// statusEventLocked renders the status change event of ex's current
// status. s.mu is held.
func (s *Service) statusEventLocked(ex *execution) []byte {
	d := statusDetail{ExecutionArn: ex.arn, StateMachineArn: ex.sm.arn, Name: ex.name, Status: ex.status,
		StartDate: ex.start.UnixMilli(), Input: ex.input, InputDetails: &dataIncluded{Included: true}}
	at := ex.start
	if ex.status != StatusRunning {
		stop := ex.stop.UnixMilli()
		d.StopDate, at = &stop, ex.stop
	}
	if ex.status == StatusSucceeded {
		out := ex.output
		d.Output, d.OutputDetails = &out, &dataIncluded{Included: true}
	}
	if ex.errName != "" {
		e := ex.errName
		d.Error = &e
	}
	if ex.cause != "" {
		c := ex.cause
		d.Cause = &c
	}
	ev := statusEvent{Version: "0", ID: newUUID(), DetailType: EventDetailType, Source: EventSource,
		Account: s.opts.AccountID, Time: at.UTC().Format(time.RFC3339), Region: s.opts.Region,
		Resources: []string{ex.arn}, Detail: d}
	b, _ := json.Marshal(ev) // strings, numbers and booleans only: cannot fail
	s.events = append(s.events, b)
	return b
}

// StatusChangeEvents returns every execution status change event emitted
// so far, oldest first, whether or not a Publisher took it.
func (s *Service) StatusChangeEvents() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.events...)
}

// PublishErrors returns the errors the Publisher returned, oldest first.
func (s *Service) PublishErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.pubErrs...)
}

// publish hands an event to the Publisher. s.pubMu must be held (so events
// leave in the order the statuses changed), s.mu must not.
func (s *Service) publish(event []byte) {
	if s.opts.Publisher == nil || event == nil {
		return
	}
	if err := s.opts.Publisher.Publish(context.Background(), event); err != nil {
		s.mu.Lock()
		s.pubErrs = append(s.pubErrs, fmt.Errorf("publishing an execution status change: %w", err))
		s.mu.Unlock()
	}
}
