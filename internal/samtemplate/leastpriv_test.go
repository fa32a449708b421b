package samtemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordedRun is a call log of the local stack (localaws.Server.Calls),
// reduced to what IAM authorizes: who called, what, on which ARNs, with
// which condition keys.
type recordedRun struct {
	Params map[string]string `json:"params"`
	Calls  []struct {
		Caller, Service, Operation string
		ARNs                       []string
		Context                    map[string][]string
		Items                      []CallItem // a DynamoDB transaction's items
	} `json:"calls"`
}

// principalOf maps a caller of the local stack (its access key id) to the
// template principal whose policy a deployment would apply: functions call
// as their logical id, node agents and probes as agent-<node> and
// probe-<node>, both under the instance profile's NodeAgentPolicy. Other
// callers (the test's setup, the operator, CloudFormation) are not the
// template's principals.
func principalOf(app *App, caller string) (string, bool) {
	if app.Functions[caller] != nil {
		return caller, true
	}
	if strings.HasPrefix(caller, "agent-") || strings.HasPrefix(caller, "probe-") {
		return "NodeAgentPolicy", true
	}
	return "", false
}

// exercisedElsewhere are the grants a plain manual failover does not use,
// each with the run that does. Anything else unused is a grant to remove.
var exercisedElsewhere = map[string]string{
	"FenceFunction statement 3: ec2:ModifyNetworkInterfaceAttribute on arn:aws:ec2:us-east-1:123456789012:network-interface/eni-0d132fa596468253e": "isolate-and-stop fencing",
	"FenceFunction statement 3: ec2:ModifyNetworkInterfaceAttribute on arn:aws:ec2:us-east-1:123456789012:network-interface/eni-069d21676ba6be710": "isolate-and-stop fencing of node2",
	"FenceFunction statement 3: ec2:ModifyNetworkInterfaceAttribute on arn:aws:ec2:us-east-1:123456789012:security-group/*":                        "isolate-and-stop fencing",
	"FenceFunction statement 2: ec2:StopInstances on arn:aws:ec2:us-east-1:123456789012:instance/i-01fb331160654d593":                              "a failover from node2 back to node1",
	"FenceFunction statement 4: ec2:DescribeNetworkInterfaces on *":                                                                                "isolate-and-stop fencing (waits for the ENI's groups)",
	"RearmFunction statement 0: cloudwatch:SetAlarmState on arn:aws:cloudwatch:us-east-1:123456789012:alarm:switchyard-demo-primary-heartbeat":     "an alarm-driven run that ends without a failover",
	"ReportFunction statement 0: dynamodb:GetItem on arn:aws:dynamodb:us-east-1:123456789012:table/switchyard-demo":                                "a failed failover",
	"ReportFunction statement 0: dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/switchyard-demo":                                "a failed failover",
	"NodeAgentPolicy statement 2: states:StartExecution on arn:aws:states:us-east-1:123456789012:stateMachine:switchyard-demo-failover":            "the standby agent's fast path",
	"AssessFunction statement 0: ec2:DescribeAddresses on *":                                                                                       "every Assess reads where clients are routed (the recorded log predates it; the local stack's assertCallsAllowed checks the live calls)",
	"AssessFunction statement 0: ec2:DescribeRouteTables on *":                                                                                     "every Assess reads where clients are routed (the recorded log predates it)",
	"AssessFunction statement 3: route53:ListResourceRecordSets on arn:aws:route53:::hostedzone/Z0853214A1B2C3D4E5F6G":                             "every Assess reads where clients are routed (the recorded log predates it)",
	"LeaseFunction statement 1: states:DescribeExecution on arn:aws:states:us-east-1:123456789012:execution:switchyard-demo-failover:*":            "a lock held when a new execution starts (localstack TestInterruptedFailoverConverges)",
	"CleanupFunction statement 0: dynamodb:GetItem on arn:aws:dynamodb:us-east-1:123456789012:table/switchyard-demo":                               "an execution that ends FAILED, TIMED_OUT or ABORTED (localstack TestInterruptedFailoverConverges)",
	"CleanupFunction statement 0: dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/switchyard-demo":                               "an execution that ends holding the lock (localstack TestInterruptedFailoverConverges)",
	"CleanupFunction statement 1: cloudwatch:SetAlarmState on arn:aws:cloudwatch:us-east-1:123456789012:alarm:switchyard-demo-primary-heartbeat":   "an alarm-triggered execution that ends FAILED, TIMED_OUT or ABORTED",
	"RearmFunction statement 0: cloudwatch:SetAlarmState on arn:aws:cloudwatch:us-east-1:123456789012:alarm:switchyard-demo-primary-unreachable":   "a reachability-alarm run that ends without a failover (localstack TestFaultPrimaryCutOffFromStandby)",
	"CleanupFunction statement 1: cloudwatch:SetAlarmState on arn:aws:cloudwatch:us-east-1:123456789012:alarm:switchyard-demo-primary-unreachable": "a reachability-alarm execution that ends FAILED, TIMED_OUT or ABORTED",
	"DriftFunction statement 0: dynamodb:GetItem on arn:aws:dynamodb:us-east-1:123456789012:table/switchyard-demo":                                 "the scheduled drift check (localstack TestDriftCheckReportsMisroutedTargets checks its live calls)",
	"DriftFunction statement 1: ec2:DescribeAddresses on *":                                                                                        "the scheduled drift check",
	"DriftFunction statement 1: ec2:DescribeNetworkInterfaces on *":                                                                                "the scheduled drift check (source/destination check of the nodes' interfaces)",
	"DriftFunction statement 1: ec2:DescribeRouteTables on *":                                                                                      "the scheduled drift check",
	"DriftFunction statement 2: route53:ListResourceRecordSets on arn:aws:route53:::hostedzone/Z0853214A1B2C3D4E5F6G":                              "the scheduled drift check",
	"DriftFunction statement 3: cloudwatch:PutMetricData on *":                                                                                     "the scheduled drift check",
	"NotifyFunction statement 0: sns:Publish on arn:aws:sns:us-east-1:123456789012:switchyard-demo-notifications":                                  "every notice (the local stack's assertCallsAllowed checks the live calls of TestNotificationsForEveryOutcome)",
	"NodeAgentPolicy statement 3: ec2:CreateSnapshots on arn:aws:ec2:us-east-1:123456789012:instance/i-01fb331160654d593":                          "node2's agent before it rejoins (a failover from node2 back to node1)",
	"NodeAgentPolicy statement 3: ec2:CreateSnapshots on arn:aws:ec2:us-east-1:123456789012:instance/i-0c460e6afa6d2ca4c":                          "node1's agent before it rejoins (localstack TestFormerPrimaryRejoinsAfterFailover checks its live calls)",
	"NodeAgentPolicy statement 3: ec2:CreateSnapshots on arn:aws:ec2:us-east-1:123456789012:volume/*":                                              "a rejoin (localstack TestFormerPrimaryRejoinsAfterFailover)",
	"NodeAgentPolicy statement 3: ec2:CreateSnapshots on arn:aws:ec2:us-east-1::snapshot/*":                                                        "a rejoin (localstack TestFormerPrimaryRejoinsAfterFailover)",
	"NodeAgentPolicy statement 4: ec2:CreateTags on arn:aws:ec2:us-east-1::snapshot/*":                                                             "the tags of a rejoin's snapshots (CreateSnapshots' TagSpecifications; the emulator does not log CreateTags separately)",
	"CleanupFunction statement 2: states:StartExecution on arn:aws:states:us-east-1:123456789012:stateMachine:switchyard-demo-failover":            "an execution stopped after the grant (localstack TestInterruptedFailoverConverges)",
}

