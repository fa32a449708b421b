package localaws

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/smithy-go/encoding/cbor"
)

// namedService is a service of any signing name that records the ids in
// the request's X-Ids header as the resources it touched.
type namedService struct{ name string }

func (s namedService) SigningName() string { return s.name }
func (namedService) Operation(r *http.Request, _ []byte) (string, error) {
	return r.Header.Get("X-Op"), nil
}
func (namedService) ThrottleBucket(string) string { return "" }
func (namedService) ThrottleError() *APIError     { return BadRequest("Throttling", "Rate exceeded") }
func (namedService) Serve(w http.ResponseWriter, c *Call) {
	if ids := c.Request.Header.Get("X-Ids"); ids != "" {
		c.AddResource(strings.Split(ids, ",")...)
	}
	_, _ = io.WriteString(w, "{}")
}
func (namedService) WriteError(w http.ResponseWriter, c *Call, e *APIError) {
	c.MarkError(e.Code)
	http.Error(w, e.Code, e.HTTPStatus)
}

// The call log names the ARNs IAM authorizes each call against and the
// condition keys of the request, derived from the ids the service recorded
// and the request body.
func TestCallLogRecordsARNsAndConditionKeys(t *testing.T) {
	s := NewServer()
	s.SetAccountID("111122223333")
	for _, n := range []string{"ec2", "dynamodb", "monitoring", "route53", "secretsmanager", "states", "sns"} {
		s.Register(namedService{n})
	}
	hs := httptest.NewServer(s)
	defer hs.Close()
	ns := cbor.Encode(cbor.Map{"Namespace": cbor.String("Switchyard")})
	cases := []struct {
		service, op, ids, body string
		arns                   []string
		ctx                    map[string][]string
	}{
		{"ec2", "StopInstances", "i-0abc", "", []string{"arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc"}, nil},
		{"ec2", "DescribeInstances", "i-0abc", "", nil, nil},
		{"states", "StartExecution", "arn:aws:states:eu-west-1:111122223333:stateMachine:m,arn:aws:states:eu-west-1:111122223333:execution:m:e", "",
			[]string{"arn:aws:states:eu-west-1:111122223333:stateMachine:m"}, nil},
		{"states", "DescribeExecution", "arn:aws:states:eu-west-1:111122223333:execution:m:e", "",
			[]string{"arn:aws:states:eu-west-1:111122223333:execution:m:e"}, nil},
		{"ec2", "ReplaceRoute", "rtb-01,eni-02", "", []string{"arn:aws:ec2:eu-west-1:111122223333:route-table/rtb-01"}, nil},
		{"ec2", "AssociateAddress", "eipalloc-1,i-2,eni-3,eipassoc-4", "", []string{
			"arn:aws:ec2:eu-west-1:111122223333:elastic-ip/eipalloc-1", "arn:aws:ec2:eu-west-1:111122223333:instance/i-2",
			"arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-3"}, nil},
		{"dynamodb", "GetItem", "switchyard-demo", `{"TableName":"switchyard-demo","Key":{"cluster":{"S":"demo"}}}`,
			[]string{"arn:aws:dynamodb:eu-west-1:111122223333:table/switchyard-demo"}, map[string][]string{"dynamodb:LeadingKeys": {"demo"}}},
		// The hash key attribute was learned from the GetItem's Key.
		{"dynamodb", "PutItem", "switchyard-demo", `{"TableName":"switchyard-demo","Item":{"cluster":{"S":"demo"},"epoch":{"N":"2"}}}`,
			[]string{"arn:aws:dynamodb:eu-west-1:111122223333:table/switchyard-demo"}, map[string][]string{"dynamodb:LeadingKeys": {"demo"}}},
		{"monitoring", "PutMetricData", "Heartbeat", string(ns), nil, map[string][]string{"cloudwatch:namespace": {"Switchyard"}}},
		{"monitoring", "SetAlarmState", "hb", "", []string{"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:hb"}, nil},
		{"route53", "ChangeResourceRecordSets", "Z123,PG.db.example.", "", []string{"arn:aws:route53:::hostedzone/Z123"},
			map[string][]string{"route53:ChangeResourceRecordSetsNormalizedRecordNames": {"pg.db.example"}}},
		{"route53", "GetChange", "C9", "", []string{"arn:aws:route53:::change/C9"}, nil},
		{"secretsmanager", "GetSecretValue", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbC", "",
			[]string{"arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbC"}, nil},
		{"sns", "Publish", "arn:aws:sns:eu-west-1:111122223333:switchyard-alerts", "",
			[]string{"arn:aws:sns:eu-west-1:111122223333:switchyard-alerts"}, nil},
		{"sns", "CreateTopic", "switchyard-alerts", "", []string{"arn:aws:sns:eu-west-1:111122223333:switchyard-alerts"}, nil},
		{"sns", "ListTopics", "arn:aws:sns:eu-west-1:111122223333:switchyard-alerts", "", nil, nil},
	}
	for _, c := range cases {
		post(t, hs.URL, "FenceFunction/20261126/eu-west-1/"+c.service, c.op, c.ids, c.body)
		calls := s.Calls()
		got := calls[len(calls)-1]
		if !reflect.DeepEqual(got.ARNs, c.arns) || !reflect.DeepEqual(got.Context, c.ctx) {
			t.Errorf("%s %s %s: ARNs %v context %v, want %v %v", c.service, c.op, c.ids, got.ARNs, got.Context, c.arns, c.ctx)
		}
	}
}

