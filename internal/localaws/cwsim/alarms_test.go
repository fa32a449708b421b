package cwsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// heartbeatAlarm is an alarm like the one Switchyard puts on a node's
// heartbeat: fewer than one heartbeat per 10 s period, 3 out of 3.
func heartbeatAlarm(name, treat string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(name),
		AlarmDescription:   aws.String("primary heartbeat lost"),
		Namespace:          aws.String("Switchyard"),
		MetricName:         aws.String("Heartbeat"),
		Dimensions:         dims("Cluster", "orders", "Node", "node1"),
		Statistic:          types.StatisticSampleCount,
		Period:             aws.Int32(10),
		EvaluationPeriods:  aws.Int32(3),
		DatapointsToAlarm:  aws.Int32(3),
		Threshold:          aws.Float64(1),
		ComparisonOperator: types.ComparisonOperatorLessThanThreshold,
		TreatMissingData:   aws.String(treat),
		AlarmActions:       []string{"arn:aws:sns:eu-west-1:123456789012:failover"},
	}
}

func TestPutMetricAlarmAndDescribeAlarms(t *testing.T) {
	f := newFixture(t, Options{AccountID: "111122223333"})
	f.putAlarm(t, heartbeatAlarm("orders-heartbeat", "breaching"))
	a := f.describe(t, "orders-heartbeat")

	if got, want := aws.ToString(a.AlarmArn), "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-heartbeat"; got != want {
		t.Errorf("AlarmArn = %s, want %s", got, want)
	}
	if a.StateValue != types.StateValueInsufficientData || aws.ToString(a.StateReason) != "Unchecked: Initial alarm creation" {
		t.Errorf("new alarm state %s %q, want INSUFFICIENT_DATA with the initial reason", a.StateValue, aws.ToString(a.StateReason))
	}
	if !aws.ToTime(a.StateUpdatedTimestamp).Equal(t0) || !aws.ToTime(a.AlarmConfigurationUpdatedTimestamp).Equal(t0) {
		t.Errorf("timestamps %v %v, want the service clock %v", a.StateUpdatedTimestamp, a.AlarmConfigurationUpdatedTimestamp, t0)
	}
	if aws.ToString(a.Namespace) != "Switchyard" || aws.ToString(a.MetricName) != "Heartbeat" || a.Statistic != types.StatisticSampleCount ||
		aws.ToInt32(a.Period) != 10 || aws.ToInt32(a.EvaluationPeriods) != 3 || aws.ToInt32(a.DatapointsToAlarm) != 3 ||
		aws.ToFloat64(a.Threshold) != 1 || a.ComparisonOperator != types.ComparisonOperatorLessThanThreshold ||
		aws.ToString(a.TreatMissingData) != "breaching" || !aws.ToBool(a.ActionsEnabled) ||
		aws.ToString(a.AlarmDescription) != "primary heartbeat lost" ||
		!slices.Equal(a.AlarmActions, []string{"arn:aws:sns:eu-west-1:123456789012:failover"}) {
		t.Errorf("alarm configuration not returned as put: %+v", a)
	}
	if len(a.Dimensions) != 2 || aws.ToString(a.Dimensions[0].Name) != "Cluster" || aws.ToString(a.Dimensions[1].Value) != "node1" {
		t.Errorf("dimensions %+v", a.Dimensions)
	}

	// An update keeps the state and replaces the configuration.
	f.svc.EvaluateNow(t0) // breaching, no data: ALARM
	f.clock.Set(t0.Add(time.Minute))
	upd := heartbeatAlarm("orders-heartbeat", "breaching")
	upd.Threshold = aws.Float64(2)
	upd.AlarmDescription = nil
	f.putAlarm(t, upd)
	a = f.describe(t, "orders-heartbeat")
	if a.StateValue != types.StateValueAlarm || aws.ToFloat64(a.Threshold) != 2 || a.AlarmDescription != nil {
		t.Errorf("after update: state %s threshold %v description %v; want ALARM kept, threshold 2, no description",
			a.StateValue, aws.ToFloat64(a.Threshold), a.AlarmDescription)
	}
	if !aws.ToTime(a.AlarmConfigurationUpdatedTimestamp).Equal(t0.Add(time.Minute)) || !aws.ToTime(a.StateUpdatedTimestamp).Equal(t0) {
		t.Errorf("after update: config updated %v state updated %v", a.AlarmConfigurationUpdatedTimestamp, a.StateUpdatedTimestamp)
	}
}

