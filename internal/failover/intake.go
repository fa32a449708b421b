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
//
// It reads its input strictly: at most MaxExecutionInputBytes of UTF-8
// JSON, no key given twice in any object, and the keys it reads spelled
// exactly (case-sensitive). A manual request may hold only its own fields;
// an EventBridge event may hold fields Intake does not read (AWS adds
// some over time), and so may an alarm's detail, but the detail of a
// fast-path event may not.
//
// The Request it returns is normalized: Action failover, Cluster this
// cluster, Trigger alarm, fast-path or manual, Observer the alarm, the
// observing node or "operator", Target empty or a node of the cluster,
// Force only on a manual request and then with a Reason, Reason never
// empty and at most maxReasonLength bytes without surrounding blanks on a
// manual request, RequestedAt in UTC.
type Intake struct {
	Config *cluster.Config
	Now    func() time.Time
}

// Handle is the Lambda handler.
func (h *Intake) Handle(_ context.Context, in IntakeInput) (State, error) {
	req, err := h.parse(in.Event)
	if err != nil {
		return State{}, err
	}
	return State{Execution: in.Execution, Request: req}, nil
}

// Fields of the inputs Intake reads.
var (
	manualFields      = []string{"action", "cluster", "target", "force", "reason"}
	envelopeFields    = []string{"source", "detail-type", "time", "detail"}
	alarmDetailFields = []string{"alarmName", "state"}
	alarmStateFields  = []string{"value", "reason"}
	primaryLostFields = []string{"cluster", "observer", "observedAt", "reason"}
)

// parse turns an execution input into a Request.
func (h *Intake) parse(raw []byte) (Request, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return Request{}, inputErrorf("the execution input is empty; expected a CloudWatch alarm event, a %s event or a manual request", SourceNodeProbe)
	}
	if len(raw) > MaxExecutionInputBytes {
		return Request{}, inputErrorf("the execution input is %d bytes; Step Functions accepts at most %d bytes (256 KiB) of UTF-8",
			len(raw), MaxExecutionInputBytes)
	}
	if !utf8.Valid(raw) {
		return Request{}, inputErrorf("the execution input is not valid UTF-8")
	}
	if err := checkJSON(raw); err != nil {
		return Request{}, inputErrorf("the execution input is refused: %v", err)
	}
	if kind := jsonKind(raw); kind != "an object" {
		return Request{}, inputErrorf("the execution input is %s, not a JSON object", kind)
	}
	top, err := readObject(raw, "$")
	if err == nil {
		err = top.exact("source", "action")
	}
	if err != nil {
		return Request{}, inputErrorf("the execution input is refused: %v", err)
	}
	switch hasSource, hasAction := top.has("source"), top.has("action"); {
	case hasSource && hasAction:
		return Request{}, inputErrorf("the input has both \"source\" (an event) and \"action\" (a manual request); send one or the other")
	case hasSource:
		return h.fromEvent(top)
	case hasAction:
		return h.fromManual(top)
	default:
		return Request{}, inputErrorf("the input is neither an event (no \"source\") nor a manual request (no \"action\")")
	}
}

// eventError says what is wrong with an event of source.
func eventError(source string, err error) error {
	return inputErrorf("the %s event is malformed: %v", source, err)
}

func (h *Intake) fromEvent(env jsonObject) (Request, error) {
	source, err := env.str("source")
	if err != nil {
		return Request{}, inputErrorf("the event's source is not a name: %v", err)
	}
	if err := env.exact(envelopeFields...); err != nil {
		return Request{}, eventError(source, err)
	}
	detailType, err := env.str("detail-type")
	if err != nil {
		return Request{}, eventError(source, err)
	}
	at, err := env.timestamp("time")
	if err != nil {
		return Request{}, eventError(source, err)
	}
	if at.IsZero() {
		at = h.now()
	}
	detail, ok, err := env.object("detail")
	switch {
	case err != nil:
		return Request{}, eventError(source, err)
	case !ok:
		return Request{}, inputErrorf("the %s event has no detail", source)
	}
	switch {
	case source == SourceCloudWatch && detailType == DetailAlarmChange:
		return h.fromAlarm(detail, at)
	case source == SourceNodeProbe && detailType == DetailPrimaryLost:
		return h.fromPrimaryLost(detail, at)
	default:
		return Request{}, inputErrorf("unsupported event: source %q, detail-type %q (expected %q/%q or %q/%q)",
			source, detailType, SourceCloudWatch, DetailAlarmChange, SourceNodeProbe, DetailPrimaryLost)
	}
}

