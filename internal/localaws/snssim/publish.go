package snssim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/internal/localaws"
)

// MaxSubjectLen is the longest Subject Publish accepts, in characters.
const MaxSubjectLen = 100

// Message is one message published to a topic, as the emulator recorded it.
type Message struct {
	ID       string // the MessageId Publish answered
	TopicArn string
	Subject  string // "" when the publisher gave none
	Message  string // the body as published (the whole JSON document for MessageStructure=json)
	Time     time.Time
}

type publishResult struct {
	MessageID string `xml:"MessageId"`
}

// publish validates a message as SNS does for a standard topic and records
// it. Parameter errors are reported before an unknown topic, whose ARN is
// still recorded in the call log.
func (s *Service) publish(call *localaws.Call, p params) (any, *localaws.APIError) {
	param, arn, err := publishTarget(p)
	if err != nil {
		return nil, err
	}
	t, topicErr := s.findTopic(call, param, arn)
	if topicErr != nil && topicErr.Code != CodeNotFound {
		return nil, topicErr
	}
	body := p.get("Message")
	if body == "" {
		return nil, invalidParameter("Empty message")
	}
	if !utf8.ValidString(body) {
		return nil, invalidParameter("Message Reason: the message is not valid UTF-8")
	}
	if err := checkMessageStructure(p.get("MessageStructure"), body); err != nil {
		return nil, err
	}
	attrs, err := p.messageAttributes()
	if err != nil {
		return nil, err
	}
	size := len(body)
	for _, a := range attrs {
		size += a.size()
	}
	limit := DefaultMaxMessageSize
	if t != nil {
		limit = t.maxMessageSize()
	}
	if size > limit {
		return nil, invalidParameter("Message too long")
	}
	subject, hasSubject := p.lookup("Subject")
	if hasSubject && !validSubject(subject) {
		return nil, invalidParameter("Subject")
	}
	if p.get("MessageDeduplicationId") != "" {
		return nil, invalidParameter("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	}
	if topicErr != nil {
		return nil, topicErr
	}
	m := Message{ID: newUUID(), TopicArn: t.arn, Subject: subject, Message: body, Time: s.opts.Now()}
	s.published[t.arn] = append(s.published[t.arn], m)
	close(s.changed)
	s.changed = make(chan struct{})
	return publishResult{MessageID: m.ID}, nil
}

// publishTarget returns the parameter naming the topic to publish to
// (TopicArn or TargetArn, exactly one of them) and its value. SMS
// (PhoneNumber) is not emulated; a TargetArn must name a topic, since
// platform endpoints are not emulated either.
func publishTarget(p params) (param, arn string, err *localaws.APIError) {
	topicArn, targetArn := p.get("TopicArn"), p.get("TargetArn")
	switch {
	case p.get("PhoneNumber") != "":
		return "", "", invalidParameter("PhoneNumber Reason: the local stack does not emulate SMS")
	case topicArn != "" && targetArn != "":
		return "", "", invalidParameter("TopicArn or TargetArn Reason: Only one of TopicArn or TargetArn may be specified")
	case topicArn != "":
		return "TopicArn", topicArn, nil
	case targetArn != "":
		return "TargetArn", targetArn, nil
	}
	return "", "", invalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
}

// checkMessageStructure applies MessageStructure: with "json" the message
// must be a JSON object with a string "default" entry.
func checkMessageStructure(structure, body string) *localaws.APIError {
	switch structure {
	case "":
		return nil
	case "json":
	default:
		return invalidParameter("MessageStructure")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return invalidParameter("Message Structure - JSON message body failed to parse")
	}
	var def string
	if raw, ok := doc["default"]; !ok || json.Unmarshal(raw, &def) != nil {
		return invalidParameter("Message Structure - No default entry in JSON message body")
	}
	return nil
}

// validSubject applies the Subject rule of the Publish API reference:
// ASCII text that begins with a letter, number or punctuation mark, with
// no line breaks or control characters, at most 100 characters long. (The
// reference says "less than 100"; SNS accepts 100.) That is 1 to 100
// printable ASCII characters, the first not a space. The SDK's newer
// documentation speaks of UTF-8 subjects; the emulator keeps the stricter
// rule, so a subject it accepts is accepted everywhere.
func validSubject(subject string) bool {
	if subject == "" || len(subject) > MaxSubjectLen || subject[0] == ' ' {
		return false
	}
	for i := 0; i < len(subject); i++ {
		if c := subject[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Published returns a copy of the messages published to topicArn, oldest
// first. Messages stay recorded after their topic is deleted.
func (s *Service) Published(topicArn string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.published[topicArn])
}

// WaitPublished waits until at least n messages have been published to
// topicArn since the Service was created, and returns a copy of all of
// them, oldest first. It fails when ctx ends first.
func (s *Service) WaitPublished(ctx context.Context, topicArn string, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		msgs, changed := s.published[topicArn], s.changed
		if len(msgs) >= n {
			out := slices.Clone(msgs)
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %d messages on %s (%d published): %w", n, topicArn, len(msgs), ctx.Err())
		}
	}
}