func TestDescribeAlarmsFiltersAndPaginates(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	for i := range 5 {
		f.putAlarm(t, heartbeatAlarm(fmt.Sprintf("orders-%d", i), "notBreaching"))
	}
	f.putAlarm(t, heartbeatAlarm("billing-0", "breaching"))
	f.svc.EvaluateNow(t0) // billing-0 -> ALARM, orders-* -> OK

	names := func(out *cloudwatch.DescribeAlarmsOutput) []string {
		var ns []string
		for _, a := range out.MetricAlarms {
			ns = append(ns, aws.ToString(a.AlarmName))
		}
		return ns
	}
	out, err := f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{StateValue: types.StateValueAlarm})
	if err != nil || !slices.Equal(names(out), []string{"billing-0"}) {
		t.Errorf("StateValue ALARM: %v %v, want [billing-0]", names(out), err)
	}
	out, err = f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"orders-3", "orders-1", "nope"}})
	if err != nil || !slices.Equal(names(out), []string{"orders-1", "orders-3"}) {
		t.Errorf("AlarmNames: %v %v", names(out), err)
	}
	out, err = f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm}})
	if err != nil || len(out.MetricAlarms) != 0 {
		t.Errorf("composite alarms only: %v %v, want none", names(out), err)
	}
	var all []string
	pages := 0
	p := cloudwatch.NewDescribeAlarmsPaginator(f.cw, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("orders-"), MaxRecords: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, names(page)...)
	}
	if pages != 3 || !slices.Equal(all, []string{"orders-0", "orders-1", "orders-2", "orders-3", "orders-4"}) {
		t.Errorf("paginated prefix listing: %d pages %v", pages, all)
	}

	_, err = f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}, AlarmNamePrefix: aws.String("a")})
	wantCode(t, err, "InvalidParameterCombination")
	_, err = f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{NextToken: aws.String("!!not-a-token")})
	wantCode(t, err, "InvalidNextToken")
	_, err = f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(101)})
	wantCode(t, err, "ValidationError")
}

func TestPutMetricAlarmValidation(t *testing.T) {
	f := newFixture(t, Options{})
	cases := []struct {
		name   string
		change func(*cloudwatch.PutMetricAlarmInput)
	}{
		{"period 45", func(in *cloudwatch.PutMetricAlarmInput) { in.Period = aws.Int32(45) }},
		{"period 5", func(in *cloudwatch.PutMetricAlarmInput) { in.Period = aws.Int32(5) }},
		{"datapoints above evaluation periods", func(in *cloudwatch.PutMetricAlarmInput) { in.DatapointsToAlarm = aws.Int32(4) }},
		{"no evaluation periods", func(in *cloudwatch.PutMetricAlarmInput) { in.EvaluationPeriods = nil }},
		{"zero evaluation periods", func(in *cloudwatch.PutMetricAlarmInput) {
			in.EvaluationPeriods, in.DatapointsToAlarm = aws.Int32(0), nil
		}},
		{"longer than a day", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Period, in.EvaluationPeriods, in.DatapointsToAlarm = aws.Int32(60), aws.Int32(1441), nil
		}},
		{"no threshold", func(in *cloudwatch.PutMetricAlarmInput) { in.Threshold = nil }},
		{"no comparison", func(in *cloudwatch.PutMetricAlarmInput) { in.ComparisonOperator = "" }},
		{"anomaly comparison", func(in *cloudwatch.PutMetricAlarmInput) {
			in.ComparisonOperator = types.ComparisonOperatorLessThanLowerOrGreaterThanUpperThreshold
		}},
		{"bad treat missing data", func(in *cloudwatch.PutMetricAlarmInput) { in.TreatMissingData = aws.String("zero") }},
		{"no statistic", func(in *cloudwatch.PutMetricAlarmInput) { in.Statistic = "" }},
		{"statistic and extended statistic", func(in *cloudwatch.PutMetricAlarmInput) { in.ExtendedStatistic = aws.String("p99") }},
		{"bad statistic", func(in *cloudwatch.PutMetricAlarmInput) { in.Statistic = "Median" }},
		{"no metric name", func(in *cloudwatch.PutMetricAlarmInput) { in.MetricName = nil }},
		{"metrics with metric name", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Metrics = []types.MetricDataQuery{{Id: aws.String("m1"), Expression: aws.String("1")}}
		}},
		{"six alarm actions", func(in *cloudwatch.PutMetricAlarmInput) { in.AlarmActions = []string{"a", "b", "c", "d", "e", "f"} }},
		{"empty name", func(in *cloudwatch.PutMetricAlarmInput) { in.AlarmName = aws.String("") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := heartbeatAlarm("invalid", "missing")
			tc.change(in)
			_, err := f.cw.PutMetricAlarm(ctxT(t), in)
			wantCode(t, err, "ValidationError")
		})
	}
	if _, ok := f.svc.AlarmState("invalid"); ok {
		t.Error("an invalid alarm was stored")
	}
	for _, period := range []int32{10, 20, 30, 60, 300} {
		in := heartbeatAlarm(fmt.Sprintf("period-%d", period), "missing")
		in.Period = aws.Int32(period)
		f.putAlarm(t, in)
	}
}

