package cwsim

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/localaws"
)

// rawCall sends a hand-made RPC v2 CBOR request and returns the response
// with its decoded body.
func rawCall(t *testing.T, f *fixture, op string, body cbor.Map, protocol string) (*http.Response, cbor.Map) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost,
		f.url+"/service/GraniteServiceVersion20100801/operation/"+op, bytes.NewReader(cbor.Encode(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDRAW/20261126/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00")
	req.Header.Set("Content-Type", "application/cbor")
	if protocol != "" {
		req.Header.Set("Smithy-Protocol", protocol)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cbor.Decode(raw)
	if err != nil {
		t.Fatalf("response body is not CBOR: %v (%q)", err, raw)
	}
	m, ok := v.(cbor.Map)
	if !ok {
		t.Fatalf("response body is %T, want a CBOR map", v)
	}
	return resp, m
}

func TestRawSuccessResponseIsCBORWithProtocolHeader(t *testing.T) {
	f := newFixture(t, Options{})
	resp, body := rawCall(t, f, "DescribeAlarms", cbor.Map{}, "rpc-v2-cbor")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Smithy-Protocol"); got != "rpc-v2-cbor" {
		t.Errorf("Smithy-Protocol = %q, want rpc-v2-cbor", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/cbor" {
		t.Errorf("Content-Type = %q, want application/cbor", got)
	}
	if _, ok := body["MetricAlarms"].(cbor.List); !ok {
		t.Errorf("body %v has no MetricAlarms list", body)
	}
}

func TestRawErrorShapeIsQueryCompatible(t *testing.T) {
	f := newFixture(t, Options{})
	resp, body := rawCall(t, f, "SetAlarmState", cbor.Map{
		"AlarmName": cbor.String("nope"), "StateValue": cbor.String("ALARM"), "StateReason": cbor.String("test"),
	}, "rpc-v2-cbor")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
	if got := body["__type"]; got != cbor.String("com.amazonaws.cloudwatch#ResourceNotFound") {
		t.Errorf("__type = %v, want the ResourceNotFound shape id", got)
	}
	if msg, _ := body["message"].(cbor.String); msg == "" {
		t.Errorf("message missing from %v", body)
	}
	if got := resp.Header.Get("X-Amzn-Query-Error"); got != "ResourceNotFound;Sender" {
		t.Errorf("X-Amzn-Query-Error = %q, want ResourceNotFound;Sender", got)
	}
	if got := resp.Header.Get("Smithy-Protocol"); got != "rpc-v2-cbor" {
		t.Errorf("errors must echo Smithy-Protocol too, got %q", got)
	}
}

func TestRawRequestWithoutProtocolHeaderIsRejected(t *testing.T) {
	f := newFixture(t, Options{})
	resp, body := rawCall(t, f, "DescribeAlarms", cbor.Map{}, "")
	if resp.StatusCode != http.StatusBadRequest || body["__type"] != cbor.String("InvalidRequest") {
		t.Errorf("status %d body %v, want 400 InvalidRequest", resp.StatusCode, body)
	}
	resp, body = rawCall(t, f, "ListMetrics", cbor.Map{}, "rpc-v2-cbor")
	if resp.StatusCode != http.StatusBadRequest || body["__type"] != cbor.String("InvalidAction") {
		t.Errorf("unimplemented op: status %d body %v, want 400 InvalidAction", resp.StatusCode, body)
	}
}

func TestRawMemberOfWrongTypeIsASerializationError(t *testing.T) {
	f := newFixture(t, Options{})
	resp, body := rawCall(t, f, "PutMetricData", cbor.Map{
		"Namespace":  cbor.String("Switchyard"),
		"MetricData": cbor.List{cbor.Map{"MetricName": cbor.String("x"), "Value": cbor.String("one")}},
	}, "rpc-v2-cbor")
	if resp.StatusCode != http.StatusBadRequest || body["__type"] != cbor.String("SerializationException") {
		t.Errorf("status %d body %v, want 400 SerializationException", resp.StatusCode, body)
	}
}

func TestSDKSeesProtocolHeaderOnEveryResponse(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	f.put(t, "Switchyard", "Heartbeat", t0.Add(-time.Minute), 1, 1)
	if _, err := f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := f.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("missing"),
		StateValue: types.StateValueAlarm, StateReason: aws.String("test")})
	wantCode(t, err, "ResourceNotFound")
	hs := f.headers.list()
	if len(hs) != 3 {
		t.Fatalf("recorded %d responses, want 3", len(hs))
	}
	for i, h := range hs {
		if h.Get("Smithy-Protocol") != "rpc-v2-cbor" || h.Get("Content-Type") != "application/cbor" {
			t.Errorf("response %d headers %v lack the RPC v2 CBOR protocol headers", i, h)
		}
	}
}

func TestThrottlingReturnsThrottlingCode(t *testing.T) {
	f := newFixture(t, Options{})
	f.server.SetBucket(localaws.BucketCloudWatch, 2, 0.001)
	ctx := ctxT(t)
	for i := range 2 {
		if _, err := f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil {
			t.Fatalf("call %d within the burst failed: %v", i+1, err)
		}
	}
	_, err := f.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	wantCode(t, err, "Throttling")
	if !awsapi.IsThrottle(err) {
		t.Errorf("awsapi.IsThrottle(%v) = false", err)
	}
	calls := f.server.Calls()
	if last := calls[len(calls)-1]; last.ErrorCode != "Throttling" || last.Operation != "DescribeAlarms" {
		t.Errorf("call log ends with %+v, want a throttled DescribeAlarms", last)
	}
}

func TestInjectedFaultReachesClientWithItsCode(t *testing.T) {
	f := newFixture(t, Options{})
	f.server.Faults().Add(localaws.Fault{Service: "monitoring", Operation: "PutMetricData", FailNext: 1,
		Error: localaws.Errorf(http.StatusInternalServerError, "InternalServiceError", "injected")})
	_, err := f.cw.PutMetricData(ctxT(t), &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"),
		MetricData: []types.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1)}}})
	wantCode(t, err, "InternalServiceError")
	var fault *types.InternalServiceFault
	if !errors.As(err, &fault) {
		t.Errorf("error %T is not the modelled InternalServiceFault", err)
	}
}
