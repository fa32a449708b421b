package samtemplate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/probe"
)

// With an AlarmEmail the template creates the topic and the alarms for
// lost redundancy and failed executions, all notifying the topic; without
// one it creates none of them. Either way the two detection alarms are
// there.
func TestRealTemplateRedundancyAndExecutionAlarms(t *testing.T) {
	quiet := loadReal(t, scenarios()[0].params)
	if len(quiet.Alarms) != 2 || quiet.Alarms["PrimaryHeartbeatAlarm"] == nil || quiet.Alarms["PrimaryUnreachableAlarm"] == nil {
		t.Errorf("without AlarmEmail: alarms %v, want only PrimaryHeartbeatAlarm and PrimaryUnreachableAlarm", sortedKeys(quiet.Alarms))
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
	// Lost redundancy: the standby's heartbeats and replay lag, as the
	// standby's probe publishes them under {Cluster, Role=standby}.
	standby := []Dimension{{Name: "Cluster", Value: "orders"}, {Name: "Role", Value: "standby"}}
	for id, want := range map[string]struct {
		metric, stat, op, missing string
		threshold                 float64
	}{
		"StandbyHeartbeatAlarm": {"Heartbeat", "Maximum", "LessThanThreshold", "breaching", 1},
		"ReplicationLagAlarm":   {"ReplayLagBytes", "Minimum", "GreaterThanThreshold", "notBreaching", 1048576},
	} {
		a := app.Alarms[id]
		if a == nil {
			t.Errorf("no %s", id)
			continue
		}
		if a.MetricName != want.metric || a.Statistic != want.stat || a.ComparisonOperator != want.op ||
			a.TreatMissingData != want.missing || a.Threshold != want.threshold || len(a.Dimensions) != 2 ||
			a.Dimensions[0] != standby[0] || a.Dimensions[1] != standby[1] || strings.Join(a.AlarmActions, ",") != topic {
			t.Errorf("%s = %+v", id, a)
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

// The dashboard shows only metrics something publishes: the node agents'
// series under the dimensions they use, and AWS's own for the state
// machine and the functions of this stack; its alarm widget shows the two
// detection alarms.
func TestRealTemplateDashboard(t *testing.T) {
	app := loadReal(t, with(scenarios()[0].params, "MetricNamespace", "Acme/Db"))
	d := app.Dashboards["Dashboard"]
	if d == nil || d.DashboardName != "switchyard-orders" {
		t.Fatalf("dashboard %+v", d)
	}
	metrics, err := d.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	published := map[string]map[string]bool{ // metric -> dimension names joined
		probe.MetricHeartbeat:          {"Cluster,Node": true, "Cluster,Role": true},
		probe.MetricReplayLagBytes:     {"Cluster,Node": true, "Cluster,Role": true},
		probe.MetricPrimaryLSN:         {"Cluster,Node": true, "Cluster,Role": true},
		agent.MetricSyncCommitsWaiting: {"Cluster,Node": true},
		agent.MetricPrimaryReachable:   {"Cluster": true},
		agent.MetricLeaseSecondsLeft:   {"Cluster,Node": true},
		failover.MetricRoutingDrift:    {"Cluster": true},
	}
	functions := map[string]bool{}
	for _, fn := range app.Functions {
		functions[fn.FunctionName] = true
	}
	for _, m := range metrics {
		var names []string
		dims := map[string]string{}
		for _, dim := range m.Dimensions {
			names = append(names, dim.Name)
			dims[dim.Name] = dim.Value
		}
		switch m.Namespace {
		case "Acme/Db":
			if !published[m.Name][strings.Join(names, ",")] || dims["Cluster"] != "orders" {
				t.Errorf("widget %q: %s %v is not a series the node agents publish", m.Widget, m.Name, m.Dimensions)
			}
		case "AWS/States":
			if dims["StateMachineArn"] != app.StateMachine.Arn {
				t.Errorf("widget %q: %s of %v, not this state machine", m.Widget, m.Name, m.Dimensions)
			}
		case "AWS/Lambda":
			if !functions[dims["FunctionName"]] {
				t.Errorf("widget %q: %s of %v, not a function of the stack", m.Widget, m.Name, m.Dimensions)
			}
		default:
			t.Errorf("widget %q: namespace %s", m.Widget, m.Namespace)
		}
	}
	arns, _ := d.AlarmARNs()
	if len(arns) != 2 || arns[0] != app.Alarms["PrimaryHeartbeatAlarm"].AlarmArn || arns[1] != app.Alarms["PrimaryUnreachableAlarm"].AlarmArn {
		t.Errorf("alarm widget %v", arns)
	}
	if want := "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=switchyard-orders"; app.Outputs["DashboardUrl"] != want {
		t.Errorf("DashboardUrl %q", app.Outputs["DashboardUrl"])
	}
	// A broken body is caught before CloudFormation would reject it.
	d.Body = `{"widgets":[`
	if errs := app.checkDashboards(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "not valid JSON") {
		t.Errorf("broken body: %v", errs)
	}
}
