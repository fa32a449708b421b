package samtemplate

import (
	"fmt"
	"strings"
	"testing"
)

// With an AlarmEmail the template creates the topic and the alarms for
// lost redundancy and failed executions, all notifying the topic; without
// one it creates none of them. Either way the heartbeat alarm is there.
func TestRealTemplateRedundancyAndExecutionAlarms(t *testing.T) {
	quiet := loadReal(t, scenarios()[0].params)
	if len(quiet.Alarms) != 1 || quiet.Alarms["PrimaryHeartbeatAlarm"] == nil {
		t.Errorf("without AlarmEmail: alarms %v, want only PrimaryHeartbeatAlarm", sortedKeys(quiet.Alarms))
	}
	if _, ok := quiet.Outputs["AlarmTopicArn"]; ok {
		t.Error("without AlarmEmail the AlarmTopicArn output exists")
	}

	params := with(scenarios()[0].params, "AlarmEmail", "dba@example.com")
	if errs := Validate(realTemplate, params); len(errs) > 0 {
		t.Fatalf("Validate with AlarmEmail:\n%s", errorsText(errs))
	}
	app := loadReal(t, params)
	topic := "arn:aws:sns:us-east-1:123456789012:switchyard-orders-alarms"
	if app.Outputs["AlarmTopicArn"] != topic {
		t.Errorf("AlarmTopicArn = %q, want %q", app.Outputs["AlarmTopicArn"], topic)
	}
	for node, id := range map[string]string{"node1": "Node1SyncCommitsWaitingAlarm", "node2": "Node2SyncCommitsWaitingAlarm"} {
		a := app.Alarms[id]
		if a == nil {
			t.Errorf("no %s", id)
			continue
		}
		dims := map[string]string{}
		for _, d := range a.Dimensions {
			dims[d.Name] = d.Value
		}
		if a.MetricName != "SyncCommitsWaiting" || a.Namespace != "Switchyard" || a.Statistic != "Maximum" ||
			a.Period != 10 || a.EvaluationPeriods != 3 || a.DatapointsToAlarm != 3 || a.Threshold != 0 ||
			a.ComparisonOperator != "GreaterThanThreshold" || a.TreatMissingData != "notBreaching" ||
			len(dims) != 2 || dims["Cluster"] != "orders" || dims["Node"] != node {
			t.Errorf("%s = %+v", id, a)
		}
		if strings.Join(a.AlarmActions, ",") != topic || strings.Join(a.OKActions, ",") != topic {
			t.Errorf("%s actions %v / %v, want the topic", id, a.AlarmActions, a.OKActions)
		}
	}
	machine := app.StateMachine.Arn
	for id, metric := range map[string]string{
		"FailoverExecutionsFailedAlarm":   "ExecutionsFailed",
		"FailoverExecutionsTimedOutAlarm": "ExecutionsTimedOut",
		"FailoverExecutionsAbortedAlarm":  "ExecutionsAborted",
	} {
		a := app.Alarms[id]
		if a == nil {
			t.Errorf("no %s", id)
			continue
		}
		if a.Namespace != "AWS/States" || a.MetricName != metric || a.Statistic != "Sum" || a.Threshold != 0 ||
			a.ComparisonOperator != "GreaterThanThreshold" || len(a.Dimensions) != 1 ||
			a.Dimensions[0] != (Dimension{Name: "StateMachineArn", Value: machine}) ||
			strings.Join(a.AlarmActions, ",") != topic {
			t.Errorf("%s = %+v (state machine %s)", id, a, machine)
		}
	}
}

// The node agent's policy: metrics only in the cluster's namespace, only
// its cluster's item of the table, only this state machine.
func TestRealTemplateNodeAgentPolicy(t *testing.T) {
	app := loadReal(t, with(scenarios()[0].params, "MetricNamespace", "Acme/Db"))
	mp := app.ManagedPolicies["NodeAgentPolicy"]
	if mp == nil {
		t.Fatalf("no NodeAgentPolicy; managed policies %v", sortedKeys(app.ManagedPolicies))
	}
	if want := "arn:aws:iam::123456789012:policy/switchyard-orders-node-agent"; mp.Arn != want || app.Outputs["NodeAgentPolicyArn"] != want {
		t.Errorf("policy ARN %q, output %q, want %q", mp.Arn, app.Outputs["NodeAgentPolicyArn"], want)
	}
	got := map[string]Statement{}
	for _, st := range mp.Statements {
		got[strings.Join(st.Actions, ",")] = st
	}
	table := app.Tables["ClusterTable"].Arn
	cases := []struct {
		actions, resource, condition string
	}{
		{"cloudwatch:PutMetricData", "*", "map[StringEquals:map[cloudwatch:namespace:Acme/Db]]"},
		{"dynamodb:GetItem,dynamodb:PutItem", table, "map[ForAllValues:StringEquals:map[dynamodb:LeadingKeys:[orders]]]"},
		{"states:StartExecution", app.StateMachine.Arn, "map[]"},
	}
	if len(got) != len(cases) {
		t.Errorf("%d statements, want %d: %+v", len(got), len(cases), mp.Statements)
	}
	for _, c := range cases {
		st, ok := got[c.actions]
		if !ok {
			t.Errorf("no statement for %s", c.actions)
			continue
		}
		if st.Effect != "Allow" || strings.Join(st.Resources, ",") != c.resource || fmtCondition(st.Condition) != c.condition {
			t.Errorf("%s: %+v, want resource %s condition %s", c.actions, st, c.resource, c.condition)
		}
	}
}

// fmtCondition prints a Condition block with sorted keys (fmt sorts maps).
func fmtCondition(c map[string]any) string {
	if c == nil {
		c = map[string]any{}
	}
	return fmt.Sprint(c)
}
