package samtemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/probe"
)

func TestRealTemplatePassesChecksInEveryScenario(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			if errs := Validate(realTemplate, sc.params); len(errs) > 0 {
				t.Fatalf("Validate:\n%s", errorsText(errs))
			}
		})
	}
}

// The cluster configuration is built by a !Sub of JSON fragments chosen by
// conditions; each scenario must produce exactly the routing it asks for.
func TestRealTemplateConfigCarriesTheScenario(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			app := loadReal(t, sc.params)
			raw := app.Functions["FenceFunction"].Environment[cluster.EnvConfig]
			if !json.Valid([]byte(raw)) {
				t.Fatalf("%s is not JSON: %s", cluster.EnvConfig, raw)
			}
			cfg, err := cluster.Parse([]byte(raw))
			if err != nil {
				t.Fatalf("cluster.Parse: %v\n%s", err, raw)
			}
			p := sc.params
			if cfg.Name != "orders" || cfg.Table != "switchyard-orders" || cfg.Routing.ClientEndpoint != p["ClientEndpoint"] {
				t.Errorf("name/table/endpoint = %q/%q/%q", cfg.Name, cfg.Table, cfg.Routing.ClientEndpoint)
			}
			if n := cfg.Nodes[1]; n.Name != "node2" || n.InstanceID != p["Node2InstanceId"] || n.PostgresAddr != "10.0.2.10:5432" ||
				n.NetworkInterfaceID != p["Node2EniId"] || n.AvailabilityZone != p["Node2AvailabilityZone"] {
				t.Errorf("node 2 = %+v", n)
			}
			if got, want := cfg.Routing.OverlayIP != nil, p["OverlayCidr"] != ""; got != want {
				t.Errorf("overlay configured = %v, want %v", got, want)
			} else if got && (cfg.Routing.OverlayIP.CIDR != p["OverlayCidr"] ||
				strings.Join(cfg.Routing.OverlayIP.VPCIDs, ",") != "vpc-0a,vpc-0b") {
				t.Errorf("overlay = %+v", *cfg.Routing.OverlayIP)
			}
			if got, want := cfg.Routing.ElasticIP != nil, p["ElasticIpAllocationId"] != ""; got != want {
				t.Errorf("elastic IP configured = %v, want %v", got, want)
			} else if got && cfg.Routing.ElasticIP.AllocationID != p["ElasticIpAllocationId"] {
				t.Errorf("elastic IP = %+v", *cfg.Routing.ElasticIP)
			}
			if p["HostedZoneId"] == "" {
				if len(cfg.Routing.DNS) != 0 {
					t.Errorf("dns = %+v, want none", cfg.Routing.DNS)
				}
			} else if len(cfg.Routing.DNS) != 1 || cfg.Routing.DNS[0].HostedZoneID != p["HostedZoneId"] ||
				cfg.Routing.DNS[0].Name != p["RecordName"] {
				t.Errorf("dns = %+v", cfg.Routing.DNS)
			}
			wantMode := p["FenceMode"]
			if wantMode == "" {
				wantMode = cluster.FenceStop
			}
			if cfg.Fence.Mode != wantMode || cfg.Fence.IsolationSecurityGroupID != p["IsolationSecurityGroupId"] {
				t.Errorf("fence = %+v", cfg.Fence)
			}
			if cfg.Promotion.MaxLagBytes != int64(paramInt(t, app, "MaxLagBytes")) || cfg.Database.SecretID != p["DatabaseSecretArn"] ||
				cfg.Database.SSLMode != "require" {
				t.Errorf("promotion/database = %+v / %+v", cfg.Promotion, cfg.Database)
			}
			wantLease := cluster.PrimaryLease{
				Seconds:              paramInt(t, app, "LeaseSeconds"),
				RenewSeconds:         paramInt(t, app, "LeaseRenewSeconds"),
				ClockMarginMs:        paramInt(t, app, "LeaseClockMarginMs"),
				WatchdogSeconds:      paramInt(t, app, "LeaseWatchdogSeconds"),
				StopBudgetMs:         cluster.DefaultStopBudgetMs,
				FailsafeReplySeconds: cluster.DefaultFailsafeReplySeconds,
			}
			if wantLease.WatchdogSeconds == 0 {
				wantLease.WatchdogSeconds = wantLease.Seconds - wantLease.RenewSeconds - 1
			}
			if cfg.Lease != wantLease {
				t.Errorf("lease = %+v, want %+v", cfg.Lease, wantLease)
			}
			wantRepl := cluster.Replication{Mode: app.Parameters["ReplicationMode"], SyncPolicy: app.Parameters["SyncPolicy"],
				DegradeAfterSeconds: paramInt(t, app, "DegradeAfterSeconds")}
			if cfg.Replication != wantRepl {
				t.Errorf("replication = %+v, want %+v", cfg.Replication, wantRepl)
			}
			if cfg.Detection.Namespace != app.Parameters["MetricNamespace"] || app.Alarms["PrimaryHeartbeatAlarm"].Namespace != cfg.Detection.Namespace {
				t.Errorf("namespace: config %q, alarm %q, parameter %q", cfg.Detection.Namespace,
					app.Alarms["PrimaryHeartbeatAlarm"].Namespace, app.Parameters["MetricNamespace"])
			}
		})
	}
}

