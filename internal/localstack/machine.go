package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/notify"
	"github.com/switchyard/switchyard/internal/samtemplate"
)

// TemplateParams are the template.yaml parameters of the local cluster.
func (s *Stack) TemplateParams() map[string]string {
	n1, n2 := s.Nodes[s.Pair.Primary.Name], s.Nodes[s.Pair.Standby.Name]
	p := map[string]string{
		"ClusterName":     s.Config.Name,
		"Node1Name":       n1.Name,
		"Node1InstanceId": n1.Instance.ID, "Node1EniId": n1.ENI, "Node1PrivateIp": n1.Instance.PrivateIP,
		"Node1AvailabilityZone": s.Config.Nodes[0].AvailabilityZone,
		"Node2Name":             n2.Name,
		"Node2InstanceId":       n2.Instance.ID, "Node2EniId": n2.ENI, "Node2PrivateIp": n2.Instance.PrivateIP,
		"Node2AvailabilityZone": s.Config.Nodes[1].AvailabilityZone,
		"DatabaseName":          DatabaseName,
		"DatabaseSecretArn":     SecretName,
		"ClientEndpoint":        s.Config.Routing.ClientEndpoint,
		"LambdaSubnetIds":       s.Topology.Subnets[0].ID,
		"LambdaSecurityGroupIds": func() string {
			if len(s.Topology.SecurityGroups) > 0 {
				return s.Topology.SecurityGroups[0].ID
			}
			return "sg-00000000000000000"
		}(),
		// The local agents flush every 2 s (nodes.go), so the heartbeat
		// alarm can use 10-s periods instead of the default 60 s that the
		// agents' default 50-s flush needs: detection shortened by
		// configuration, as on AWS.
		"HeartbeatPeriodSeconds": strconv.Itoa(int(localHeartbeatPeriod / time.Second)),
	}
	// The resources IAM authorizes against: the secret's ARN, the Elastic
	// IP and hosted zone of the local topology.
	if arn, ok := s.Secrets.ARN(SecretName); ok {
		p["DatabaseSecretArn"] = arn
	}
	if o := s.Config.Routing.OverlayIP; o != nil {
		p["OverlayCidr"], p["OverlayVpcIds"] = o.CIDR, strings.Join(o.VPCIDs, ",")
	}
	if eip := s.Config.Routing.ElasticIP; eip != nil {
		p["ElasticIpAllocationId"] = eip.AllocationID
	}
	if dns := s.Config.Routing.DNS; len(dns) > 0 {
		p["HostedZoneId"], p["RecordName"] = dns[0].HostedZoneID, dns[0].Name
	}
	for k, v := range s.Options.TemplateParams {
		p[k] = v
	}
	return p
}

// deployTemplate does locally what `sam deploy` does: create the table,
// the heartbeat alarm, the state machine and its EventBridge rule, all
// from template.yaml.
func (s *Stack) deployTemplate(ctx context.Context) error {
	app, err := samtemplate.Load(filepath.Join(s.Options.RepoDir, "template.yaml"), s.TemplateParams())
	if err != nil {
		return err
	}
	spec := ddbTable(s.Config.Table)
	for _, t := range app.Tables {
		if t.TableName == s.Config.Table {
			spec.StreamViewType = t.StreamViewType
		}
	}
	if err := s.DynamoDB.CreateTable(spec); err != nil {
		return fmt.Errorf("creating table %s: %w", s.Config.Table, err)
	}
	if err := s.createTopics(ctx, app); err != nil {
		return err
	}
	if err := s.registerHandlers(app); err != nil {
		return err
	}
	setup := s.client("cloudformation")
	for _, a := range app.Alarms {
		in := &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(a.AlarmName), Namespace: aws.String(a.Namespace), MetricName: aws.String(a.MetricName),
			Statistic: cwtypes.Statistic(a.Statistic), Period: aws.Int32(a.Period), EvaluationPeriods: aws.Int32(a.EvaluationPeriods),
			Threshold:          aws.Float64(a.Threshold),
			ComparisonOperator: cwtypes.ComparisonOperator(a.ComparisonOperator), TreatMissingData: aws.String(a.TreatMissingData),
		}
		if a.DatapointsToAlarm > 0 { // absent: CloudWatch takes EvaluationPeriods
			in.DatapointsToAlarm = aws.Int32(a.DatapointsToAlarm)
		}
		for _, d := range a.Dimensions {
			in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)})
		}
		if _, err := setup.CloudWatch.PutMetricAlarm(ctx, in); err != nil {
			return fmt.Errorf("alarm %s: %w", a.AlarmName, err)
		}
		if a.AlarmName == s.Config.Detection.AlarmName {
			s.AlarmName = a.AlarmName
		}
	}
	sm := app.StateMachine
	out, err := setup.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(sm.Name), Definition: aws.String(string(sm.Definition)),
		RoleArn: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s-statemachine", s.Topology.AccountID, sm.Name)),
	})
	if err != nil {
		return fmt.Errorf("state machine %s: %w", sm.Name, err)
	}
	s.StateMachineARN = aws.ToString(out.StateMachineArn)
	for _, r := range sm.EventRules {
		arn := s.StateMachineARN
		if err := s.Bus.PutRule(r.Name, r.Pattern, func(ctx context.Context, event []byte) error {
			_, err := s.SFN.Start(ctx, arn, "", event)
			return err
		}); err != nil {
			return fmt.Errorf("rule %s: %w", r.Name, err)
		}
	}
	return nil
}

