package cwsim

import (
	"context"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Alarm states.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// TreatMissingData values.
const (
	treatMissing      = "missing"
	treatNotBreaching = "notBreaching"
	treatBreaching    = "breaching"
	treatIgnore       = "ignore"
)

// Comparison operators of static-threshold alarms.
var comparisons = map[string]func(v, threshold float64) bool{
	"GreaterThanOrEqualToThreshold": func(v, t float64) bool { return v >= t },
	"GreaterThanThreshold":          func(v, t float64) bool { return v > t },
	"LessThanThreshold":             func(v, t float64) bool { return v < t },
	"LessThanOrEqualToThreshold":    func(v, t float64) bool { return v <= t },
}

const initialStateReason = "Unchecked: Initial alarm creation"

// AlarmState is the state of an alarm as DescribeAlarms reports it.
type AlarmState struct {
	Value      string // OK, ALARM or INSUFFICIENT_DATA
	Reason     string
	ReasonData string    // JSON, "" when none
	Updated    time.Time // when Value last changed
}

// alarm is a single-metric, static-threshold alarm.
type alarm struct {
	name, arn, region   string
	description         string
	actionsEnabled      bool
	okActions           []string
	alarmActions        []string
	insufficientActions []string
	metric              Metric
	statistic           string
	period              int64
	unit                string
	evaluationPeriods   int
	datapointsToAlarm   int // 0 when not given: same as evaluationPeriods
	threshold           float64
	comparison          string
	treatMissingData    string // "" when not given: missing
	configUpdated       time.Time
	metricQueryID       string // id of the metric in event configurations
	state               AlarmState
	previous            AlarmState
}

func (a *alarm) requiredBreaches() int {
	if a.datapointsToAlarm > 0 {
		return a.datapointsToAlarm
	}
	return a.evaluationPeriods
}

func (a *alarm) treatment() string {
	if a.treatMissingData == "" {
		return treatMissing
	}
	return a.treatMissingData
}

func (a *alarm) breaches(v float64) bool { return comparisons[a.comparison](v, a.threshold) }

// AlarmState returns the current state of the named alarm.
func (s *Service) AlarmState(name string) (AlarmState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.alarms[name]
	if a == nil {
		return AlarmState{}, false
	}
	return a.state, true
}

// StateChangeEvents returns every alarm state change event emitted so far,
// oldest first, whether or not a Publisher took it.
func (s *Service) StateChangeEvents() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.events))
	copy(out, s.events)
	return out
}

// PublishErrors returns the errors the Publisher returned, oldest first.
func (s *Service) PublishErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.pubErrs...)
}

func (s *Service) putMetricAlarm(call *localaws.Call, in cbor.Map) (cbor.Map, *localaws.APIError) {
	a, err := parseAlarm(in)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.alarms[a.name]; old != nil {
		// An update keeps the state and overwrites the whole configuration.
		a.arn, a.region, a.metricQueryID = old.arn, old.region, old.metricQueryID
		a.state, a.previous = old.state, old.previous
	} else {
		a.region = s.regionOf(call)
		a.arn = "arn:aws:cloudwatch:" + a.region + ":" + s.opts.AccountID + ":alarm:" + a.name
		a.metricQueryID = newUUID()
		a.state = AlarmState{Value: StateInsufficientData, Reason: initialStateReason, Updated: now}
	}
	a.configUpdated = now
	s.alarms[a.name] = a
	call.AddResource(a.name)
	return cbor.Map{}, nil
}

func (s *Service) deleteAlarms(call *localaws.Call, in cbor.Map) (cbor.Map, *localaws.APIError) {
	var r reader
	names, _ := r.strings(in, "AlarmNames")
	switch {
	case r.err != nil:
		return nil, r.err
	case len(names) == 0:
		return nil, missingParameter("AlarmNames")
	case len(names) > maxAlarmNames:
		return nil, validationError("The collection AlarmNames must not have a size greater than %d.", maxAlarmNames)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []string
	for _, n := range names {
		if s.alarms[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, localaws.Errorf(404, "ResourceNotFound", "Alarm(s) not found, none deleted: %v", missing)
	}
	for _, n := range names {
		delete(s.alarms, n)
		call.AddResource(n)
	}
	return cbor.Map{}, nil
}

func (s *Service) setAlarmState(call *localaws.Call, in cbor.Map) (cbor.Map, *localaws.APIError) {
	var r reader
	name, hasName := r.str(in, "AlarmName")
	value, hasValue := r.str(in, "StateValue")
	reason, hasReason := r.str(in, "StateReason")
	reasonData, _ := r.str(in, "StateReasonData")
	switch {
	case r.err != nil:
		return nil, r.err
	case !hasName:
		return nil, missingParameter("AlarmName")
	case !hasValue:
		return nil, missingParameter("StateValue")
	case value != StateOK && value != StateAlarm && value != StateInsufficientData:
		return nil, validationError("1 validation error detected: Value '%s' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", value)
	case !hasReason:
		return nil, missingParameter("StateReason")
	case len(reason) > 1023:
		return nil, validationError("1 validation error detected: Value at 'stateReason' failed to satisfy constraint: Member must have length less than or equal to 1023")
	case len(reasonData) > 4000:
		return nil, validationError("1 validation error detected: Value at 'stateReasonData' failed to satisfy constraint: Member must have length less than or equal to 4000")
	case reasonData != "" && !isJSON(reasonData):
		return nil, localaws.BadRequest("InvalidFormat", "StateReasonData is not valid JSON.")
	}
	call.AddResource(name)

	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	s.mu.Lock()
	a := s.alarms[name]
	if a == nil {
		s.mu.Unlock()
		return nil, localaws.Errorf(404, "ResourceNotFound", "Alarm %s not found", name)
	}
	var event []byte
	if a.state.Value != value {
		event = s.transitionLocked(a, AlarmState{Value: value, Reason: reason, ReasonData: reasonData, Updated: s.opts.Now().UTC()})
	}
	s.mu.Unlock()
	if event != nil {
		s.publish([][]byte{event})
	}
	return cbor.Map{}, nil
}

// transitionLocked moves a to next and returns the state change event, which
// it also records. s.mu must be held.
func (s *Service) transitionLocked(a *alarm, next AlarmState) []byte {
	a.previous, a.state = a.state, next
	ev := s.stateChangeEvent(a)
	s.events = append(s.events, ev)
	return ev
}

// publish hands events to the Publisher in order. s.evalMu must be held,
// s.mu must not.
func (s *Service) publish(events [][]byte) {
	if s.opts.Publisher == nil {
		return
	}
	for _, ev := range events {
		if err := s.opts.Publisher.Publish(context.Background(), ev); err != nil {
			s.mu.Lock()
			s.pubErrs = append(s.pubErrs, err)
			s.mu.Unlock()
		}
	}
}
