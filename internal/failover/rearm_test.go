package failover

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
)

func TestRearmPutsTheAlarmBackToOK(t *testing.T) {
	ctx := context.Background()
	cfg := sampleClusterConfig(t)
	srv := localaws.NewServer()
	cw := cwsim.New(cwsim.Options{})
	srv.Register(cw)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := awsall.NewClients(ctx, awsall.LocalConfig(hs.URL, "us-east-1", "RearmFunction")...)
	if err != nil {
		t.Fatal(err)
	}
	putHeartbeatAlarm(t, c.CloudWatch, cfg.Detection.AlarmName)
	if _, err := c.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(cfg.Detection.AlarmName),
		StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
	step := &RearmStep{Deps: &Deps{base: base{Config: cfg}, CloudWatch: c.CloudWatch}}
	s := State{Request: Request{Trigger: TriggerAlarm}, Assessment: &Assessment{Decision: DecisionNoAction, Reason: "primary healthy"}}
	if _, err := step.Handle(ctx, s); err != nil {
		t.Fatal(err)
	}
	if st, _ := cw.AlarmState(cfg.Detection.AlarmName); st.Value != cwsim.StateOK {
		t.Fatalf("alarm is %s after re-arm, want OK", st.Value)
	}

	// An execution the reachability alarm started re-arms that alarm and
	// leaves the heartbeat alarm as it is.
	reach := cfg.Detection.ReachabilityAlarmName
	putHeartbeatAlarm(t, c.CloudWatch, reach)
	for name, state := range map[string]cwtypes.StateValue{reach: cwtypes.StateValueAlarm, cfg.Detection.AlarmName: cwtypes.StateValueAlarm} {
		if _, err := c.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name),
			StateValue: state, StateReason: aws.String("test")}); err != nil {
			t.Fatal(err)
		}
	}
	s.Request.Observer = reach
	if _, err := step.Handle(ctx, s); err != nil {
		t.Fatal(err)
	}
	if st, _ := cw.AlarmState(reach); st.Value != cwsim.StateOK {
		t.Errorf("reachability alarm is %s after its re-arm, want OK", st.Value)
	}
	if st, _ := cw.AlarmState(cfg.Detection.AlarmName); st.Value != cwsim.StateAlarm {
		t.Errorf("heartbeat alarm is %s after the reachability alarm's re-arm, want it left in ALARM", st.Value)
	}

	// A manual execution has no alarm to re-arm: refused, nothing called.
	srv.ResetCalls()
	s.Request.Trigger = TriggerManual
	var sf *StepFailed
	if _, err := step.Handle(ctx, s); !errors.As(err, &sf) {
		t.Fatalf("re-arm of a manual run: %v, want StepFailed", err)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d AWS calls for a refused re-arm", n)
	}
}

// putHeartbeatAlarm creates the heartbeat alarm the re-arm and the cleanup
// set back to OK.
func putHeartbeatAlarm(t *testing.T, cw awsapi.CloudWatchAPI, name string) {
	t.Helper()
	if _, err := cw.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("Switchyard"), MetricName: aws.String("Heartbeat"),
		Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(2),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorLessThanThreshold, TreatMissingData: aws.String("breaching"),
	}); err != nil {
		t.Fatal(err)
	}
}
