package snssim_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

func (s *stack) listTopics() []string {
	s.t.Helper()
	var arns []string
	pages := sns.NewListTopicsPaginator(s.client, &sns.ListTopicsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx(s.t))
		if err != nil {
			s.t.Fatalf("ListTopics: %v", err)
		}
		for _, tp := range page.Topics {
			arns = append(arns, aws.ToString(tp.TopicArn))
		}
	}
	return arns
}

func TestCreateTopicIsIdempotentByName(t *testing.T) {
	s := newStack(t)
	const want = "arn:aws:sns:eu-west-1:111122223333:switchyard-alerts"
	display := map[string]string{"DisplayName": "Switchyard"}
	first, err := s.client.CreateTopic(ctx(t), &sns.CreateTopicInput{Name: aws.String("switchyard-alerts"), Attributes: display})
	if err != nil || aws.ToString(first.TopicArn) != want {
		t.Fatalf("CreateTopic: %v, ARN %q, want %q", err, aws.ToString(first.TopicArn), want)
	}
	for _, attrs := range []map[string]string{display, nil} {
		again, err := s.client.CreateTopic(ctx(t), &sns.CreateTopicInput{Name: aws.String("switchyard-alerts"), Attributes: attrs})
		if err != nil || aws.ToString(again.TopicArn) != want {
			t.Fatalf("CreateTopic again with %v: %v, ARN %q", attrs, err, aws.ToString(again.TopicArn))
		}
	}
	_, err = s.client.CreateTopic(ctx(t), &sns.CreateTopicInput{Name: aws.String("switchyard-alerts"),
		Attributes: map[string]string{"DisplayName": "Other"}})
	invalidParameter(t, err, "Topic already exists with different attributes")

	other := s.createTopic("switchyard-audit")
	if got := s.listTopics(); !slices.Equal(got, []string{want, other}) {
		t.Fatalf("ListTopics = %v, want [%s %s]", got, want, other)
	}
	if got := s.topicAttributes(want)["DisplayName"]; got != "Switchyard" {
		t.Fatalf("DisplayName %q after idempotent creates", got)
	}
}

func TestCreateTopicRefusesBadNamesAndFIFO(t *testing.T) {
	s := newStack(t)
	long := strings.Repeat("a", 257)
	cases := []struct {
		name    string
		attrs   map[string]string
		message string
	}{
		{"", nil, "Invalid parameter: Topic Name"},
		{"has space", nil, "Topic Name"},
		{"dot.name", nil, "Topic Name"},
		{"ümlaut", nil, "Topic Name"},
		{long, nil, "Topic Name"},
		{"events.fifo", nil, "Topic Name"},
		{"events.fifo", map[string]string{"FifoTopic": "true"}, "does not emulate FIFO topics"},
		{"events", map[string]string{"FifoTopic": "maybe"}, "FifoTopic"},
		{"events", map[string]string{"ContentBasedDeduplication": "true"}, "only valid for FIFO topics"},
		{"events", map[string]string{"MaximumMessageSize": "10"}, "MaximumMessageSize"},
		{"events", map[string]string{"NoSuchAttribute": "x"}, "Unknown attribute NoSuchAttribute"},
	}
	for _, c := range cases {
		_, err := s.client.CreateTopic(ctx(t), &sns.CreateTopicInput{Name: aws.String(c.name), Attributes: c.attrs})
		invalidParameter(t, err, c.message)
	}
	if got := s.listTopics(); len(got) != 0 {
		t.Fatalf("refused creates left topics: %v", got)
	}
	ok := strings.Repeat("A-z_9", 52)[:256]
	if arn := s.createTopic(ok); arn != "arn:aws:sns:eu-west-1:111122223333:"+ok {
		t.Fatalf("256-character name: ARN %q", arn)
	}
}

