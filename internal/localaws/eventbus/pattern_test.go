package eventbus

import (
	"errors"
	"strings"
	"testing"
)

// Events and patterns below are the examples of the EventBridge user guide
// ("Amazon EventBridge event patterns", "Content filtering", "Arrays",
// "Matching null values and empty strings").

const ec2Event = `{
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "111122223333",
  "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1",
  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
}`

const autoscalingEvent = `{
  "version": "0",
  "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  "source": "aws.autoscaling",
  "account": "123456789012",
  "time": "2015-11-11T21:31:47Z",
  "region": "us-east-1",
  "resources": [],
  "detail": {"eventVersion": "", "responseElements": null}
}`

const macieEvent = `{
  "version": "0",
  "detail-type": "Macie Alert",
  "source": "aws.macie",
  "resources": [
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id",
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id"
  ],
  "detail": {
    "notification-type": "ALERT_CREATED",
    "tags": ["Custom_Alert", "Insider"],
    "risk-score": 80,
    "trigger": {"alert-type": "basic", "risk": 8}
  }
}`

const asgEvent = `{
  "source": "aws.autoscaling",
  "resources": [
    "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
    "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"
  ],
  "detail": {}
}`

const countsEvent = `{
  "time": "2017-10-02T18:43:48Z",
  "detail": {"state": "running", "c-count": 5, "d-count": 3, "x-limit": 301.8}
}`

const noStateEvent = `{
  "detail-type": ["EC2 Instance State-change Notification"],
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
  "detail": {"c-count": {"c1": 100}}
}`

// alarmEvent is the single-metric example of "Alarm events and EventBridge"
// in the CloudWatch user guide, shortened.
const alarmEvent = `{
  "version": "0",
  "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
  "detail-type": "CloudWatch Alarm State Change",
  "source": "aws.cloudwatch",
  "account": "123456789012",
  "time": "2019-10-02T17:04:40Z",
  "region": "us-east-1",
  "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"],
  "detail": {
    "alarmName": "ServerCpuTooHigh",
    "previousState": {"value": "OK", "timestamp": "2019-10-01T13:56:40.987+0000"},
    "state": {"value": "ALARM", "timestamp": "2019-10-02T17:04:40.989+0000"}
  }
}`

const heartbeatPattern = `{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],"detail":{"state":{"value":["ALARM"]}}}`

