package snssim_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/snssim"
)

// rawCall posts a query-protocol form with a SigV4-shaped Authorization
// header (the emulator reads the credential scope, not the signature), for
// what the SDK cannot send, and to see the documents themselves.
func rawCall(t *testing.T, s *stack, form url.Values) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=raw-client/20260101/eu-west-1/sns/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestResponseAndErrorDocuments(t *testing.T) {
	s := newStack(t)
	status, body := rawCall(t, s, url.Values{"Action": {"CreateTopic"}, "Version": {snssim.APIVersion}, "Name": {"raw"}})
	var ok struct {
		XMLName   xml.Name
		TopicArn  string `xml:"CreateTopicResult>TopicArn"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal(body, &ok); err != nil || status != http.StatusOK {
		t.Fatalf("CreateTopic: %d %v\n%s", status, err, body)
	}
	if ok.XMLName.Space != "http://sns.amazonaws.com/doc/2010-03-31/" || ok.XMLName.Local != "CreateTopicResponse" ||
		ok.TopicArn != "arn:aws:sns:eu-west-1:111122223333:raw" || !uuidPattern.MatchString(ok.RequestID) {
		t.Fatalf("CreateTopic document %+v\n%s", ok, body)
	}

	var doc struct {
		XMLName   xml.Name
		Type      string `xml:"Error>Type"`
		Code      string `xml:"Error>Code"`
		Message   string `xml:"Error>Message"`
		RequestID string `xml:"RequestId"`
	}
	status, body = rawCall(t, s, url.Values{"Action": {"Publish"}, "Version": {snssim.APIVersion},
		"TopicArn": {"arn:aws:sns:eu-west-1:111122223333:missing"}, "Message": {"m"}})
	if err := xml.Unmarshal(body, &doc); err != nil || status != http.StatusNotFound {
		t.Fatalf("Publish to a missing topic: %d %v\n%s", status, err, body)
	}
	if doc.XMLName.Local != "ErrorResponse" || doc.XMLName.Space != "http://sns.amazonaws.com/doc/2010-03-31/" ||
		doc.Type != "Sender" || doc.Code != "NotFound" || doc.Message != "Topic does not exist" || !uuidPattern.MatchString(doc.RequestID) {
		t.Fatalf("error document %+v\n%s", doc, body)
	}

	status, body = rawCall(t, s, url.Values{"Action": {"ConfirmSubscription"}, "Version": {snssim.APIVersion}})
	if err := xml.Unmarshal(body, &doc); err != nil || status != http.StatusBadRequest || doc.Code != "InvalidAction" ||
		!strings.Contains(doc.Message, "ConfirmSubscription") {
		t.Fatalf("unknown action: %d %v %+v", status, err, doc)
	}
	calls := s.srv.Calls()
	if last := calls[len(calls)-1]; last.Operation != "ConfirmSubscription" || last.ErrorCode != "InvalidAction" {
		t.Fatalf("call log of the unknown action: %s %s", last.Operation, last.ErrorCode)
	}
	// The SDK refuses nothing the emulator does not know: an unemulated
	// operation is an API error to it.
	_, err := s.client.Unsubscribe(ctx(t), &sns.UnsubscribeInput{SubscriptionArn: aws.String("arn:aws:sns:eu-west-1:111122223333:raw:x")})
	apiError(t, err, "InvalidAction", "Unsubscribe", 400)
}

// Injected faults reach the SDK as its typed errors: the error codes and
// statuses are the ones SNS's model maps to them.
func TestErrorsAreTheSDKsTypes(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	publish := func() error {
		_, err := s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m")})
		return err
	}
	s.srv.Faults().Add(localaws.Fault{Service: "sns", Operation: "Publish", FailNext: 1})
	err := publish()
	apiError(t, err, "InternalError", "", 500)
	var ie *types.InternalErrorException
	if !errors.As(err, &ie) {
		t.Fatalf("want *types.InternalErrorException, got %T", err)
	}
	s.srv.Faults().Add(localaws.Fault{Service: "sns", Operation: "Publish", FailNext: 1,
		Error: localaws.Errorf(http.StatusForbidden, snssim.CodeAuthorizationError, "User is not authorized to perform: SNS:Publish")})
	err = publish()
	apiError(t, err, "AuthorizationError", "not authorized", 403)
	var ae *types.AuthorizationErrorException
	if !errors.As(err, &ae) {
		t.Fatalf("want *types.AuthorizationErrorException, got %T", err)
	}
	if err := publish(); err != nil {
		t.Fatalf("Publish after the faults: %v", err)
	}
}

func TestPublishIsThrottled(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	s.srv.SetBucket(localaws.BucketSNS, 1, 0.001)
	in := &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m")}
	if _, err := s.client.Publish(ctx(t), in); err != nil {
		t.Fatalf("first Publish: %v", err)
	}
	_, err := s.client.Publish(ctx(t), in)
	apiError(t, err, "Throttled", "Rate exceeded", 429)
	var te *types.ThrottledException
	if !errors.As(err, &te) {
		t.Fatalf("want *types.ThrottledException, got %T", err)
	}
	if got := s.sim.Published(arn); len(got) != 1 {
		t.Fatalf("%d messages recorded, want the first only", len(got))
	}
	// Only Publish draws from the bucket.
	if _, err := s.client.GetTopicAttributes(ctx(t), &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatalf("GetTopicAttributes with the publish bucket empty: %v", err)
	}
}

func TestCallLogNamesTheTopic(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	missing := "arn:aws:sns:eu-west-1:111122223333:switchyard-missing"
	_, _ = s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m")})
	_, _ = s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(missing), Message: aws.String("m")})
	_, _ = s.client.Subscribe(ctx(t), &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("email"),
		Endpoint: aws.String("oncall@example.com")})
	_, _ = s.client.ListTopics(ctx(t), &sns.ListTopicsInput{})
	_, _ = s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String("garbage"), Message: aws.String("m")})

	want := []struct {
		op, arn, code string
	}{
		{"CreateTopic", arn, ""},
		{"Publish", arn, ""},
		{"Publish", missing, "NotFound"},
		{"Subscribe", arn, ""},
		{"ListTopics", "", ""},
		{"Publish", "", "InvalidParameter"},
	}
	calls := s.srv.Calls()
	if len(calls) != len(want) {
		t.Fatalf("call log has %d calls, want %d", len(calls), len(want))
	}
	for i, w := range want {
		c := &calls[i]
		var wantList []string
		if w.arn != "" {
			wantList = []string{w.arn}
		}
		if c.Service != "sns" || c.Operation != w.op || c.ErrorCode != w.code || c.AccessKeyID != testKey ||
			c.Region != testRegion || !slices.Equal(c.Resources, wantList) || !slices.Equal(c.ARNs, wantList) {
			t.Errorf("call %d: %s %s resources %v ARNs %v code %q by %s in %s, want %+v",
				i, c.Service, c.Operation, c.Resources, c.ARNs, c.ErrorCode, c.AccessKeyID, c.Region, w)
		}
	}
}

func TestOperations(t *testing.T) {
	want := []string{"CreateTopic", "DeleteTopic", "GetTopicAttributes", "ListSubscriptionsByTopic", "ListTopics", "Publish", "Subscribe"}
	if got := snssim.Operations(); !slices.Equal(got, want) {
		t.Fatalf("Operations() = %v", got)
	}
}