// registerHandlers maps each function's ARN to the real handler, invoked
// through aws-lambda-go's JSON contract exactly as the Lambda runtime does.
func (s *Stack) registerHandlers(app *samtemplate.App) error {
	s.tasks, s.taskARN = map[string]asl.TaskFunc{}, map[string]string{}
	s.functionEnv = map[string]map[string]string{}
	for id, fn := range app.Functions {
		s.functionEnv[id] = fn.Environment
	}
	var missing []string
	for id, fn := range app.Functions {
		h := s.handlerFor(id)
		if h == nil {
			return fmt.Errorf("template function %s has no handler in the local stack", id)
		}
		if err := s.putFunctionRules(fn, h); err != nil {
			return err
		}
		if err := s.startStreamMappings(app, fn, h); err != nil {
			return err
		}
		arn, ok := app.StateMachine.Substitutions[id+"Arn"]
		if !ok {
			if len(fn.EventRules) == 0 && len(fn.Streams) == 0 {
				missing = append(missing, id)
			}
			continue
		}
		// Each invocation gets its own handler, as each concurrent Lambda
		// invocation gets its own execution environment: aws-lambda-go's
		// handler reuses one output buffer and is not safe for concurrent
		// Invoke calls.
		s.taskARN[id] = arn
		s.tasks[arn] = func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			out, err := lambda.NewHandler(h).Invoke(ctx, input)
			return append(json.RawMessage(nil), out...), err
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("functions without a DefinitionSubstitution: %s", strings.Join(missing, ", "))
	}
	return nil
}

// putFunctionRules puts the function's EventBridge rules on the bus, each
// invoking the real handler with the event as Lambda's asynchronous
// invocation does.
func (s *Stack) putFunctionRules(fn *samtemplate.Function, h any) error {
	for _, r := range fn.EventRules {
		if r.Schedule != "" {
			continue // schedules do not run here: tests invoke the function (Stack.Invoke)
		}
		id := fn.LogicalID
		if err := s.Bus.PutRule(r.Name, r.Pattern, func(ctx context.Context, event []byte) error {
			_, err := lambda.NewHandler(h).Invoke(ctx, event)
			if err != nil {
				s.log.Error("function invoked by an event rule failed", "function", id, "err", err)
			}
			return err
		}); err != nil {
			return fmt.Errorf("rule %s of %s: %w", r.Name, fn.LogicalID, err)
		}
	}
	return nil
}

// Invoke runs the template function logicalID once with input, as Lambda
// would (for functions the local stack does not trigger itself, such as
// the scheduled drift check).
func (s *Stack) Invoke(ctx context.Context, logicalID string, input []byte) ([]byte, error) {
	h := s.handlerFor(logicalID)
	if h == nil {
		return nil, fmt.Errorf("template function %s has no handler in the local stack", logicalID)
	}
	return lambda.NewHandler(h).Invoke(ctx, input)
}

func (s *Stack) handlerFor(logicalID string) any {
	d := s.deps(logicalID)
	switch logicalID {
	case "IntakeFunction":
		return (&failover.Intake{Config: s.Config}).Handle
	case "LeaseFunction":
		return (&failover.LeaseStep{Deps: d}).Handle
	case "AssessFunction":
		return (&failover.AssessStep{Readers: d.Readers()}).Handle
	case "FenceFunction":
		return (&failover.FenceStep{Deps: d}).Handle
	case "PromoteFunction":
		return (&failover.PromoteStep{Deps: d}).Handle
	case "RerouteFunction":
		return (&failover.RerouteStep{Deps: d}).Handle
	case "VerifyFunction":
		return (&failover.VerifyStep{Deps: d}).Handle
	case "RecordFunction":
		return (&failover.RecordStep{Deps: d}).Handle
	case "ReportFunction":
		return (&failover.ReportStep{Deps: d}).Handle
	case "RearmFunction":
		return (&failover.RearmStep{Deps: d}).Handle
	case "CleanupFunction":
		return (&failover.Cleanup{Deps: d}).Handle
	case "DriftFunction":
		return (&failover.DriftCheck{Readers: d.Readers(), Metrics: d.CloudWatch}).Handle
	case "NotifyFunction":
		return (&notify.Handler{SNS: s.client(logicalID).SNS, TopicARN: s.functionEnv[logicalID][notify.EnvTopicARN],
			Log: s.log.With("function", logicalID)}).Handle
	}
	return nil
}

// deps gives a function its own clients: the access key id is the
// function's logical id, so the call log shows who called what.
func (s *Stack) deps(logicalID string) *failover.Deps {
	c := s.client(logicalID)
	d := failover.NewDeps(s.Config, c)
	d.Log = s.log.With("function", logicalID)
	d.PollInterval = 200 * time.Millisecond
	return d
}

func (s *Stack) resolveTask(resource string) (asl.TaskFunc, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.tasks[resource]
	return f, ok
}

func ddbTable(name string) ddbsim.TableSpec {
	return ddbsim.TableSpec{Name: name, HashKey: "cluster", HashKeyType: "S"}
}
