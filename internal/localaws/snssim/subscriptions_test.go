package snssim_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

func (s *stack) subscriptions(arn string) []types.Subscription {
	s.t.Helper()
	out, err := s.client.ListSubscriptionsByTopic(ctx(s.t), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	if err != nil {
		s.t.Fatalf("ListSubscriptionsByTopic: %v", err)
	}
	return out.Subscriptions
}

func TestEmailSubscriptionIsPending(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	in := &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("email"), Endpoint: aws.String("oncall@example.com")}
	for range 2 { // Subscribe is idempotent
		out, err := s.client.Subscribe(ctx(t), in)
		if err != nil || aws.ToString(out.SubscriptionArn) != "pending confirmation" {
			t.Fatalf("Subscribe email: %v, SubscriptionArn %q", err, aws.ToString(out.SubscriptionArn))
		}
	}
	withARN := *in
	withARN.ReturnSubscriptionArn = true
	out, err := s.client.Subscribe(ctx(t), &withARN)
	if err != nil || !strings.HasPrefix(aws.ToString(out.SubscriptionArn), arn+":") ||
		!uuidPattern.MatchString(strings.TrimPrefix(aws.ToString(out.SubscriptionArn), arn+":")) {
		t.Fatalf("Subscribe with ReturnSubscriptionArn: %v, SubscriptionArn %q", err, aws.ToString(out.SubscriptionArn))
	}

	subs := s.subscriptions(arn)
	if len(subs) != 1 {
		t.Fatalf("ListSubscriptionsByTopic: %d subscriptions, want 1: %+v", len(subs), subs)
	}
	got := subs[0]
	if aws.ToString(got.SubscriptionArn) != "PendingConfirmation" || aws.ToString(got.Protocol) != "email" ||
		aws.ToString(got.Endpoint) != "oncall@example.com" || aws.ToString(got.Owner) != testAccount ||
		aws.ToString(got.TopicArn) != arn {
		t.Fatalf("subscription %+v", got)
	}
	attrs := s.topicAttributes(arn)
	if attrs["SubscriptionsPending"] != "1" || attrs["SubscriptionsConfirmed"] != "0" {
		t.Fatalf("pending %s confirmed %s, want 1 and 0", attrs["SubscriptionsPending"], attrs["SubscriptionsConfirmed"])
	}
}

func TestQueueSubscriptionIsConfirmed(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	queue := "arn:aws:sqs:eu-west-1:111122223333:switchyard-events"
	out, err := s.client.Subscribe(ctx(t), &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"),
		Endpoint: aws.String(queue), Attributes: map[string]string{"RawMessageDelivery": "true"}})
	if err != nil || !strings.HasPrefix(aws.ToString(out.SubscriptionArn), arn+":") {
		t.Fatalf("Subscribe sqs: %v, SubscriptionArn %q", err, aws.ToString(out.SubscriptionArn))
	}
	subs := s.subscriptions(arn)
	if len(subs) != 1 || aws.ToString(subs[0].SubscriptionArn) != aws.ToString(out.SubscriptionArn) {
		t.Fatalf("ListSubscriptionsByTopic: %+v", subs)
	}
	_, err = s.client.Subscribe(ctx(t), &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"),
		Endpoint: aws.String(queue), Attributes: map[string]string{"RawMessageDelivery": "false"}})
	invalidParameter(t, err, "Subscription already exists with different attributes")
}

func TestSubscribeValidatesProtocolAndEndpoint(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	cases := []struct{ protocol, endpoint, message string }{
		{"email", "not-an-address", "Email address"},
		{"email", "Ops <ops@example.com>", "Email address"},
		{"email-json", "", "Invalid parameter: Endpoint"},
		{"https", "http://hooks.example.com/x", "Endpoint must match the specified protocol"},
		{"https", "https://", "Endpoint"},
		{"sqs", "arn:aws:sns:eu-west-1:111122223333:switchyard-events", "SQS endpoint ARN"},
		{"sqs", "switchyard-events", "SQS endpoint ARN"},
		{"lambda", "arn:aws:lambda:eu-west-1:111122223333:switchyard-notify", "Lambda endpoint ARN"},
		{"sms", "+15555550100", "does not emulate sms subscriptions"},
		{"smtp", "oncall@example.com", "does not support this protocol string: smtp"},
		{"", "oncall@example.com", "Invalid parameter: Protocol"},
	}
	for _, c := range cases {
		_, err := s.client.Subscribe(ctx(t), &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String(c.protocol),
			Endpoint: aws.String(c.endpoint)})
		invalidParameter(t, err, c.message)
	}
	if subs := s.subscriptions(arn); len(subs) != 0 {
		t.Fatalf("refused subscriptions were kept: %+v", subs)
	}
	_, err := s.client.Subscribe(ctx(t), &sns.SubscribeInput{TopicArn: aws.String(arn + "-missing"),
		Protocol: aws.String("email"), Endpoint: aws.String("oncall@example.com")})
	notFound(t, err, "Topic does not exist")
	_, err = s.client.ListSubscriptionsByTopic(ctx(t), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn + "-missing")})
	notFound(t, err, "Topic does not exist")
}
