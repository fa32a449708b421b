package samtemplate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/notify"
	"github.com/switchyard/switchyard/internal/probe"
)

// The notification topic always exists. With a NotificationEmail the
// template subscribes it and creates the alarms for lost redundancy and
// failed executions, all notifying the topic; without one it creates none
// of them. Either way the two detection alarms are there.
func TestRealTemplateRedundancyAndExecutionAlarms(t *testing.T) {
	quiet := loadReal(t, scenarios()[0].params)
	if len(quiet.Alarms) != 2 || quiet.Alarms["PrimaryHeartbeatAlarm"] == nil || quiet.Alarms["PrimaryUnreachableAlarm"] == nil {
		t.Errorf("without NotificationEmail: alarms %v, want only PrimaryHeartbeatAlarm and PrimaryUnreachableAlarm", sortedKeys(quiet.Alarms))
	}
	topic := "arn:aws:sns:us-east-1:123456789012:switchyard-orders-notifications"
	if got := quiet.Topics["NotificationTopic"]; got == nil || got.Arn != topic || len(got.Subscriptions) != 0 || quiet.Outputs["NotificationTopicArn"] != topic {
		t.Errorf("without NotificationEmail: topic %+v, output %q; want %s without subscriptions", got, quiet.Outputs["NotificationTopicArn"], topic)
	}

	params := with(scenarios()[0].params, "NotificationEmail", "dba@example.com")
	if errs := Validate(realTemplate, params); len(errs) > 0 {
		t.Fatalf("Validate with NotificationEmail:\n%s", errorsText(errs))
	}
	app := loadReal(t, params)
	if subs := app.Topics["NotificationTopic"].Subscriptions; len(subs) != 1 || subs[0] != (Subscription{Protocol: "email", Endpoint: "dba@example.com"}) {
		t.Errorf("subscriptions %+v, want the e-mail", subs)
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
	// Lost redundancy: the standby's replay lag, as the standby's probe
	// publishes it under {Cluster, Role=standby}; no value at all for 3
	// minutes is no healthy standby.
	standby := []Dimension{{Name: "Cluster", Value: "orders"}, {Name: "Role", Value: "standby"}}
	for id, want := range map[string]struct {
		metric, stat, op, missing string
		threshold                 float64
	}{
		"StandbyHeartbeatAlarm": {"ReplayLagBytes", "SampleCount", "LessThanThreshold", "breaching", 1},
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
		// The cluster's record item and its history item.
		{"dynamodb:GetItem,dynamodb:PutItem", table, "map[ForAllValues:StringEquals:map[dynamodb:LeadingKeys:[orders orders#history]]]"},
		{"states:StartExecution", app.StateMachine.Arn, "map[]"},
		// Snapshots of the node's own instance only, before a rejoin.
		{"ec2:CreateSnapshots", "arn:aws:ec2:us-east-1:123456789012:instance/i-0aaa1111,arn:aws:ec2:us-east-1:123456789012:instance/i-0bbb2222," +
			"arn:aws:ec2:us-east-1:123456789012:volume/*,arn:aws:ec2:us-east-1::snapshot/*", "map[]"},
		{"ec2:CreateTags", "arn:aws:ec2:us-east-1::snapshot/*", "map[StringEquals:map[ec2:CreateAction:CreateSnapshots]]"},
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
	if app := loadReal(t, scenarios()[0].params); len(app.Dashboards) != 0 || app.Outputs["DashboardUrl"] != "" {
		t.Errorf("a dashboard (%d, URL %q) without CreateDashboard=true: it costs 3 USD a month", len(app.Dashboards), app.Outputs["DashboardUrl"])
	}
	app := loadReal(t, with(scenarios()[0].params, "MetricNamespace", "Acme/Db", "CreateDashboard", "true"))
	d := app.Dashboards["Dashboard"]
	if d == nil || d.DashboardName != "switchyard-orders" || !strings.Contains(app.Outputs["DashboardUrl"], "switchyard-orders") {
		t.Fatalf("dashboard %+v, URL %q", d, app.Outputs["DashboardUrl"])
	}
	metrics, err := d.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	published := map[string]map[string]bool{ // metric -> dimension names joined
		probe.MetricHeartbeat:                 {"Cluster,Node": true, "Cluster,Role": true},
		probe.MetricReplayLagBytes:            {"Cluster,Role": true},
		probe.MetricPrimaryLSN:                {"Cluster,Node": true},
		agent.MetricSyncCommitsWaiting:        {"Cluster,Node": true},
		agent.MetricPrimaryUnreachableSeconds: {"Cluster": true},
		agent.MetricLeaseSecondsLeft:          {"Cluster,Node": true},
		failover.MetricRoutingDrift:           {"Cluster": true},
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

// The notify function reads the cluster table's stream (both images, so
// it can tell what changed), reports failed records so Lambda retries from
// them, and may publish only to the notification topic.
func TestRealTemplateNotifyFunctionReadsTheTableStream(t *testing.T) {
	app := loadReal(t, scenarios()[0].params)
	table := app.Tables["ClusterTable"]
	if table == nil || table.StreamViewType != "NEW_AND_OLD_IMAGES" || table.StreamArn == "" {
		t.Fatalf("cluster table %+v, want a NEW_AND_OLD_IMAGES stream", table)
	}
	fn := app.Functions["NotifyFunction"]
	if fn == nil || len(fn.Streams) != 1 {
		t.Fatalf("NotifyFunction %+v, want one DynamoDB event", fn)
	}
	se := fn.Streams[0]
	if se.Stream != table.StreamArn || se.StartingPosition != "LATEST" || !se.ReportBatchItemFailures ||
		se.MaximumRetryAttempts < 0 || se.MaximumRecordAgeSeconds < 0 {
		t.Errorf("stream event %+v: want the table's stream, LATEST, batch item failures, bounded retries and age", se)
	}
	topic := app.Topics["NotificationTopic"]
	if fn.Environment[notify.EnvTopicARN] != topic.Arn {
		t.Errorf("%s = %q, want %s", notify.EnvTopicARN, fn.Environment[notify.EnvTopicARN], topic.Arn)
	}
	audit := app.NewAudit()
	if err := audit.Check(Request{Principal: "NotifyFunction", Action: "sns:Publish", Resources: []string{topic.Arn}}); err != nil {
		t.Errorf("publishing to the topic: %v", err)
	}
	if err := audit.Check(Request{Principal: "NotifyFunction", Action: "sns:Publish", Resources: []string{topic.Arn + "-other"}}); err == nil {
		t.Error("NotifyFunction may publish to another topic")
	}
}