// auditRun checks every call of a recorded run against the template's
// policies and returns the denials and the unused grants not listed in
// exercisedElsewhere.
func auditRun(t *testing.T, templatePath string, run recordedRun) (denied []string, unused []string) {
	t.Helper()
	app, err := Load(templatePath, run.Params)
	if err != nil {
		t.Fatal(err)
	}
	audit := app.NewAudit()
	for _, c := range run.Calls {
		p, ok := principalOf(app, c.Caller)
		if !ok {
			continue
		}
		for _, req := range CallRequests(p, c.Service, c.Operation, c.ARNs, c.Context, c.Items) {
			if err := audit.Check(req); err != nil {
				denied = append(denied, err.Error())
			}
		}
	}
	principals := append(sortedKeys(app.Functions), sortedKeys(app.ManagedPolicies)...)
	for _, g := range audit.Unused(principals...) {
		if _, ok := exercisedElsewhere[g]; !ok {
			unused = append(unused, g)
		}
	}
	return denied, unused
}

func loadRun(t *testing.T, name string) recordedRun {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "calls", name))
	if err != nil {
		t.Fatal(err)
	}
	var run recordedRun
	if err := json.Unmarshal(data, &run); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return run
}

// Least privilege, on actions, resource ARNs and condition keys: every
// call a manual failover made on the local stack is allowed by its
// principal's policy in template.yaml, and every grant is used by it or by
// a run named in exercisedElsewhere.
func TestRealTemplatePoliciesAreLeastPrivilegeForARecordedFailover(t *testing.T) {
	denied, unused := auditRun(t, realTemplate, loadRun(t, "manual-failover.json"))
	for _, d := range denied {
		t.Errorf("denied: %s", d)
	}
	for _, u := range unused {
		t.Errorf("granted but never used (remove it, or name the run that uses it in exercisedElsewhere): %s", u)
	}
}