// fromAlarm reads the detail of a "CloudWatch Alarm State Change" event.
func (h *Intake) fromAlarm(detail jsonObject, at time.Time) (Request, error) {
	malformed := func(err error) (Request, error) {
		return Request{}, inputErrorf("the alarm event's detail is malformed: %v", err)
	}
	if err := detail.exact(alarmDetailFields...); err != nil {
		return malformed(err)
	}
	name, err := detail.str("alarmName")
	if err != nil {
		return malformed(err)
	}
	if !h.Config.Detection.IsAlarm(name) {
		return Request{}, inputErrorf("alarm %q is not a detection alarm of cluster %q (%q)", name, h.Config.Name,
			h.Config.Detection.Alarms())
	}
	state, ok, err := detail.object("state")
	if err == nil && !ok {
		err = fmt.Errorf("%s has no \"state\"", detail.path)
	}
	if err == nil {
		err = state.exact(alarmStateFields...)
	}
	if err == nil && !state.has("value") {
		err = fmt.Errorf("%s has no \"value\"", state.path)
	}
	if err != nil {
		return malformed(err)
	}
	value, err := state.str("value")
	if err != nil {
		return malformed(err)
	}
	reason, err := state.str("reason")
	if err != nil {
		return malformed(err)
	}
	if value != "ALARM" {
		return Request{}, inputErrorf("alarm %q changed to %s, not ALARM: nothing to fail over", name, value)
	}
	return Request{Action: ActionFailover, Cluster: h.Config.Name, Trigger: TriggerAlarm,
		Observer: name, Reason: clip("alarm: " + reason), RequestedAt: at}, nil
}

// fromPrimaryLost reads the detail of a fast-path "Primary Lost" event:
// only its own fields.
func (h *Intake) fromPrimaryLost(detail jsonObject, at time.Time) (Request, error) {
	var d struct {
		cluster, observer, reason string
		observedAt                time.Time
	}
	err := detail.only(primaryLostFields...)
	if err == nil {
		d.cluster, err = detail.str("cluster")
	}
	if err == nil {
		d.observer, err = detail.str("observer")
	}
	if err == nil {
		d.observedAt, err = detail.timestamp("observedAt")
	}
	if err == nil {
		d.reason, err = detail.str("reason")
	}
	if err != nil {
		return Request{}, inputErrorf("the %q detail is malformed: %v (fields: %s)", DetailPrimaryLost, err, strings.Join(primaryLostFields, ", "))
	}
	if d.cluster != h.Config.Name {
		return Request{}, inputErrorf("the event is for cluster %q, this state machine serves %q", d.cluster, h.Config.Name)
	}
	if _, ok := h.Config.Node(d.observer); !ok {
		return Request{}, inputErrorf("observer %q is not a node of cluster %q", d.observer, h.Config.Name)
	}
	if !d.observedAt.IsZero() {
		at = d.observedAt
	}
	return Request{Action: ActionFailover, Cluster: d.cluster, Trigger: TriggerFastPath,
		Observer: d.observer, Reason: clip("fast path: " + d.reason), RequestedAt: at}, nil
}

// fromManual reads a manual request: only its own fields.
func (h *Intake) fromManual(m jsonObject) (Request, error) {
	var action, clusterName, target, reason string
	var force bool
	err := m.only(manualFields...)
	if err == nil {
		action, err = m.str("action")
	}
	if err == nil {
		clusterName, err = m.str("cluster")
	}
	if err == nil {
		target, err = m.str("target")
	}
	if err == nil {
		force, err = m.boolean("force")
	}
	if err == nil {
		reason, err = m.str("reason")
	}
	if err != nil {
		return Request{}, inputErrorf("the manual request is malformed: %v (fields: %s)", err, strings.Join(manualFields, ", "))
	}
	switch action {
	case ActionFailover:
	case ActionSwitchover:
		if force {
			return Request{}, inputErrorf("a switchover cannot be forced: it needs a healthy primary and a caught-up standby; use %q with force to promote at a loss", ActionFailover)
		}
	default:
		return Request{}, inputErrorf("action %q is not one of %q, %q", action, ActionFailover, ActionSwitchover)
	}
	if clusterName != h.Config.Name {
		return Request{}, inputErrorf("cluster %q is not the cluster this state machine serves (%q)", clusterName, h.Config.Name)
	}
	if target != "" {
		if _, ok := h.Config.Node(target); !ok {
			return Request{}, inputErrorf("target %q is not a node of cluster %q (nodes: %s)", target, clusterName, nodeNames(h.Config))
		}
	}
	reason = strings.TrimSpace(reason)
	if force && reason == "" {
		return Request{}, inputErrorf("a forced %s must give a reason: it is recorded for audit", action)
	}
	if reason == "" {
		reason = fmt.Sprintf(manualDefaultReasonF, action)
	}
	return Request{Action: action, Cluster: clusterName, Target: target, Force: force,
		Trigger: TriggerManual, Observer: "operator", Reason: strings.TrimSpace(clip(reason)), RequestedAt: h.now()}, nil
}

func (h *Intake) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
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
