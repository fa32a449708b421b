package cwsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/internal/localaws/eventbus"
)

// rangeOf turns a user-guide row such as "0 - X - X" (oldest first; 0 not
// breaching, X breaching, - missing) into samples, newest first.
func rangeOf(row string) []sample {
	fields := strings.Fields(row)
	out := make([]sample, 0, len(fields))
	for i := len(fields) - 1; i >= 0; i-- {
		switch fields[i] {
		case "0":
			out = append(out, sample{present: true, value: 0})
		case "X":
			out = append(out, sample{present: true, value: 1})
		default:
			out = append(out, sample{})
		}
	}
	return out
}

func TestDecideMatchesTheUserGuideTables(t *testing.T) {
	const keep = "retain current state"
	breaches := func(v float64) bool { return v > 0.5 }
	// The two tables of "How alarm state is evaluated when data is missing":
	// columns MISSING, IGNORE, BREACHING, NOT BREACHING.
	cases := []struct {
		n, m int
		row  string
		want [4]string
	}{
		{3, 3, "0 - X - X", [4]string{StateOK, StateOK, StateOK, StateOK}},
		{3, 3, "0 - - - -", [4]string{StateOK, StateOK, StateOK, StateOK}},
		{3, 3, "- - - - -", [4]string{StateInsufficientData, keep, StateAlarm, StateOK}},
		{3, 3, "0 X X - X", [4]string{StateAlarm, StateAlarm, StateAlarm, StateAlarm}},
		{3, 3, "- - - - X", [4]string{StateInsufficientData, keep, StateAlarm, StateOK}},
		{3, 2, "0 - X - X", [4]string{StateAlarm, StateAlarm, StateAlarm, StateAlarm}},
		{3, 2, "0 0 X 0 X", [4]string{StateAlarm, StateAlarm, StateAlarm, StateAlarm}},
		{3, 2, "0 - X - -", [4]string{StateOK, StateOK, StateAlarm, StateOK}},
		{3, 2, "- - - - 0", [4]string{StateOK, StateOK, StateAlarm, StateOK}},
		{3, 2, "- - - - X", [4]string{StateInsufficientData, keep, StateAlarm, StateOK}},
	}
	treatments := [4]string{treatMissing, treatIgnore, treatBreaching, treatNotBreaching}
	for _, tc := range cases {
		for i, treat := range treatments {
			got := decide(rangeOf(tc.row), tc.n, tc.m, treat, breaches).state
			if got == "" {
				got = keep
			}
			if got != tc.want[i] {
				t.Errorf("%d of %d, %q, %s: got %s, want %s", tc.m, tc.n, tc.row, treat, got, tc.want[i])
			}
		}
	}
}

// lagAlarm alarms when Maximum Lag > 5 in M of 3 10-second periods.
func lagAlarm(name, treat string, m int32) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("Switchyard"), MetricName: aws.String("Lag"),
		Statistic: types.StatisticMaximum, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(3),
		DatapointsToAlarm: aws.Int32(m), Threshold: aws.Float64(5),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String(treat),
	}
}