func TestRealTemplateConfigErrorsAreCaught(t *testing.T) {
	// Isolate-and-stop fencing without an isolation group evaluates fine
	// but is not a usable configuration: Validate must say so.
	errs := Validate(realTemplate, with(baseParams(), "OverlayCidr", "10.1.0.10/32", "OverlayVpcIds", "vpc-0a", "FenceMode", "isolate-and-stop"))
	if !strings.Contains(errorsText(errs), "isolationSecurityGroupId") {
		t.Fatalf("Validate = %v, want the missing isolation group named", errs)
	}
	// No routing at all.
	errs = Validate(realTemplate, baseParams())
	if !strings.Contains(errorsText(errs), "configure at least one of overlayIp, elasticIp, dns") {
		t.Fatalf("Validate = %v, want the missing routing named", errs)
	}
}

func TestRealTemplateFunctionsHaveBuildTargetsAndSources(t *testing.T) {
	app := loadReal(t, scenarios()[0].params)
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{} // build-<LogicalId> → recipe line
	for _, m := range regexp.MustCompile(`(?m)^build-(\w+):(.*)$`).FindAllStringSubmatch(string(makefile), -1) {
		targets[m[1]] = m[2]
	}
	if len(app.Functions) != 13 {
		t.Errorf("%d functions, want 13", len(app.Functions))
	}
	for id, fn := range app.Functions {
		dir := strings.ToLower(strings.TrimSuffix(id, "Function"))
		recipe, ok := targets[id]
		if !ok {
			t.Errorf("Makefile has no build-%s target", id)
		} else if !strings.Contains(recipe, "sam_build,"+dir+")") {
			t.Errorf("build-%s does not build ./functions/%s: %s", id, dir, recipe)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, "functions", dir, "main.go")); err != nil {
			t.Errorf("function %s: %v", id, err)
		}
		if fn.BuildMethod != "makefile" || fn.CodeURI != "." || fn.Runtime != "provided.al2023" ||
			fn.Handler != "bootstrap" || strings.Join(fn.Architectures, ",") != "arm64" {
			t.Errorf("function %s: build %q code %q runtime %q handler %q arch %v", id, fn.BuildMethod, fn.CodeURI, fn.Runtime, fn.Handler, fn.Architectures)
		}
	}
}

func TestRealTemplateSubstitutionsMatchDefinition(t *testing.T) {
	sm := loadReal(t, scenarios()[0].params).StateMachine
	vars := definitionVariables(string(sm.RawDefinition))
	sort.Strings(vars)
	if got, want := strings.Join(vars, ","), strings.Join(sortedKeys(sm.Substitutions), ","); got != want {
		t.Fatalf("definition uses %s, template substitutes %s", got, want)
	}
	if strings.Contains(string(sm.Definition), "${") {
		t.Fatalf("substituted definition still has ${")
	}
}

func TestRealTemplateTasksInvokeTemplateFunctionsWithinTheirTimeout(t *testing.T) {
	app := loadReal(t, scenarios()[0].params)
	var root map[string]any
	if err := json.Unmarshal(app.StateMachine.Definition, &root); err != nil {
		t.Fatal(err)
	}
	var tasks []taskState
	collectTasks(root, &tasks)
	invoked := map[string]bool{}
	for _, task := range tasks {
		fn, err := app.taskFunction(task)
		if err != nil {
			t.Errorf("state %s: %v", task.Name, err)
			continue
		}
		invoked[fn.LogicalID] = true
		// Tasks invoke the published alias: provisioned concurrency applies
		// to an alias, never to $LATEST.
		if fn.Alias != "live" || task.Resource != fn.AliasArn() {
			t.Errorf("state %s: Resource %s, want %s's alias %s", task.Name, task.Resource, fn.LogicalID, fn.AliasArn())
		}
		if task.TimeoutSeconds == nil || *task.TimeoutSeconds < float64(fn.Timeout+TaskTimeoutMarginSeconds) {
			t.Errorf("state %s: TimeoutSeconds %v, function %s Timeout %d", task.Name, task.TimeoutSeconds, fn.LogicalID, fn.Timeout)
		}
	}
	for id, fn := range app.Functions {
		if !invoked[id] && len(fn.EventRules) == 0 && len(fn.Streams) == 0 {
			t.Errorf("function %s is invoked by no Task state, no event rule and no stream", id)
		}
	}
}