func TestTopicsAreRegional(t *testing.T) {
	s := newStack(t)
	west := s.newClient("us-west-2")
	out, err := west.CreateTopic(ctx(t), &sns.CreateTopicInput{Name: aws.String("switchyard-alerts")})
	if err != nil || aws.ToString(out.TopicArn) != "arn:aws:sns:us-west-2:111122223333:switchyard-alerts" {
		t.Fatalf("CreateTopic in us-west-2: %v, ARN %q", err, aws.ToString(out.TopicArn))
	}
	if got := s.listTopics(); len(got) != 0 {
		t.Fatalf("eu-west-1 lists the us-west-2 topic: %v", got)
	}
	_, err = s.client.GetTopicAttributes(ctx(t), &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	invalidParameter(t, err, "TopicArn")
}

func TestGetTopicAttributesCountsSubscriptions(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	subs := []struct{ protocol, endpoint string }{
		{"email", "oncall@example.com"},
		{"email-json", "robot@example.com"},
		{"https", "https://hooks.example.com/switchyard"},
		{"sqs", "arn:aws:sqs:eu-west-1:111122223333:switchyard-events"},
		{"lambda", "arn:aws:lambda:eu-west-1:111122223333:function:switchyard-notify"},
		{"sqs", "arn:aws:sqs:eu-west-1:444455556666:other-account"},
	}
	for _, sub := range subs {
		if _, err := s.client.Subscribe(ctx(t), &sns.SubscribeInput{TopicArn: aws.String(arn),
			Protocol: aws.String(sub.protocol), Endpoint: aws.String(sub.endpoint)}); err != nil {
			t.Fatalf("Subscribe %s %s: %v", sub.protocol, sub.endpoint, err)
		}
	}
	attrs := s.topicAttributes(arn)
	want := map[string]string{"TopicArn": arn, "Owner": testAccount, "DisplayName": "",
		"SubscriptionsConfirmed": "2", "SubscriptionsPending": "4", "SubscriptionsDeleted": "0"}
	for k, v := range want {
		if got, ok := attrs[k]; !ok || got != v {
			t.Errorf("attribute %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	var policy struct {
		Statement []struct{ Resource string }
	}
	if err := json.Unmarshal([]byte(attrs["Policy"]), &policy); err != nil || len(policy.Statement) != 1 || policy.Statement[0].Resource != arn {
		t.Errorf("default Policy %q: %v", attrs["Policy"], err)
	}
}

func TestListTopicsPaginates(t *testing.T) {
	s := newStack(t)
	var want []string
	for i := range 205 {
		want = append(want, s.createTopic(fmt.Sprintf("topic-%03d", i)))
	}
	first, err := s.client.ListTopics(ctx(t), &sns.ListTopicsInput{})
	if err != nil || len(first.Topics) != 100 || first.NextToken == nil {
		t.Fatalf("first page: %v, %d topics, token %v", err, len(first.Topics), first.NextToken)
	}
	if got := s.listTopics(); !slices.Equal(got, want) {
		t.Fatalf("paginated ListTopics: %d topics, want %d in creation (name) order", len(got), len(want))
	}
	_, err = s.client.ListTopics(ctx(t), &sns.ListTopicsInput{NextToken: aws.String("!!not-a-token")})
	invalidParameter(t, err, "NextToken")
}

func TestDeleteTopicThenPublishIsNotFound(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	if _, err := s.client.Subscribe(ctx(t), &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("email"),
		Endpoint: aws.String("oncall@example.com")}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	for range 2 { // deleting a topic that is gone succeeds, as SNS documents
		if _, err := s.client.DeleteTopic(ctx(t), &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
			t.Fatalf("DeleteTopic: %v", err)
		}
	}
	_, err := s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("after delete")})
	notFound(t, err, "Topic does not exist")
	_, err = s.client.GetTopicAttributes(ctx(t), &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	notFound(t, err, "Topic does not exist")
	if got := s.listTopics(); len(got) != 0 {
		t.Fatalf("ListTopics after delete: %v", got)
	}
	if len(s.sim.Published(arn)) != 0 {
		t.Fatalf("a publish to a deleted topic was recorded: %+v", s.sim.Published(arn))
	}
	if again := s.createTopic("switchyard-alerts"); again != arn {
		t.Fatalf("re-created topic ARN %q, want %q", again, arn)
	}
	if got := s.topicAttributes(arn)["SubscriptionsPending"]; got != "0" {
		t.Fatalf("re-created topic kept the old subscriptions: SubscriptionsPending %s", got)
	}
	_, err = s.client.DeleteTopic(ctx(t), &sns.DeleteTopicInput{TopicArn: aws.String("not-an-arn")})
	invalidParameter(t, err, "TopicArn")
}
