package snssim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/switchyard/switchyard/internal/localaws/snssim"
)

func TestPublishIsRecorded(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	before := time.Now()
	out, err := s.client.Publish(ctx(t), &sns.PublishInput{
		TopicArn: aws.String(arn),
		Subject:  aws.String("[switchyard] failover: pg-1 -> pg-2 (epoch 7)"),
		Message:  aws.String("primary pg-1 fenced; pg-2 promoted\nsee the runbook"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"cluster": {DataType: aws.String("String"), StringValue: aws.String("demo")},
			"epoch":   {DataType: aws.String("Number"), StringValue: aws.String("7")},
			"blob":    {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
		},
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	id := aws.ToString(out.MessageId)
	if !uuidPattern.MatchString(id) {
		t.Fatalf("MessageId %q is not a UUID", id)
	}
	// TargetArn may name a topic too; no Subject is recorded as "".
	if _, err := s.client.Publish(ctx(t), &sns.PublishInput{TargetArn: aws.String(arn), Message: aws.String("second")}); err != nil {
		t.Fatalf("Publish by TargetArn: %v", err)
	}
	got := s.sim.Published(arn)
	if len(got) != 2 {
		t.Fatalf("Published: %d messages, want 2: %+v", len(got), got)
	}
	m := got[0]
	if m.ID != id || m.TopicArn != arn || m.Subject != "[switchyard] failover: pg-1 -> pg-2 (epoch 7)" ||
		m.Message != "primary pg-1 fenced; pg-2 promoted\nsee the runbook" {
		t.Fatalf("recorded message %+v", m)
	}
	if m.Time.Before(before.Add(-time.Second)) || m.Time.After(time.Now()) {
		t.Fatalf("message time %v is not the publication time", m.Time)
	}
	if got[1].Message != "second" || got[1].Subject != "" || got[1].ID == id {
		t.Fatalf("second message %+v", got[1])
	}
	got[0].Message = "changed by the caller"
	if s.sim.Published(arn)[0].Message == "changed by the caller" {
		t.Fatal("Published returned the recorded slice, not a copy")
	}
	if other := s.sim.Published(arn + "-other"); len(other) != 0 {
		t.Fatalf("messages of another topic: %+v", other)
	}
}

func TestPublishToUnknownTopicIsNotFound(t *testing.T) {
	s := newStack(t)
	s.createTopic("switchyard-alerts")
	missing := "arn:aws:sns:eu-west-1:111122223333:switchyard-missing"
	_, err := s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(missing), Message: aws.String("hello")})
	notFound(t, err, "Topic does not exist")
	// Parameter errors come before the topic lookup.
	_, err = s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(missing), Message: aws.String("")})
	invalidParameter(t, err, "Empty message")
	for _, bad := range []string{"switchyard-alerts", "arn:aws:sns:eu-west-1:111122223333:bad.name",
		"arn:aws:sns:eu-west-1:111122223333:switchyard-alerts:extra"} {
		_, err = s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(bad), Message: aws.String("hello")})
		invalidParameter(t, err, "Invalid parameter: TopicArn")
	}
	_, err = s.client.Publish(ctx(t), &sns.PublishInput{Message: aws.String("hello")})
	invalidParameter(t, err, "TopicArn or TargetArn")
	_, err = s.client.Publish(ctx(t), &sns.PublishInput{PhoneNumber: aws.String("+15555550100"), Message: aws.String("hello")})
	invalidParameter(t, err, "PhoneNumber")
	if got := s.sim.Published(missing); len(got) != 0 {
		t.Fatalf("recorded %+v", got)
	}
}