func TestAlarmStateMachineForEachTreatMissingData(t *testing.T) {
	at := func(secs int) time.Time { return t0.Add(time.Duration(secs) * time.Second) }
	steps := []struct {
		evalAt int
		put    map[int]float64 // second offset -> value, published before evaluating
	}{
		{0, nil}, // no data at all
		{30, map[int]float64{5: 1, 15: 1, 25: 1}},  // three healthy periods
		{60, map[int]float64{35: 9, 45: 9, 55: 9}}, // three breaching periods
		{90, nil},  // two breaching datapoints left, one period missing
		{110, nil}, // the whole range missing
	}
	want := map[string][]string{
		treatMissing:      {StateInsufficientData, StateOK, StateAlarm, StateInsufficientData, StateInsufficientData},
		treatIgnore:       {StateInsufficientData, StateOK, StateAlarm, StateAlarm, StateAlarm},
		treatBreaching:    {StateAlarm, StateOK, StateAlarm, StateAlarm, StateAlarm},
		treatNotBreaching: {StateOK, StateOK, StateAlarm, StateOK, StateOK},
	}
	for treat, states := range want {
		t.Run(treat, func(t *testing.T) {
			f := newFixture(t, Options{})
			f.putAlarm(t, lagAlarm("lag", treat, 3))
			var transitions []string
			last := StateInsufficientData
			for i, step := range steps {
				for sec, v := range step.put {
					f.put(t, "Switchyard", "Lag", at(sec), v, 1)
				}
				f.svc.EvaluateNow(at(step.evalAt))
				a := f.describe(t, "lag")
				if string(a.StateValue) != states[i] {
					t.Fatalf("at +%ds: state %s (%q), want %s", step.evalAt, a.StateValue, aws.ToString(a.StateReason), states[i])
				}
				if states[i] != last {
					transitions = append(transitions, last+"->"+states[i])
					if !aws.ToTime(a.StateUpdatedTimestamp).Equal(at(step.evalAt)) {
						t.Errorf("at +%ds: StateUpdatedTimestamp %v, want the evaluation time", step.evalAt, a.StateUpdatedTimestamp)
					}
					if !json.Valid([]byte(aws.ToString(a.StateReasonData))) {
						t.Errorf("at +%ds: StateReasonData %q is not JSON", step.evalAt, aws.ToString(a.StateReasonData))
					}
				}
				last = states[i]
			}
			var got []string
			for _, raw := range f.svc.StateChangeEvents() {
				ev := parseEvent(t, raw)
				got = append(got, ev.Detail.PreviousState.Value+"->"+ev.Detail.State.Value)
			}
			if strings.Join(got, " ") != strings.Join(transitions, " ") {
				t.Errorf("events %v, want one per transition %v", got, transitions)
			}
		})
	}
}

func TestMOutOfNAlarmAndReasons(t *testing.T) {
	f := newFixture(t, Options{})
	f.putAlarm(t, lagAlarm("lag", treatMissing, 2))
	for sec, v := range map[int]float64{20: 9, 30: 1, 40: 9} {
		f.put(t, "Switchyard", "Lag", t0.Add(time.Duration(sec)*time.Second), v, 1)
	}
	f.svc.EvaluateNow(t0.Add(50 * time.Second))
	st, _ := f.svc.AlarmState("lag")
	wantReason := "Threshold Crossed: 2 out of the last 3 datapoints [9.0 (26/11/26 10:00:40), 9.0 (26/11/26 10:00:20)] were greater than the threshold (5.0) (minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM transition)."
	wantData := `{"version":"1.0","queryDate":"2026-11-26T10:00:50.000+0000","startDate":"2026-11-26T10:00:20.000+0000","statistic":"Maximum","period":10,"recentDatapoints":[9.0,1.0,9.0],"threshold":5.0}`
	if st.Value != StateAlarm || st.Reason != wantReason || st.ReasonData != wantData {
		t.Fatalf("2 of 3 breaching, not consecutive:\n got %s %q\n %s\nwant ALARM %q\n %s", st.Value, st.Reason, st.ReasonData, wantReason, wantData)
	}
	f.put(t, "Switchyard", "Lag", t0.Add(50*time.Second), 1, 1)
	f.svc.EvaluateNow(t0.Add(60 * time.Second))
	st, _ = f.svc.AlarmState("lag")
	wantReason = "Threshold Crossed: 2 out of the last 3 datapoints [1.0 (26/11/26 10:00:50), 1.0 (26/11/26 10:00:30)] were not greater than the threshold (5.0) (minimum 2 datapoints for ALARM -> OK transition)."
	if st.Value != StateOK || st.Reason != wantReason {
		t.Fatalf("1 of 3 breaching: got %s %q, want OK %q", st.Value, st.Reason, wantReason)
	}
	if !strings.Contains(string(f.svc.StateChangeEvents()[0]), "INSUFFICIENT_DATA -> ALARM") {
		t.Error("the event escapes '->' in reasons; AWS writes it verbatim")
	}
}

// heartbeatFixture publishes one heartbeat per 10 s period for the five
// periods before t0 and evaluates at t0, leaving the alarm OK.
func heartbeatFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := newFixture(t, opts)
	f.putAlarm(t, heartbeatAlarm("orders-heartbeat", treatBreaching))
	for i := 1; i <= 5; i++ {
		f.put(t, "Switchyard", "Heartbeat", t0.Add(-time.Duration(i)*10*time.Second+time.Second), 1, 1, dims("Node", "node1", "Cluster", "orders")...)
	}
	f.svc.EvaluateNow(t0)
	if st, _ := f.svc.AlarmState("orders-heartbeat"); st.Value != StateOK {
		t.Fatalf("with heartbeats the alarm is %s (%s), want OK", st.Value, st.Reason)
	}
	return f
}