func TestRealTemplateAlarmRuleConfigAndProbeAgree(t *testing.T) {
	app := loadReal(t, scenarios()[0].params)
	cfg, err := cluster.Parse([]byte(app.Functions["AssessFunction"].Environment[cluster.EnvConfig]))
	if err != nil {
		t.Fatal(err)
	}
	alarm := app.Alarms["PrimaryHeartbeatAlarm"]
	if alarm == nil {
		t.Fatal("no PrimaryHeartbeatAlarm")
	}
	if alarm.AlarmName != "switchyard-orders-primary-heartbeat" || alarm.AlarmName != cfg.Detection.AlarmName ||
		app.Outputs["HeartbeatAlarmName"] != alarm.AlarmName {
		t.Errorf("alarm %q, config %q, output %q", alarm.AlarmName, cfg.Detection.AlarmName, app.Outputs["HeartbeatAlarmName"])
	}
	var pattern struct {
		Detail struct {
			AlarmName []string `json:"alarmName"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(app.StateMachine.EventRules[0].Pattern, &pattern); err != nil {
		t.Fatal(err)
	}
	reach := app.Alarms["PrimaryUnreachableAlarm"]
	if reach == nil {
		t.Fatal("no PrimaryUnreachableAlarm")
	}
	if reach.AlarmName != "switchyard-orders-primary-unreachable" || reach.AlarmName != cfg.Detection.ReachabilityAlarmName ||
		app.Outputs["ReachabilityAlarmName"] != reach.AlarmName {
		t.Errorf("reachability alarm %q, config %q, output %q", reach.AlarmName, cfg.Detection.ReachabilityAlarmName, app.Outputs["ReachabilityAlarmName"])
	}
	if len(pattern.Detail.AlarmName) != 2 || pattern.Detail.AlarmName[0] != alarm.AlarmName || pattern.Detail.AlarmName[1] != reach.AlarmName {
		t.Errorf("rule alarmName %v, alarms %q %q", pattern.Detail.AlarmName, alarm.AlarmName, reach.AlarmName)
	}
	// The reachability alarm watches the series the standby's detector
	// publishes under {Cluster}, and fires once the standby has not reached
	// the primary for one whole period; a standby that publishes nothing
	// leaves it OK.
	if reach.Namespace != cfg.Detection.Namespace || reach.MetricName != agent.MetricPrimaryUnreachableSeconds ||
		len(reach.Dimensions) != 1 || reach.Dimensions[0] != (Dimension{probe.DimCluster, cfg.Name}) {
		t.Errorf("reachability alarm metric %s/%s %v", reach.Namespace, reach.MetricName, reach.Dimensions)
	}
	if in := reach.PutMetricAlarmInput(); *in.Period != 10 || *in.EvaluationPeriods != 1 || *in.DatapointsToAlarm != 1 ||
		*in.Threshold != 10 || in.ComparisonOperator != "GreaterThanOrEqualToThreshold" || *in.TreatMissingData != "notBreaching" || in.Statistic != "Maximum" {
		t.Errorf("reachability PutMetricAlarmInput = %+v", in)
	}
	// The alarm watches exactly the series the primary's probe publishes.
	wantDims := []Dimension{{probe.DimCluster, cfg.Name}, {probe.DimRole, pgnode.RolePrimary.String()}}
	if alarm.Namespace != cfg.Detection.Namespace || alarm.MetricName != probe.MetricHeartbeat ||
		len(alarm.Dimensions) != 2 || alarm.Dimensions[0] != wantDims[0] || alarm.Dimensions[1] != wantDims[1] {
		t.Errorf("alarm metric %s/%s %v, want %s/%s %v", alarm.Namespace, alarm.MetricName, alarm.Dimensions,
			cfg.Detection.Namespace, probe.MetricHeartbeat, wantDims)
	}
	in := alarm.PutMetricAlarmInput()
	if *in.Period != 60 || *in.EvaluationPeriods != 2 || *in.DatapointsToAlarm != 2 || *in.Threshold != 1 ||
		in.ComparisonOperator != "LessThanThreshold" || *in.TreatMissingData != "breaching" || in.Statistic != "Maximum" {
		t.Errorf("PutMetricAlarmInput = %+v", in)
	}
	// With missing data breaching, every period must hold a heartbeat by
	// the time the alarm evaluates it: the agents' default flush interval
	// leaves at least 10 s of each period for the call and ingestion.
	if margin := time.Duration(*in.Period)*time.Second - probe.DefaultSettings().FlushInterval; margin < 10*time.Second {
		t.Errorf("heartbeat alarm period %d s and agent flush interval %s: %s left for delivery, want >= 10s",
			*in.Period, probe.DefaultSettings().FlushInterval, margin)
	}
}

func TestRealTemplateAlarmPeriodFollowsParameter(t *testing.T) {
	for _, p := range []string{"10", "20", "30", "60"} {
		app := loadReal(t, with(scenarios()[0].params, "HeartbeatPeriodSeconds", p))
		if got := app.Alarms["PrimaryHeartbeatAlarm"].Period; itoa(int(got)) != p {
			t.Errorf("HeartbeatPeriodSeconds %s: Period %d", p, got)
		}
		if errs := app.checkAlarms(); len(errs) > 0 {
			t.Errorf("HeartbeatPeriodSeconds %s: %v", p, errs)
		}
	}
	_, err := Load(realTemplate, with(scenarios()[0].params, "HeartbeatPeriodSeconds", "15"))
	if err == nil || !strings.Contains(err.Error(), "parameter HeartbeatPeriodSeconds") {
		t.Fatalf("period 15: err = %v, want HeartbeatPeriodSeconds named", err)
	}
}

func TestRealTemplateNamesAndARNsFollowPseudoParameters(t *testing.T) {
	params := with(scenarios()[3].params, PseudoRegion, "eu-west-1", PseudoAccountID, "111122223333", PseudoStackName, "sy-orders")
	app := loadReal(t, params)
	fence := app.Functions["FenceFunction"]
	if fence.FunctionName != "sy-orders-FenceFunction" ||
		fence.Arn != "arn:aws:lambda:eu-west-1:111122223333:function:sy-orders-FenceFunction" {
		t.Errorf("fence function %s %s", fence.FunctionName, fence.Arn)
	}
	if got := app.StateMachine.Substitutions["FenceFunctionArn"]; got != fence.Arn+":live" {
		t.Errorf("FenceFunctionArn substitution %s", got)
	}
	table := app.Tables["ClusterTable"]
	if table.Arn != "arn:aws:dynamodb:eu-west-1:111122223333:table/switchyard-orders" || !table.PointInTimeRecovery ||
		*table.CreateTableInput().TableName != "switchyard-orders" || table.CreateTableInput().BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("table %+v", table)
	}
	if got := statementFor(t, app.Functions["LeaseFunction"].Policies, "dynamodb:PutItem").Resources; len(got) != 1 || got[0] != table.Arn {
		t.Errorf("lease policy resources %v", got)
	}
	wantSM := "arn:aws:states:eu-west-1:111122223333:stateMachine:switchyard-orders-failover"
	if app.StateMachine.Arn != wantSM || app.Outputs["StateMachineArn"] != wantSM {
		t.Errorf("state machine %s, output %s", app.StateMachine.Arn, app.Outputs["StateMachineArn"])
	}
	if got := statementFor(t, fence.Policies, "ec2:StopInstances").Resources; len(got) != 2 || got[1] != "arn:aws:ec2:eu-west-1:111122223333:instance/i-0bbb2222" {
		t.Errorf("fence StopInstances resource %s", got)
	}
	reroute := app.Functions["RerouteFunction"].Policies
	if got := statementFor(t, reroute, "route53:ChangeResourceRecordSets").Resources; len(got) != 1 || got[0] != "arn:aws:route53:::hostedzone/Z0123456789" {
		t.Errorf("reroute route53 resources with DNS %v", got)
	}
	noDNS := loadReal(t, scenarios()[0].params).Functions["RerouteFunction"].Policies
	if got := statementFor(t, noDNS, "route53:ChangeResourceRecordSets").Resources; len(got) != 1 || got[0] != "arn:aws:route53:::hostedzone/none" {
		t.Errorf("reroute route53 resources without DNS %v", got)
	}
	// Assess and Fence probe PostgreSQL, so they run in the VPC; Reroute
	// only calls AWS APIs.
	if !app.Functions["AssessFunction"].InVPC || !app.Functions["FenceFunction"].InVPC || app.Functions["RerouteFunction"].InVPC {
		t.Errorf("InVPC: assess %v, fence %v, reroute %v", app.Functions["AssessFunction"].InVPC,
			app.Functions["FenceFunction"].InVPC, app.Functions["RerouteFunction"].InVPC)
	}
}

func TestRealTemplatePoliciesAllowTheCallsOfEachStep(t *testing.T) {
	app := loadReal(t, scenarios()[3].params)
	cases := []struct {
		fn, signing, op string
		want            bool
	}{
		{"RerouteFunction", "ec2", "ReplaceRoute", true},
		{"RerouteFunction", "route53", "ChangeResourceRecordSets", true},
		{"RerouteFunction", "ec2", "StopInstances", false},
		{"FenceFunction", "ec2", "StopInstances", true},
		{"FenceFunction", "ec2", "ModifyNetworkInterfaceAttribute", true},
		{"FenceFunction", "ec2", "ReplaceRoute", false},
		{"AssessFunction", "monitoring", "GetMetricData", true},
		{"AssessFunction", "secretsmanager", "GetSecretValue", true},
		{"AssessFunction", "ec2", "StopInstances", false},
		{"LeaseFunction", "dynamodb", "PutItem", true},
		{"LeaseFunction", "dynamodb", "DeleteItem", false},
		{"IntakeFunction", "dynamodb", "GetItem", false},
		{"FailoverStateMachine", "lambda", "InvokeFunction", true},
		{"NoSuchFunction", "ec2", "DescribeInstances", false},
	}
	for _, c := range cases {
		if got := app.Allows(c.fn, IAMAction(c.signing, c.op)); got != c.want {
			t.Errorf("Allows(%s, %s) = %v, want %v", c.fn, IAMAction(c.signing, c.op), got, c.want)
		}
	}
}

// statementFor returns the one statement that names action.
func statementFor(t *testing.T, stmts []Statement, action string) Statement {
	t.Helper()
	var found []Statement
	for _, st := range stmts {
		for _, a := range st.Actions {
			if a == action {
				found = append(found, st)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d statements name %s, want 1: %+v", len(found), action, stmts)
	}
	return found[0]
}

// WarmCriticalPath gives each function on the critical path (up to the
// reroute that lets clients write again) that much provisioned concurrency
// on its alias, and no other function any; 0, the default, gives none.
func TestRealTemplateWarmCriticalPath(t *testing.T) {
	critical := map[string]bool{"IntakeFunction": true, "LeaseFunction": true, "AssessFunction": true,
		"FenceFunction": true, "PromoteFunction": true, "RerouteFunction": true}
	for _, warm := range []int{0, 1, 3} {
		app := loadReal(t, with(scenarios()[0].params, "WarmCriticalPath", itoa(warm)))
		for id, fn := range app.Functions {
			want := 0
			if critical[id] {
				want = warm
			}
			if fn.ProvisionedConcurrency != want {
				t.Errorf("WarmCriticalPath %d: %s has provisioned concurrency %d, want %d", warm, id, fn.ProvisionedConcurrency, want)
			}
		}
	}
	if _, err := Load(realTemplate, with(scenarios()[0].params, "WarmCriticalPath", "11")); err == nil ||
		!strings.Contains(err.Error(), "WarmCriticalPath") {
		t.Errorf("WarmCriticalPath 11: err = %v, want the parameter named", err)
	}
}

// The drift check runs on the DriftCheckMinutes schedule, and its alarm's
// period is that interval; 0 creates neither.
func TestRealTemplateDriftCheck(t *testing.T) {
	for minutes, want := range map[string]struct {
		schedule string
		period   int32
	}{"1": {"rate(1 minute)", 60}, "5": {"rate(5 minutes)", 300}, "60": {"rate(60 minutes)", 3600}} {
		app := loadReal(t, with(scenarios()[0].params, "DriftCheckMinutes", minutes, "NotificationEmail", "dba@example.com"))
		fn := app.Functions["DriftFunction"]
		if fn == nil || len(fn.EventRules) != 1 || fn.EventRules[0].Schedule != want.schedule {
			t.Fatalf("DriftCheckMinutes %s: drift function %+v", minutes, fn)
		}
		if a := app.Alarms["RoutingDriftAlarm"]; a == nil || a.Period != want.period || a.MetricName != failover.MetricRoutingDrift {
			t.Errorf("DriftCheckMinutes %s: drift alarm %+v", minutes, a)
		}
	}
	off := loadReal(t, with(scenarios()[0].params, "DriftCheckMinutes", "0", "NotificationEmail", "dba@example.com"))
	if off.Functions["DriftFunction"] != nil || off.Alarms["RoutingDriftAlarm"] != nil {
		t.Error("DriftCheckMinutes 0 still creates the drift check or its alarm")
	}
}