// IAM authorizes each item of a DynamoDB transaction as its own action,
// with its own dynamodb:LeadingKeys: the call log records them one by one.
func TestCallLogSplitsATransactionIntoItems(t *testing.T) {
	s := NewServer()
	s.SetTableHashKey("switchyard-demo", "cluster")
	s.Register(namedService{"dynamodb"})
	hs := httptest.NewServer(s)
	defer hs.Close()
	body := `{"TransactItems":[
		{"Put":{"TableName":"switchyard-demo","Item":{"cluster":{"S":"demo"},"version":{"N":"3"}},"ConditionExpression":"#v = :v"}},
		{"Put":{"TableName":"switchyard-demo","Item":{"cluster":{"S":"demo#history"},"history":{"L":[]}}}},
		{"Update":{"TableName":"switchyard-demo","Key":{"cluster":{"S":"other"}},"UpdateExpression":"SET a = :a"}},
		{"Delete":{"TableName":"switchyard-demo","Key":{"cluster":{"S":"gone"}}}},
		{"ConditionCheck":{"TableName":"switchyard-demo","Key":{"cluster":{"S":"demo"}},"ConditionExpression":"attribute_exists(cluster)"}}]}`
	post(t, hs.URL, "agent-node1/20261126/us-east-1/dynamodb", "TransactWriteItems", "switchyard-demo,switchyard-demo", body)
	calls := s.Calls()
	got := calls[len(calls)-1]
	table := "arn:aws:dynamodb:us-east-1:123456789012:table/switchyard-demo"
	if !reflect.DeepEqual(got.ARNs, []string{table}) ||
		!reflect.DeepEqual(got.Context, map[string][]string{"dynamodb:LeadingKeys": {"demo", "demo#history", "other", "gone"}}) {
		t.Errorf("call: ARNs %v context %v", got.ARNs, got.Context)
	}
	var items []string
	for _, it := range got.Items {
		items = append(items, fmt.Sprintf("%s %v %v", it.Operation, it.ARNs, it.Context["dynamodb:LeadingKeys"]))
	}
	want := []string{"PutItem [" + table + "] [demo]", "PutItem [" + table + "] [demo#history]", "UpdateItem [" + table + "] [other]",
		"DeleteItem [" + table + "] [gone]", "ConditionCheckItem [" + table + "] [demo]"}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("items:\n %q\nwant\n %q", items, want)
	}
}

// post sends body signed with the credential scope scope (caller/date/
// region/service) to the test server, with the operation and the
// resource ids the test service reports in X-Op and X-Ids.
func post(t *testing.T, url, scope, op, ids, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+scope+"/aws4_request, Signature=x")
	req.Header.Set("X-Op", op)
	req.Header.Set("X-Ids", ids)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
