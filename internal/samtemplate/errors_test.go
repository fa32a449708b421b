package samtemplate

import (
	"strings"
	"testing"
)

func minimalParams() map[string]string { return map[string]string{"ClusterName": "c1"} }

func TestMinimalTemplateIsValid(t *testing.T) {
	for _, p := range []map[string]string{minimalParams(), with(minimalParams(), "ElasticIpAllocationId", "eipalloc-1")} {
		if errs := Validate("testdata/minimal.yaml", p); len(errs) > 0 {
			t.Fatalf("Validate(%v):\n%s", p, errorsText(errs))
		}
	}
}

func TestLoadErrorsNameTheProblem(t *testing.T) {
	cases := []struct {
		name   string
		path   string
		params map[string]string
		want   []string
	}{
		{"missing parameter", "testdata/minimal.yaml", map[string]string{},
			[]string{"parameter ClusterName has no value and no Default"}},
		{"undeclared parameter", "testdata/minimal.yaml", with(minimalParams(), "ClusterNmae", "x"),
			[]string{"parameter ClusterNmae is not declared"}},
		{"value not allowed", "testdata/minimal.yaml", with(minimalParams(), "PeriodSeconds", "15"),
			[]string{"parameter PeriodSeconds", `"15" is not one of the AllowedValues [10, 45, 60, 120]`}},
		{"pattern not matched", "testdata/minimal.yaml", map[string]string{"ClusterName": "C1"},
			[]string{"parameter ClusterName", "does not match AllowedPattern"}},
		{"number", "testdata/minimal.yaml", with(minimalParams(), "PeriodSeconds", "ten"),
			[]string{"parameter PeriodSeconds", `"ten" is not a number`}},
		{"comma in a flow-mapping Description", variant(t, `ElasticIpAllocationId: {Type: String, Default: ""}`,
			`ElasticIpAllocationId: {Type: String, Default: "", Description: Allocation to move, e.g. eipalloc-1.}`), minimalParams(),
			[]string{"parameter ElasticIpAllocationId", `property "e.g. eipalloc-1." is not a parameter property`, "quote the value"}},
		{"unknown pseudo parameter", "testdata/minimal.yaml", with(minimalParams(), "AWS::StackId", "x"),
			[]string{"pseudo parameter AWS::StackId cannot be set"}},
		{"unknown condition", variant(t, "!If [HasElasticIp, !Sub '\"elasticIp", "!If [HasEip, !Sub '\"elasticIp"), minimalParams(),
			[]string{`condition "HasEip" is not defined in Conditions`, "Resources.StepFunction.Properties.Environment.Variables.SWITCHYARD_CONFIG", "EipJson"}},
		{"unresolved substitution", variant(t, `asl:"Resource": "${StepFunctionArn}"`, `"Resource": "${StepFunctionArm}"`), minimalParams(),
			[]string{"${StepFunctionArm} in the definition has no DefinitionSubstitution", "minimal.asl.json"}},
		{"unresolved Sub variable", variant(t, "TableName: !Sub ${ClusterName}-table", "TableName: !Sub ${Cluster}-table"), minimalParams(),
			[]string{"Resources.Table.Properties.TableName.Fn::Sub", "${Cluster} is not a variable"}},
		{"list parameter in Sub", variant(t, "TableName: !Sub ${ClusterName}-table", "TableName: !Sub ${SubnetIds}-table"), minimalParams(),
			[]string{"${SubnetIds}", "list"}},
		{"Ref to nothing", variant(t, "alarmName: [!Ref HeartbeatAlarm]", "alarmName: [!Ref HeartbeatAlarms]"), minimalParams(),
			[]string{"Ref HeartbeatAlarms: no parameter or resource"}},
		{"unsupported attribute", variant(t, "!GetAtt StepFunction.Arn", "!GetAtt StepFunction.Version"), minimalParams(),
			[]string{"Fn::GetAtt StepFunction.Version", "not supported"}},
		{"unknown tag", variant(t, "!Select [1, !Ref SubnetIds]", "!Pick [1, !Ref SubnetIds]"), minimalParams(),
			[]string{"unknown tag !Pick"}},
		{"missing definition file", variant(t, "DefinitionUri: minimal.asl.json", "DefinitionUri: nowhere.asl.json"), minimalParams(),
			[]string{"DefinitionUri", "nowhere.asl.json"}},
		{"definition not JSON", variant(t, `asl:"End": true`, `"End": true,`), minimalParams(),
			[]string{"not valid JSON"}},
		{"unsupported policy template", variant(t, "LambdaInvokePolicy: {FunctionName: !Ref StepFunction}", "DynamoDBCrudPolicy: {TableName: !Ref Table}"), minimalParams(),
			[]string{"SAM policy template DynamoDBCrudPolicy is not supported"}},
		{"conditioned-out resource referenced", variant(t, "  HeartbeatAlarm:\n    Type: AWS::CloudWatch::Alarm\n", "  HeartbeatAlarm:\n    Type: AWS::CloudWatch::Alarm\n    Condition: HasElasticIp\n"), minimalParams(),
			[]string{"resource HeartbeatAlarm is not created (its condition HasElasticIp is false)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.path, c.params)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCheckFindsEachProblem(t *testing.T) {
	cases := []struct {
		name   string
		path   string
		params map[string]string
		want   string
	}{
		{"task times out before its function", variant(t, "    Timeout: 20\n", "    Timeout: 21\n"), minimalParams(),
			`state "Step": TimeoutSeconds 25 is less than StepFunction's Timeout 21 + 5 s margin`},
		{"unused substitution", variant(t, "StepFunctionArn: !GetAtt StepFunction.Arn", "StepFunctionArn: !GetAtt StepFunction.Arn\n        Spare: x"), minimalParams(),
			"DefinitionSubstitution Spare is not used by the definition minimal.asl.json"},
		{"task resource is not a template function", variant(t, "StepFunctionArn: !GetAtt StepFunction.Arn", "StepFunctionArn: arn:aws:lambda:us-east-1:123456789012:function:other"), minimalParams(),
			`Resource "arn:aws:lambda:us-east-1:123456789012:function:other" is not the Arn of any function`},
		{"rule also fires on recovery", variant(t, "                state:\n                  value: [ALARM]\n", ""), minimalParams(),
			"matches alarm c1-heartbeat returning to OK"},
		{"rule names another alarm", variant(t, "alarmName: [!Ref HeartbeatAlarm]", "alarmName: [other-alarm]"), minimalParams(),
			"no EventBridge rule of state machine Machine matches alarm c1-heartbeat going to ALARM"},
		{"config names another alarm", variant(t, `"alarmName":"${ClusterName}-heartbeat"`, `"alarmName":"${ClusterName}-hb"`), minimalParams(),
			`detection.alarmName "c1-hb" is not an alarm of the template (c1-heartbeat)`},
		{"config names another table", variant(t, `"table":"${Table}"`, `"table":"${ClusterName}"`), minimalParams(),
			`table "c1" is not a table of the template (c1-table)`},
		{"config is not JSON", variant(t, `"database":{"secretId":"db"}}`, `"database":{"secretId":"db"}`), minimalParams(),
			"SWITCHYARD_CONFIG: parsing cluster config"},
		{"config differs between functions", variant(t, "          EXTRA: !Select", "          SWITCHYARD_CONFIG: '{}'\n          EXTRA: !Select",
			"Resources:\n", "Resources:\n  Other:\n    Type: AWS::Serverless::Function\n    Properties: {}\n"), minimalParams(),
			"functions carry different SWITCHYARD_CONFIG values: [Other] vs [StepFunction]"},
		{"alarm period CloudWatch refuses", "testdata/minimal.yaml", with(minimalParams(), "PeriodSeconds", "45"),
			"alarm HeartbeatAlarm: Period 45 is not 10, 20, 30 or a multiple of 60"},
		{"evaluation range too long", variant(t, "EvaluationPeriods: 3", "EvaluationPeriods: 1441"), minimalParams(),
			"Period × EvaluationPeriods = 86460 s exceeds CloudWatch's limit of 86400 s"},
		{"datapoints above evaluation periods", variant(t, "EvaluationPeriods: 3", "EvaluationPeriods: 3\n      DatapointsToAlarm: 4"), minimalParams(),
			"DatapointsToAlarm 4 is not between 1 and EvaluationPeriods 3"},
		{"environment too large", variant(t, "          EXTRA: !Select [1, !Ref SubnetIds]", "          EXTRA: "+strings.Repeat("x", 4000)), minimalParams(),
			"environment variables take"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := Validate(c.path, c.params)
			if !strings.Contains(errorsText(errs), c.want) {
				t.Fatalf("Validate:\n%s\nwant an error containing %q", errorsText(errs), c.want)
			}
		})
	}
}