func TestHeartbeatLossUsesMissingDataOnlyAsNeeded(t *testing.T) {
	f := heartbeatFixture(t, Options{})
	// Heartbeats stop at t0. Real datapoints stay in the 5-period evaluation
	// range and are used first, so the alarm fires only when none is left.
	for _, secs := range []int{10, 20, 30, 40} {
		f.svc.EvaluateNow(t0.Add(time.Duration(secs) * time.Second))
		if st, _ := f.svc.AlarmState("orders-heartbeat"); st.Value != StateOK {
			t.Fatalf("at +%ds the alarm is %s, want still OK while real datapoints remain", secs, st.Value)
		}
	}
	f.svc.EvaluateNow(t0.Add(50 * time.Second))
	st, _ := f.svc.AlarmState("orders-heartbeat")
	want := "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."
	if st.Value != StateAlarm || st.Reason != want {
		t.Fatalf("at +50s: %s %q, want ALARM %q", st.Value, st.Reason, want)
	}
	var data struct {
		Evaluated []map[string]any `json:"evaluatedDatapoints"`
	}
	if err := json.Unmarshal([]byte(st.ReasonData), &data); err != nil || len(data.Evaluated) != 5 || data.Evaluated[0]["timestamp"] != "2026-11-26T10:00:40.000+0000" {
		t.Errorf("reasonData %s (%v): want the 5 evaluated periods, newest first", st.ReasonData, err)
	}
}

// alarmEvent is the part of the EventBridge event the tests read.
type alarmEvent struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     struct {
		AlarmName     string                                                `json:"alarmName"`
		State         struct{ Value, Reason, ReasonData, Timestamp string } `json:"state"`
		PreviousState struct{ Value, Reason, ReasonData, Timestamp string } `json:"previousState"`
		Configuration json.RawMessage                                       `json:"configuration"`
	} `json:"detail"`
}

func parseEvent(t *testing.T, raw []byte) alarmEvent {
	t.Helper()
	var ev alarmEvent
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("event %s: %v", raw, err)
	}
	return ev
}

func TestStateChangeEventIsShapedLikeAWS(t *testing.T) {
	f := heartbeatFixture(t, Options{AccountID: "111122223333"})
	f.svc.EvaluateNow(t0.Add(50 * time.Second))
	events := f.svc.StateChangeEvents()
	if len(events) != 2 {
		t.Fatalf("%d events, want 2 (-> OK, -> ALARM)", len(events))
	}
	ev := parseEvent(t, events[1])
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if ev.Version != "0" || !uuid.MatchString(ev.ID) || ev.DetailType != "CloudWatch Alarm State Change" || ev.Source != "aws.cloudwatch" ||
		ev.Account != "111122223333" || ev.Region != testRegion || ev.Time != "2026-11-26T10:00:50Z" {
		t.Errorf("envelope %+v", ev)
	}
	if len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-heartbeat" {
		t.Errorf("resources %v, want the alarm ARN", ev.Resources)
	}
	d := ev.Detail
	if d.AlarmName != "orders-heartbeat" || d.State.Value != "ALARM" || d.State.Timestamp != "2026-11-26T10:00:50.000+0000" ||
		!strings.HasPrefix(d.State.Reason, "Threshold Crossed: ") || !json.Valid([]byte(d.State.ReasonData)) {
		t.Errorf("state %+v", d.State)
	}
	if d.PreviousState.Value != "OK" || d.PreviousState.Timestamp != "2026-11-26T10:00:00.000+0000" || !strings.HasPrefix(d.PreviousState.Reason, "Threshold Crossed: 3 out of the last 3 datapoints") {
		t.Errorf("previousState %+v", d.PreviousState)
	}
	var cfg map[string]any
	if err := json.Unmarshal(d.Configuration, &cfg); err != nil {
		t.Fatal(err)
	}
	metrics, _ := cfg["metrics"].([]any)
	if cfg["description"] != "primary heartbeat lost" || len(metrics) != 1 {
		t.Fatalf("configuration %s", d.Configuration)
	}
	m := metrics[0].(map[string]any)
	if !uuid.MatchString(fmt.Sprint(m["id"])) || m["returnData"] != true {
		t.Errorf("metric query %v", m)
	}
	wantStat := `{"metric":{"dimensions":{"Cluster":"orders","Node":"node1"},"name":"Heartbeat","namespace":"Switchyard"},"period":10,"stat":"SampleCount"}`
	gotStat, _ := json.Marshal(m["metricStat"])
	if string(gotStat) != wantStat {
		t.Errorf("metricStat %s, want %s", gotStat, wantStat)
	}

	first := parseEvent(t, events[0])
	if first.Detail.PreviousState.Reason != "Unchecked: Initial alarm creation" || first.Detail.PreviousState.ReasonData != "" {
		t.Errorf("first event previousState %+v, want the initial state without reasonData", first.Detail.PreviousState)
	}
	if strings.Contains(string(events[0]), `"reasonData":""`) {
		t.Error("an empty reasonData is written; AWS omits it")
	}
}

