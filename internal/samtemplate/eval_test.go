package samtemplate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMinimalTemplateEvaluates(t *testing.T) {
	app, err := Load("testdata/minimal.yaml", minimalParams())
	if err != nil {
		t.Fatal(err)
	}
	fn := app.Functions["StepFunction"]
	if fn.Environment["EXTRA"] != "subnet-2" || fn.Timeout != 20 || fn.MemorySize != DefaultFunctionMemorySize ||
		!reflect.DeepEqual(fn.Architectures, []string{"x86_64"}) || !fn.InVPC || fn.Description != "The only step." {
		t.Errorf("function = %+v", fn)
	}
	if len(fn.Policies) != 3 || fn.Policies[2].Resources != nil {
		t.Errorf("without an Elastic IP the AssociateAddress statement has no Resource (AWS::NoValue): %+v", fn.Policies)
	}
	if app.Conditions["HasElasticIp"] || app.Parameters["SubnetIds"] != "subnet-1,subnet-2" || app.Parameters["PeriodSeconds"] != "60" {
		t.Errorf("conditions %v parameters %v", app.Conditions, app.Parameters)
	}
	if app.Outputs["Subnets"] != "subnet-1,subnet-2" || app.Outputs["MachineArn"] != "arn:aws:states:us-east-1:123456789012:stateMachine:c1-machine" {
		t.Errorf("outputs %v", app.Outputs)
	}
	rule := app.StateMachine.EventRules[0]
	var pattern map[string]any
	if err := json.Unmarshal(rule.Pattern, &pattern); err != nil {
		t.Fatal(err)
	}
	if rule.Name != "switchyard-MachineHeartbeat" || rule.EventBusName != "default" ||
		pattern["detail"].(map[string]any)["alarmName"].([]any)[0] != "c1-heartbeat" {
		t.Errorf("rule %s on %s, pattern %s", rule.Name, rule.EventBusName, rule.Pattern)
	}
	if !strings.Contains(string(app.StateMachine.Definition), `"Resource": "arn:aws:lambda:us-east-1:123456789012:function:switchyard-StepFunction"`) {
		t.Errorf("definition %s", app.StateMachine.Definition)
	}

	withEIP, err := Load("testdata/minimal.yaml", with(minimalParams(), "ElasticIpAllocationId", "eipalloc-9", PseudoPartition, "aws-cn", PseudoRegion, "cn-north-1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := withEIP.Functions["StepFunction"].Policies[2].Resources; !reflect.DeepEqual(got, []string{"arn:aws-cn:ec2:cn-north-1:123456789012:elastic-ip/eipalloc-9"}) {
		t.Errorf("with an Elastic IP: %v", got)
	}
	if got := withEIP.StateMachine.Policies[0].Resources[0]; got != "arn:aws-cn:lambda:cn-north-1:123456789012:function:switchyard-StepFunction*" {
		t.Errorf("LambdaInvokePolicy resource %s", got)
	}
}

func TestAllowsMatchesWildcardsCaseAndDeny(t *testing.T) {
	app, err := Load("testdata/minimal.yaml", minimalParams())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		"ec2:DescribeInstances":            true,  // ec2:Describe*
		"EC2:describeinstancestatus":       true,  // IAM actions are case-insensitive
		"ec2:DescribeRegions":              false, // explicit Deny wins
		"ec2:ReplaceRoute":                 true,
		"ec2:ReplaceRouteTableAssociation": false,
		"ec2:AssociateAddress":             true,
		"ec2:StopInstances":                false,
		"lambda:InvokeFunction":            false,
	}
	for action, want := range cases {
		if got := app.Allows("StepFunction", action); got != want {
			t.Errorf("Allows(StepFunction, %s) = %v, want %v", action, got, want)
		}
	}
	if !app.Allows("Machine", "lambda:InvokeFunction") || app.Allows("Machine", "ec2:DescribeInstances") {
		t.Error("state machine policies")
	}
}

func TestActionMatches(t *testing.T) {
	cases := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "ec2:StopInstances", true},
		{"ec2:*", "ec2:StopInstances", true},
		{"ec2:*", "route53:GetChange", false},
		{"ec2:Describe*Status", "ec2:DescribeInstanceStatus", true},
		{"ec2:Describe*Status", "ec2:DescribeInstances", false},
		{"s3:Get?bject", "s3:GetObject", true},
		{"s3:Get?bject", "s3:GetObbject", false},
		{"ec2:*Route*", "ec2:ReplaceRoute", true},
		{"ec2:ReplaceRoute", "ec2:ReplaceRoutes", false},
	}
	for _, c := range cases {
		if got := actionMatches(c.pattern, c.action); got != c.want {
			t.Errorf("actionMatches(%q, %q) = %v", c.pattern, c.action, got)
		}
	}
}