func TestPublishValidatesSubjectAndMessage(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	str := aws.String
	cases := []struct {
		what    string
		in      sns.PublishInput
		message string
	}{
		{"subject of 101 characters", sns.PublishInput{Subject: str(strings.Repeat("s", 101)), Message: str("m")}, "Invalid parameter: Subject"},
		{"empty subject", sns.PublishInput{Subject: str(""), Message: str("m")}, "Subject"},
		{"subject with a line break", sns.PublishInput{Subject: str("failover\ndone"), Message: str("m")}, "Subject"},
		{"subject with a carriage return", sns.PublishInput{Subject: str("failover\rdone"), Message: str("m")}, "Subject"},
		{"subject with a tab", sns.PublishInput{Subject: str("failover\tdone"), Message: str("m")}, "Subject"},
		{"subject with a DEL", sns.PublishInput{Subject: str("failover\x7f"), Message: str("m")}, "Subject"},
		{"non-ASCII subject", sns.PublishInput{Subject: str("Bascule terminée"), Message: str("m")}, "Subject"},
		{"subject starting with a space", sns.PublishInput{Subject: str(" failover"), Message: str("m")}, "Subject"},
		{"empty message", sns.PublishInput{Subject: str("ok"), Message: str("")}, "Invalid parameter: Empty message"},
		{"message over 256 KiB", sns.PublishInput{Message: str(strings.Repeat("x", snssim.DefaultMaxMessageSize+1))}, "Message too long"},
		{"message and attributes over 256 KiB", sns.PublishInput{Message: str(strings.Repeat("x", snssim.DefaultMaxMessageSize-10)),
			MessageAttributes: map[string]types.MessageAttributeValue{"cluster": {DataType: str("String"), StringValue: str("demo")}}},
			"Message too long"},
		{"JSON structure without default", sns.PublishInput{MessageStructure: str("json"), Message: str(`{"email":"x"}`)},
			"No default entry in JSON message body"},
		{"JSON structure that is not JSON", sns.PublishInput{MessageStructure: str("json"), Message: str(`{`)}, "failed to parse"},
		{"deduplication id on a standard topic", sns.PublishInput{Message: str("m"), MessageDeduplicationId: str("d1")},
			"MessageDeduplicationId"},
	}
	for _, c := range cases {
		in := c.in
		in.TopicArn = aws.String(arn)
		_, err := s.client.Publish(ctx(t), &in)
		if err == nil {
			t.Fatalf("%s: accepted", c.what)
		}
		invalidParameter(t, err, c.message)
	}
	if got := s.sim.Published(arn); len(got) != 0 {
		t.Fatalf("refused messages were recorded: %d", len(got))
	}

	// The limits themselves are accepted.
	accepted := []sns.PublishInput{
		{Subject: str(strings.Repeat("s", snssim.MaxSubjectLen)), Message: str("m")},
		{Subject: str("~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./ all printable"), Message: str("m")},
		{Message: str(strings.Repeat("x", snssim.DefaultMaxMessageSize))},
		{MessageStructure: str("json"), Message: str(`{"default":"plain","email":"longer"}`)},
	}
	for i, in := range accepted {
		in.TopicArn = aws.String(arn)
		if _, err := s.client.Publish(ctx(t), &in); err != nil {
			t.Fatalf("accepted case %d: %v", i, err)
		}
	}
	if got := s.sim.Published(arn); len(got) != len(accepted) || len(got[2].Message) != snssim.DefaultMaxMessageSize {
		t.Fatalf("recorded %d messages, want %d", len(got), len(accepted))
	}
}

func TestMaximumMessageSizeAttribute(t *testing.T) {
	s := newStack(t)
	out, err := s.client.CreateTopic(ctx(t), &sns.CreateTopicInput{Name: aws.String("small"),
		Attributes: map[string]string{"MaximumMessageSize": "1024"}})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	_, err = s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: out.TopicArn, Message: aws.String(strings.Repeat("x", 1025))})
	invalidParameter(t, err, "Message too long")
	if _, err := s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: out.TopicArn, Message: aws.String(strings.Repeat("x", 1024))}); err != nil {
		t.Fatalf("Publish of MaximumMessageSize bytes: %v", err)
	}
}

func TestWaitPublished(t *testing.T) {
	s := newStack(t)
	arn := s.createTopic("switchyard-alerts")
	type result struct {
		msgs []snssim.Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		msgs, err := s.sim.WaitPublished(ctx(t), arn, 2)
		done <- result{msgs, err}
	}()
	for _, body := range []string{"one", "two"} {
		if _, err := s.client.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String(body)}); err != nil {
			t.Fatalf("Publish %s: %v", body, err)
		}
	}
	r := <-done
	if r.err != nil || len(r.msgs) != 2 || r.msgs[0].Message != "one" || r.msgs[1].Message != "two" {
		t.Fatalf("WaitPublished: %v, %+v", r.err, r.msgs)
	}

	// Already satisfied: returns at once, even with a context that has ended.
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if msgs, err := s.sim.WaitPublished(ended, arn, 1); err != nil || len(msgs) != 2 {
		t.Fatalf("WaitPublished of published messages: %v, %d", err, len(msgs))
	}
	// Not satisfied: the context's end is the answer.
	_, err := s.sim.WaitPublished(ended, arn, 3)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), arn) {
		t.Fatalf("WaitPublished past the end of its context: %v", err)
	}
}
