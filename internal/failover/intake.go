package failover

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/internal/cluster"
)

// IntakeInput is what the ASL hands Intake: the raw trigger event and the
// execution id.
type IntakeInput struct {
	Event     json.RawMessage `json:"event"`
	Execution string          `json:"execution"`
}

// Event sources and detail types Intake accepts.
const (
	SourceCloudWatch     = "aws.cloudwatch"
	DetailAlarmChange    = "CloudWatch Alarm State Change"
	SourceNodeProbe      = "switchyard.nodeprobe"
	DetailPrimaryLost    = "Primary Lost"
	maxReasonLength      = 1024
	manualDefaultReasonF = "manual %s requested"
)

// Intake turns any trigger into a Request, or fails with an InputError that
// names the problem. It reads nothing but its input and changes nothing.
type Intake struct {
	Config *cluster.Config
	Now    func() time.Time
}

// Handle is the Lambda handler.
func (h *Intake) Handle(_ context.Context, in IntakeInput) (State, error) {
	if len(bytes.TrimSpace(in.Event)) == 0 || bytes.Equal(bytes.TrimSpace(in.Event), []byte("null")) {
		return State{}, inputErrorf("the execution input is empty; expected a CloudWatch alarm event, a %s event or a manual request", SourceNodeProbe)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(in.Event, &fields); err != nil {
		return State{}, inputErrorf("the execution input is not a JSON object: %v", err)
	}
	rawSource, hasSource := fields["source"]
	_, hasAction := fields["action"]
	var req Request
	var err error
	switch {
	case hasSource && hasAction:
		err = inputErrorf("the input has both \"source\" (an event) and \"action\" (a manual request); send one or the other")
	case hasSource:
		var source string
		if json.Unmarshal(rawSource, &source) != nil {
			return State{}, inputErrorf("the event's \"source\" is %s, not a string", rawSource)
		}
		req, err = h.fromEvent(in.Event, source)
	case hasAction:
		req, err = h.fromManual(in.Event)
	default:
		err = inputErrorf("the input is neither an event (no \"source\") nor a manual request (no \"action\")")
	}
	if err != nil {
		return State{}, err
	}
	return State{Execution: in.Execution, Request: req}, nil
}

type eventEnvelope struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       time.Time       `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

type alarmDetail struct {
	AlarmName string `json:"alarmName"`
	State     struct {
		Value  string `json:"value"`
		Reason string `json:"reason"`
	} `json:"state"`
}

type primaryLostDetail struct {
	Cluster    string    `json:"cluster"`
	Observer   string    `json:"observer"`
	ObservedAt time.Time `json:"observedAt"`
	Reason     string    `json:"reason"`
}

func (h *Intake) fromEvent(raw json.RawMessage, source string) (Request, error) {
	var env eventEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Request{}, inputErrorf("the event is malformed: %v", err)
	}
	if len(env.Detail) == 0 {
		return Request{}, inputErrorf("the %s event has no detail", source)
	}
	at := env.Time
	if at.IsZero() {
		at = h.now()
	}
	switch {
	case source == SourceCloudWatch && env.DetailType == DetailAlarmChange:
		var d alarmDetail
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			return Request{}, inputErrorf("the alarm event's detail is malformed: %v", err)
		}
		if d.AlarmName != h.Config.Detection.AlarmName {
			return Request{}, inputErrorf("alarm %q is not the heartbeat alarm of cluster %q (%q)", d.AlarmName, h.Config.Name, h.Config.Detection.AlarmName)
		}
		if d.State.Value != "ALARM" {
			return Request{}, inputErrorf("alarm %q changed to %s, not ALARM: nothing to fail over", d.AlarmName, d.State.Value)
		}
		return Request{Action: ActionFailover, Cluster: h.Config.Name, Trigger: TriggerAlarm,
			Observer: d.AlarmName, Reason: clip("alarm: " + d.State.Reason), RequestedAt: at}, nil
	case source == SourceNodeProbe && env.DetailType == DetailPrimaryLost:
		var d primaryLostDetail
		if err := strictUnmarshal(env.Detail, &d); err != nil {
			return Request{}, inputErrorf("the %q detail is malformed: %v", DetailPrimaryLost, err)
		}
		if d.Cluster != h.Config.Name {
			return Request{}, inputErrorf("the event is for cluster %q, this state machine serves %q", d.Cluster, h.Config.Name)
		}
		if _, ok := h.Config.Node(d.Observer); !ok {
			return Request{}, inputErrorf("observer %q is not a node of cluster %q", d.Observer, h.Config.Name)
		}
		if !d.ObservedAt.IsZero() {
			at = d.ObservedAt
		}
		return Request{Action: ActionFailover, Cluster: d.Cluster, Trigger: TriggerFastPath,
			Observer: d.Observer, Reason: clip("fast path: " + d.Reason), RequestedAt: at}, nil
	default:
		return Request{}, inputErrorf("unsupported event: source %q, detail-type %q (expected %q/%q or %q/%q)",
			source, env.DetailType, SourceCloudWatch, DetailAlarmChange, SourceNodeProbe, DetailPrimaryLost)
	}
}

type manualRequest struct {
	Action  string `json:"action"`
	Cluster string `json:"cluster"`
	Target  string `json:"target"`
	Force   bool   `json:"force"`
	Reason  string `json:"reason"`
}

func (h *Intake) fromManual(raw json.RawMessage) (Request, error) {
	var m manualRequest
	if err := strictUnmarshal(raw, &m); err != nil {
		return Request{}, inputErrorf("the manual request is malformed: %v (fields: action, cluster, target, force, reason)", err)
	}
	switch m.Action {
	case ActionFailover:
	case ActionSwitchover:
		return Request{}, inputErrorf("action %q is not supported yet; use %q", m.Action, ActionFailover)
	default:
		return Request{}, inputErrorf("action %q is not one of %q", m.Action, ActionFailover)
	}
	if m.Cluster != h.Config.Name {
		return Request{}, inputErrorf("cluster %q is not the cluster this state machine serves (%q)", m.Cluster, h.Config.Name)
	}
	if m.Target != "" {
		if _, ok := h.Config.Node(m.Target); !ok {
			return Request{}, inputErrorf("target %q is not a node of cluster %q (nodes: %s)", m.Target, m.Cluster, nodeNames(h.Config))
		}
	}
	if m.Force && strings.TrimSpace(m.Reason) == "" {
		return Request{}, inputErrorf("a forced %s must give a reason: it is recorded for audit", m.Action)
	}
	reason := strings.TrimSpace(m.Reason)
	if reason == "" {
		reason = fmt.Sprintf(manualDefaultReasonF, m.Action)
	}
	return Request{Action: m.Action, Cluster: m.Cluster, Target: m.Target, Force: m.Force,
		Trigger: TriggerManual, Observer: "operator", Reason: clip(reason), RequestedAt: h.now()}, nil
}

func (h *Intake) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func strictUnmarshal(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

func nodeNames(c *cluster.Config) string {
	names := make([]string, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		names = append(names, n.Name)
	}
	return strings.Join(names, ", ")
}

// clip bounds a reason to maxReasonLength bytes without splitting a
// UTF-8 character.
func clip(s string) string {
	if len(s) <= maxReasonLength {
		return s
	}
	cut := maxReasonLength
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