func TestIAMAction(t *testing.T) {
	cases := [][3]string{
		{"monitoring", "GetMetricData", "cloudwatch:GetMetricData"},
		{"ec2", "ReplaceRoute", "ec2:ReplaceRoute"},
		{"states", "StartExecution", "states:StartExecution"},
		{"dynamodb", "UpdateItem", "dynamodb:UpdateItem"},
		{"secretsmanager", "GetSecretValue", "secretsmanager:GetSecretValue"},
		{"route53", "ChangeResourceRecordSets", "route53:ChangeResourceRecordSets"},
	}
	for _, c := range cases {
		if got := IAMAction(c[0], c[1]); got != c[2] {
			t.Errorf("IAMAction(%s, %s) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}

const intrinsicsTemplate = `
Parameters:
  Env: {Type: String, Default: prod, AllowedValues: [prod, test]}
  Zones: {Type: CommaDelimitedList, Default: "a,b,c"}
  Size: {Type: Number, Default: 512}
Mappings:
  Sizes: {prod: {Memory: 1024}, test: {Memory: 128}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsTest: !Not [{Condition: IsProd}]
  ProdOrTest: !Or [!Condition IsProd, !Condition IsTest]
  Both: {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsTest"}]}
Globals:
  Function:
    Timeout: 9
    Layers: [global-layer]
    Environment: {Variables: {FROM_GLOBALS: g, OVERRIDDEN: global}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Join ["-", [!Ref "AWS::StackName", !Select [2, !Ref Zones], fn]]
      MemorySize: !FindInMap [Sizes, !Ref Env, Memory]
      Layers: [own-layer]
      Environment:
        Variables:
          OVERRIDDEN: own
          LITERAL: !Sub "${!NotAVariable}-${Env}"
          SPLIT: !Select [1, !Split ["/", "x/y/z"]]
          B64: {"Fn::Base64": "hi"}
          ARN: {"Fn::GetAtt": [Fn, Arn]}
          TABLE: !Ref Tbl
          REGION: !Sub "${AWS::Region}/${AWS::URLSuffix}"
          PROD_OR_TEST: !If [ProdOrTest, yes, no]
          BOTH: !If [Both, yes, no]
          SIZE: !Ref Size
          GONE: !If [IsTest, here, !Ref AWS::NoValue]
  Tbl:
    Type: AWS::DynamoDB::Table
    Condition: IsProd
    Properties:
      KeySchema: [{AttributeName: k, KeyType: HASH}]
  TestOnly:
    Type: AWS::CloudWatch::Alarm
    Condition: IsTest
    Properties: {}
`

func TestIntrinsicsAndGlobals(t *testing.T) {
	app, err := parse([]byte(intrinsicsTemplate), "/x/template.yaml", map[string]string{PseudoRegion: "ap-south-1", PseudoStackName: "st"})
	if err != nil {
		t.Fatal(err)
	}
	fn := app.Functions["Fn"]
	want := map[string]string{
		"FROM_GLOBALS": "g", "OVERRIDDEN": "own", "LITERAL": "${NotAVariable}-prod", "SPLIT": "y", "B64": "aGk=",
		"ARN": "arn:aws:lambda:ap-south-1:123456789012:function:st-c-fn", "TABLE": "st-Tbl",
		"REGION": "ap-south-1/amazonaws.com", "PROD_OR_TEST": "yes", "BOTH": "no", "SIZE": "512",
	}
	if !reflect.DeepEqual(fn.Environment, want) {
		t.Errorf("environment\n got %v\nwant %v", fn.Environment, want)
	}
	if fn.FunctionName != "st-c-fn" || fn.MemorySize != 1024 || fn.Timeout != 9 {
		t.Errorf("name %s memory %d timeout %d", fn.FunctionName, fn.MemorySize, fn.Timeout)
	}
	if _, ok := app.Alarms["TestOnly"]; ok || app.Tables["Tbl"] == nil {
		t.Errorf("conditioned resources: alarms %v tables %v", app.Alarms, app.Tables)
	}
	e := loadEvaluator(t, []byte(intrinsicsTemplate))
	layers, err := e.eval(e.resources["Fn"].props["Layers"], "Layers")
	if err != nil || !reflect.DeepEqual(layers, []any{"global-layer", "own-layer"}) {
		t.Errorf("Globals lists are prepended: %v %v", layers, err)
	}

	_, err = parse([]byte(intrinsicsTemplate), "/x/template.yaml", map[string]string{"Env": "test"})
	if err == nil || !strings.Contains(err.Error(), "resource Tbl is not created (its condition IsProd is false)") {
		t.Fatalf("Ref to a resource whose condition is false: %v", err)
	}
}

func TestCyclesAreErrors(t *testing.T) {
	cases := map[string]string{
		"Conditions:\n  A: !Condition B\n  B: !Condition A\n":                                                 `condition "A" refers to itself`,
		"Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !GetAtt T.Arn\n": "the name of resource T depends on itself",
	}
	for tmpl, want := range cases {
		_, err := parse([]byte(tmpl), "/x/t.yaml", nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", tmpl, err, want)
		}
	}
}

// loadEvaluator builds the evaluator of a template with default parameters.
func loadEvaluator(t *testing.T, data []byte) *evaluator {
	t.Helper()
	tmpl, err := parseYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	pseudo, _ := resolvePseudo(nil)
	params, err := resolveParams(tmpl, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &evaluator{pseudo: pseudo, params: params, condValue: map[string]bool{}, condBusy: map[string]bool{}, refBusy: map[string]bool{}}
	e.conditions, _ = mapAt(tmpl, "Conditions")
	if e.resources, err = loadResources(tmpl); err != nil {
		t.Fatal(err)
	}
	return e
}