const heartbeatRulePattern = `{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],"detail":{"state":{"value":["ALARM"]}}}`

func TestAlarmEventReachesHeartbeatRuleOnTheBus(t *testing.T) {
	bus := eventbus.New(eventbus.Options{InitialBackoff: time.Millisecond})
	t.Cleanup(bus.Close)
	received := make(chan []byte, 10)
	err := bus.PutRule("switchyard-failover", []byte(heartbeatRulePattern), func(_ context.Context, ev []byte) error {
		received <- ev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f := heartbeatFixture(t, Options{Publisher: bus})
	f.svc.EvaluateNow(t0.Add(50 * time.Second)) // -> ALARM
	f.put(t, "Switchyard", "Heartbeat", t0.Add(55*time.Second), 1, 1, dims("Node", "node1", "Cluster", "orders")...)
	f.put(t, "Switchyard", "Heartbeat", t0.Add(65*time.Second), 1, 1, dims("Node", "node1", "Cluster", "orders")...)
	f.put(t, "Switchyard", "Heartbeat", t0.Add(75*time.Second), 1, 1, dims("Node", "node1", "Cluster", "orders")...)
	f.svc.EvaluateNow(t0.Add(80 * time.Second)) // -> OK again

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := bus.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	events := f.svc.StateChangeEvents()
	if len(events) != 3 {
		t.Fatalf("%d state changes, want 3 (OK, ALARM, OK)", len(events))
	}
	if len(received) != 1 {
		t.Fatalf("the rule received %d events, want only the ALARM one", len(received))
	}
	if got := <-received; string(got) != string(events[1]) {
		t.Errorf("the rule received %s, want the ALARM event %s", got, events[1])
	}
	if n := len(bus.Deliveries()); n != 1 {
		t.Errorf("bus recorded %d deliveries, want 1", n)
	}
}

func TestPublisherErrorsAreKept(t *testing.T) {
	pub := &recordingPublisher{fail: errPublish}
	f := newFixture(t, Options{Publisher: pub})
	f.putAlarm(t, heartbeatAlarm("hb", treatBreaching))
	f.svc.EvaluateNow(t0)
	if errs := f.svc.PublishErrors(); len(errs) != 1 || !errors.Is(errs[0], errPublish) {
		t.Errorf("PublishErrors() = %v, want the publisher's error", errs)
	}
	if len(f.svc.StateChangeEvents()) != 1 || len(pub.got()) != 1 {
		t.Error("the event was not kept or not offered to the publisher")
	}
}

func TestTickerEvaluatesWithTheServiceClock(t *testing.T) {
	f := newFixture(t, Options{EvaluationInterval: 5 * time.Millisecond})
	f.putAlarm(t, heartbeatAlarm("hb", treatBreaching))
	f.svc.Start()
	f.svc.Start() // a second Start is harmless
	poll := time.NewTicker(2 * time.Millisecond)
	defer poll.Stop()
	deadline := time.After(5 * time.Second)
	for {
		if st, _ := f.svc.AlarmState("hb"); st.Value == StateAlarm {
			break
		}
		select {
		case <-poll.C:
		case <-deadline:
			t.Fatal("the ticker never evaluated the alarm")
		}
	}
	f.svc.Stop()
	f.svc.Stop()
	if st, _ := f.svc.AlarmState("hb"); !st.Updated.Equal(t0) {
		t.Errorf("state updated at %v, want the service clock %v", st.Updated, t0)
	}
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{
		50: "50.0", 0: "0.0", -3: "-3.0", 0.0666851903306472: "0.0666851903306472", 99.50160229693434: "99.50160229693434",
		1e7: "1.0E7", 12345678.5: "1.23456785E7", 0.00015: "1.5E-4", 45628: "45628.0",
	} {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %s, want %s", f, got, want)
		}
	}
}