// realVariant writes template.yaml with each old→new replacement applied,
// next to a copy of its state machine definition, and returns its path.
func realVariant(t *testing.T, edits ...string) string {
	t.Helper()
	data, err := os.ReadFile(realTemplate)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := string(data)
	for i := 0; i+1 < len(edits); i += 2 {
		if strings.Count(tmpl, edits[i]) != 1 {
			t.Fatalf("realVariant: %q is not in template.yaml exactly once", edits[i])
		}
		tmpl = strings.Replace(tmpl, edits[i], edits[i+1], 1)
	}
	dir := t.TempDir()
	def, err := os.ReadFile(filepath.Join(repoRoot, "statemachine", "failover.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "statemachine"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "statemachine", "failover.asl.json"), def, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The check fails, naming the call or the grant, when a needed grant is
// taken away, a resource is wrong, a condition does not hold, or a grant
// is added that nothing uses.
func TestLeastPrivilegeCheckCatchesMissingWrongAndUnusedGrants(t *testing.T) {
	run := loadRun(t, "manual-failover.json")
	cases := []struct {
		name         string
		template     string
		params       map[string]string
		denied, used string
	}{
		{"action removed", realVariant(t, "Action: [ec2:ReplaceRoute]", "Action: [ec2:CreateRoute]"), nil,
			"RerouteFunction ec2:ReplaceRoute on arn:aws:ec2:us-east-1:123456789012:route-table/rtb-",
			"RerouteFunction statement 2: ec2:CreateRoute on arn:aws:ec2:us-east-1:123456789012:route-table/*"},
		{"resource narrowed", realVariant(t,
			"- !Sub arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/${Node1InstanceId}\n", ""), nil,
			"no statement allows ec2:StopInstances on arn:aws:ec2:us-east-1:123456789012:instance/i-0c460e6afa6d2ca4c", ""},
		{"condition not met", realTemplate, map[string]string{"MetricNamespace": "Acme/Other"},
			"NodeAgentPolicy cloudwatch:PutMetricData with cloudwatch:namespace=Switchyard: no statement allows " +
				"cloudwatch:PutMetricData on * (conditions not met: statement 0: StringEquals cloudwatch:namespace [Acme/Other]", ""},
		{"unused grant added", realVariant(t, "Action: [ec2:StopInstances]", "Action: [ec2:StopInstances, ec2:RebootInstances]"), nil,
			"", "FenceFunction statement 2: ec2:RebootInstances on arn:aws:ec2:us-east-1:123456789012:instance/i-0c460e6afa6d2ca4c"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run
			r.Params = with(run.Params)
			for k, v := range c.params {
				r.Params[k] = v
			}
			denied, unused := auditRun(t, c.template, r)
			t.Logf("denied:\n  %s\nunused:\n  %s", strings.Join(denied, "\n  "), strings.Join(unused, "\n  "))
			if c.denied == "" && len(denied) > 0 {
				t.Errorf("denied calls, want none")
			}
			if c.denied != "" && !strings.Contains(strings.Join(denied, "\n"), c.denied) {
				t.Errorf("no denial mentions %q", c.denied)
			}
			if c.used != "" && !strings.Contains(strings.Join(unused, "\n"), c.used) {
				t.Errorf("no unused grant mentions %q", c.used)
			}
			if len(denied) == 0 && len(unused) == 0 {
				t.Error("the check passed")
			}
		})
	}
}

// Condition operators follow IAM: a single-valued operator needs the key
// (unless …IfExists); ForAllValues holds for an absent key and needs every
// value allowed; ForAnyValue needs one.
func TestConditionOperators(t *testing.T) {
	cases := []struct {
		op        string
		want, got []string
		present   bool
		match     bool
	}{
		{"StringEquals", []string{"a"}, []string{"a"}, true, true},
		{"StringEquals", []string{"a"}, []string{"b"}, true, false},
		{"StringEquals", []string{"a"}, nil, false, false},
		{"StringEqualsIfExists", []string{"a"}, nil, false, true},
		{"StringLike", []string{"pg.*.internal"}, []string{"pg.db.internal"}, true, true},
		{"StringEqualsIgnoreCase", []string{"ABC"}, []string{"abc"}, true, true},
		{"ForAllValues:StringEquals", []string{"demo"}, []string{"demo"}, true, true},
		{"ForAllValues:StringEquals", []string{"demo"}, []string{"demo", "other"}, true, false},
		{"ForAllValues:StringEquals", []string{"demo"}, nil, false, true},
		{"ForAnyValue:StringEquals", []string{"demo"}, []string{"other", "demo"}, true, true},
		{"ForAnyValue:StringEquals", []string{"demo"}, nil, false, false},
		{"NumericLessThan", []string{"1"}, []string{"0"}, true, false}, // unsupported: never allows
	}
	for _, c := range cases {
		if got, why := conditionMatches(c.op, c.want, c.got, c.present); got != c.match {
			t.Errorf("%s %v against %v (present %v) = %v (%s), want %v", c.op, c.want, c.got, c.present, got, why, c.match)
		}
	}
}