func TestPatternMatchesDocumentedExamples(t *testing.T) {
	cases := []struct {
		name    string
		pattern string
		event   string
		want    bool
	}{
		{"ec2 termination", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["terminated"]}}`, ec2Event, true},
		{"ec2 other state", `{"source":["aws.ec2"],"detail":{"state":["running"]}}`, ec2Event, false},
		{"or of sources", `{"source":["aws.ec2","aws.fargate"]}`, ec2Event, true},
		{"field absent", `{"detail":{"reason":["x"]}}`, ec2Event, false},
		{"null value", `{"source":["aws.autoscaling"],"detail-type":["EC2 Instance Launch Successful"],"detail":{"responseElements":[null]}}`, autoscalingEvent, true},
		{"empty string", `{"detail":{"eventVersion":[""]}}`, autoscalingEvent, true},
		{"empty string is not null", `{"detail":{"responseElements":[""]}}`, autoscalingEvent, false},
		{"null is not empty string", `{"detail":{"eventVersion":[null]}}`, autoscalingEvent, false},
		{"numbers and nested", `{"source":["aws.macie"],"detail-type":["Macie Alert"],"detail":{"risk-score":[80],"trigger":{"risk":[8]}}}`, macieEvent, true},
		{"number is not string", `{"detail":{"risk-score":["80"]}}`, macieEvent, false},
		{"numbers compare as written", `{"detail":{"risk-score":[80.0]}}`, macieEvent, false},
		{"array in event", `{"detail":{"tags":["Insider"]}}`, macieEvent, true},
		{"array intersection", `{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f","arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}`, asgEvent, true},
		{"array no intersection", `{"resources":["arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}`, asgEvent, false},
		{"prefix", `{"time":[{"prefix":"2017-10-02"}]}`, countsEvent, true},
		{"prefix miss", `{"time":[{"prefix":"2017-10-03"}]}`, countsEvent, false},
		{"prefix ignore case", `{"source":[{"prefix":{"equals-ignore-case":"AWS.EC"}}]}`, ec2Event, true},
		{"suffix", `{"detail":{"instance-id":[{"suffix":"cdef0"}]}}`, ec2Event, true},
		{"equals-ignore-case", `{"detail":{"state":[{"equals-ignore-case":"TERMINATED"}]}}`, ec2Event, true},
		{"anything-but string", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, countsEvent, true},
		{"anything-but excluded", `{"detail":{"state":[{"anything-but":"running"}]}}`, countsEvent, false},
		{"anything-but number", `{"detail":{"c-count":[{"anything-but":123}]}}`, countsEvent, true},
		{"anything-but string list", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, countsEvent, true},
		{"anything-but string list excluded", `{"detail":{"state":[{"anything-but":["stopped","running"]}]}}`, countsEvent, false},
		{"anything-but number list", `{"detail":{"c-count":[{"anything-but":[100,200,300]}]}}`, countsEvent, true},
		{"anything-but number list excluded", `{"detail":{"c-count":[{"anything-but":[4,5]}]}}`, countsEvent, false},
		{"anything-but prefix", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, countsEvent, true},
		{"anything-but prefix excluded", `{"detail":{"state":[{"anything-but":{"prefix":"run"}}]}}`, countsEvent, false},
		{"anything-but absent field", `{"detail":{"missing":[{"anything-but":"x"}]}}`, countsEvent, false},
		{"numeric all", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}`, countsEvent, true},
		{"numeric out of range", `{"detail":{"c-count":[{"numeric":[">",0,"<",5]}]}}`, countsEvent, false},
		{"numeric on string", `{"detail":{"state":[{"numeric":[">",0]}]}}`, countsEvent, false},
		{"exists", `{"detail":{"state":[{"exists":true}]}}`, ec2Event, true},
		{"exists on missing leaf", `{"detail":{"state":[{"exists":true}]}}`, noStateEvent, false},
		{"exists on intermediate node", `{"detail":{"c-count":[{"exists":true}]}}`, noStateEvent, false},
		{"not exists", `{"detail":{"state":[{"exists":false}]}}`, noStateEvent, true},
		{"not exists but present", `{"detail":{"state":[{"exists":false}]}}`, ec2Event, false},
		{"complex", `{"time":[{"prefix":"2017-10-02"}],"detail":{"state":[{"anything-but":"initializing"}],"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"anything-but":[100,200,300]}]}}`, countsEvent, true},
		{"heartbeat alarm", heartbeatPattern, alarmEvent, true},
		{"heartbeat alarm back to OK", heartbeatPattern, strings.Replace(alarmEvent, `"state": {"value": "ALARM"`, `"state": {"value": "OK"`, 1), false},
		{"heartbeat alarm previous state not confused", `{"detail":{"state":{"value":["OK"]}}}`, alarmEvent, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MatchPattern([]byte(tc.pattern), []byte(tc.event))
			if err != nil {
				t.Fatalf("MatchPattern: %v", err)
			}
			if got != tc.want {
				t.Errorf("MatchPattern(%s) = %v, want %v", tc.pattern, got, tc.want)
			}
		})
	}
}

func TestCompilePatternRejectsMalformedPatterns(t *testing.T) {
	cases := []struct {
		name, pattern, wantInMessage string
	}{
		{"not json", `{"source": [`, "not valid JSON"},
		{"root array", `["aws.ec2"]`, "must be a JSON object"},
		{"empty pattern", `{}`, "empty objects"},
		{"empty nested object", `{"detail":{}}`, "at detail: empty objects"},
		{"bare string leaf", `{"source":"aws.ec2"}`, "at source: a pattern field must be an array"},
		{"empty array", `{"source":[]}`, "empty arrays"},
		{"nested array", `{"source":[["aws.ec2"]]}`, "nested arrays"},
		{"unknown operator", `{"source":[{"begins-with":"aws."}]}`, `unrecognized match type "begins-with"`},
		{"two operators in one object", `{"source":[{"prefix":"a","suffix":"b"}]}`, "exactly one key"},
		{"prefix not string", `{"source":[{"prefix":5}]}`, "prefix match value must be a string"},
		{"exists not bool", `{"detail":{"state":[{"exists":"yes"}]}}`, "exists match value must be true or false"},
		{"numeric odd list", `{"detail":{"n":[{"numeric":[">"]}]}}`, "operator/number pairs"},
		{"numeric bad operator", `{"detail":{"n":[{"numeric":["!=",1]}]}}`, `unrecognized numeric operator "!="`},
		{"numeric operand string", `{"detail":{"n":[{"numeric":[">","1"]}]}}`, "must be a number"},
		{"numeric empty range", `{"detail":{"n":[{"numeric":[">",5,"<",1]}]}}`, "lower bound must be below"},
		{"numeric too large", `{"detail":{"n":[{"numeric":[">",2e9]}]}}`, "between -1.0E9 and 1.0E9"},
		{"numeric equals in range", `{"detail":{"n":[{"numeric":["=",1,"<",5]}]}}`, `"=" cannot be combined`},
		{"anything-but mixed list", `{"detail":{"s":[{"anything-but":["a",1]}]}}`, "only strings or only numbers"},
		{"anything-but empty list", `{"detail":{"s":[{"anything-but":[]}]}}`, "cannot be empty"},
		{"anything-but bool", `{"detail":{"s":[{"anything-but":true}]}}`, "anything-but value must be"},
		{"or unsupported", `{"$or":[{"source":["a"]},{"source":["b"]}]}`, `"$or" is not supported`},
		{"cidr unsupported", `{"detail":{"ip":[{"cidr":"10.0.0.0/24"}]}}`, `"cidr" matching is not supported`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompilePattern([]byte(tc.pattern))
			if err == nil {
				t.Fatalf("CompilePattern(%s) succeeded, want an error", tc.pattern)
			}
			if !errors.Is(err, ErrInvalidPattern) {
				t.Errorf("error %v does not wrap ErrInvalidPattern", err)
			}
			if !strings.Contains(err.Error(), tc.wantInMessage) {
				t.Errorf("error %q does not mention %q", err, tc.wantInMessage)
			}
		})
	}
}

func TestMatchRejectsEventsThatAreNotObjects(t *testing.T) {
	p, err := CompilePattern([]byte(heartbeatPattern))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{`[1,2]`, `"text"`, `{"source":`} {
		if _, err := p.Match([]byte(ev)); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("Match(%s) error = %v, want ErrInvalidEvent", ev, err)
		}
	}
}

func TestDuplicateKeyLastOneWins(t *testing.T) {
	// Documented: with a key given twice, only the last one is used.
	pattern := `{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}`
	got, err := MatchPattern([]byte(pattern), []byte(`{"detail":{"location":"eu-west"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !got {
		t.Error("the first location matcher (prefix us-) was used; the last one should win")
	}
}