func TestSetAlarmStateIsTemporary(t *testing.T) {
	pub := &recordingPublisher{}
	f := newFixture(t, Options{Publisher: pub})
	ctx := ctxT(t)
	f.putAlarm(t, heartbeatAlarm("hb", "breaching"))
	for i := 1; i <= 5; i++ { // healthy heartbeats: evaluation says OK
		f.put(t, "Switchyard", "Heartbeat", t0.Add(-time.Duration(i)*10*time.Second), 1, 1, dims("Cluster", "orders", "Node", "node1")...)
	}
	f.svc.EvaluateNow(t0)
	if st, _ := f.svc.AlarmState("hb"); st.Value != StateOK {
		t.Fatalf("state %s, want OK before the test", st.Value)
	}
	_, err := f.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("hb"), StateValue: types.StateValueAlarm,
		StateReason: aws.String("drill"), StateReasonData: aws.String(`{"by":"test"}`)})
	if err != nil {
		t.Fatal(err)
	}
	a := f.describe(t, "hb")
	if a.StateValue != types.StateValueAlarm || aws.ToString(a.StateReason) != "drill" || aws.ToString(a.StateReasonData) != `{"by":"test"}` {
		t.Errorf("after SetAlarmState: %s %q %q", a.StateValue, aws.ToString(a.StateReason), aws.ToString(a.StateReasonData))
	}
	f.svc.EvaluateNow(t0.Add(time.Second))
	if st, _ := f.svc.AlarmState("hb"); st.Value != StateOK {
		t.Errorf("the next evaluation left the alarm in %s, want it back to OK", st.Value)
	}
	events := pub.got()
	if len(events) != 3 { // INSUFFICIENT_DATA->OK, OK->ALARM (set), ALARM->OK (evaluation)
		t.Fatalf("published %d events, want 3", len(events))
	}
	var ev struct {
		Detail struct {
			State struct{ Value, Reason string } `json:"state"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(events[1], &ev); err != nil || ev.Detail.State.Value != "ALARM" || ev.Detail.State.Reason != "drill" {
		t.Errorf("SetAlarmState event %s (%v), want state ALARM with reason drill", events[1], err)
	}

	// Setting the state it already has changes nothing.
	if _, err := f.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("hb"), StateValue: types.StateValueOk, StateReason: aws.String("again")}); err != nil {
		t.Fatal(err)
	}
	if len(pub.got()) != 3 {
		t.Error("setting the current state published an event")
	}

	_, err = f.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueAlarm, StateReason: aws.String("x")})
	wantCode(t, err, "ResourceNotFound")
	_, err = f.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("hb"), StateValue: types.StateValueAlarm,
		StateReason: aws.String("x"), StateReasonData: aws.String("{not json")})
	wantCode(t, err, "InvalidFormat")
	_, err = f.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("hb"), StateValue: "BROKEN", StateReason: aws.String("x")})
	wantCode(t, err, "ValidationError")
}

func TestDeleteAlarms(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	f.putAlarm(t, heartbeatAlarm("a", "missing"))
	f.putAlarm(t, heartbeatAlarm("b", "missing"))
	_, err := f.cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"a", "ghost"}})
	wantCode(t, err, "ResourceNotFound")
	if _, ok := f.svc.AlarmState("a"); !ok {
		t.Fatal("a failed DeleteAlarms deleted an alarm")
	}
	if _, err := f.cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.svc.AlarmState("a"); ok {
		t.Error("alarm a still exists")
	}
	if _, ok := f.svc.AlarmState("b"); !ok {
		t.Error("alarm b was deleted too")
	}
	calls := f.server.Calls()
	if last := calls[len(calls)-1]; last.Operation != "DeleteAlarms" || !slices.Equal(last.Resources, []string{"a"}) {
		t.Errorf("call log %+v, want DeleteAlarms naming a", last)
	}
}
