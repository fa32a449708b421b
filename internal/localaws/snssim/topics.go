package snssim

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Topic name rule: 1 to 256 ASCII letters, digits, hyphens and
// underscores; a FIFO topic's name ends in ".fifo", counted in the 256.
const (
	maxTopicNameLen = 256
	fifoSuffix      = ".fifo"
)

// Message size limits of the MaximumMessageSize attribute (CreateTopic
// documentation): the default is 256 KiB, the range 1 KiB to 1 MiB.
const (
	DefaultMaxMessageSize = 262144
	minMaxMessageSize     = 1024
	maxMaxMessageSize     = 1048576
)

// pageSize is how many topics ListTopics and how many subscriptions
// ListSubscriptionsByTopic return at most per page, as SNS documents.
const pageSize = 100

// topicAttributes are the attributes CreateTopic accepts (the SDK's
// CreateTopicInput documentation). The emulator keeps them and shows them
// in GetTopicAttributes; only DisplayName, MaximumMessageSize and FifoTopic
// change its behaviour.
var topicAttributes = map[string]bool{
	"DeliveryPolicy": true, "DisplayName": true, "MaximumMessageSize": true, "Policy": true,
	"SignatureVersion": true, "TracingConfig": true, "KmsMasterKeyId": true, "ArchivePolicy": true,
	"FifoTopic": true, "ContentBasedDeduplication": true, "FifoThroughputScope": true,
	"HTTPSuccessFeedbackRoleArn": true, "HTTPSuccessFeedbackSampleRate": true, "HTTPFailureFeedbackRoleArn": true,
	"FirehoseSuccessFeedbackRoleArn": true, "FirehoseSuccessFeedbackSampleRate": true, "FirehoseFailureFeedbackRoleArn": true,
	"LambdaSuccessFeedbackRoleArn": true, "LambdaSuccessFeedbackSampleRate": true, "LambdaFailureFeedbackRoleArn": true,
	"ApplicationSuccessFeedbackRoleArn": true, "ApplicationSuccessFeedbackSampleRate": true, "ApplicationFailureFeedbackRoleArn": true,
	"SQSSuccessFeedbackRoleArn": true, "SQSSuccessFeedbackSampleRate": true, "SQSFailureFeedbackRoleArn": true,
}

// fifoOnlyAttributes may only be set on FIFO topics.
var fifoOnlyAttributes = []string{"ContentBasedDeduplication", "FifoThroughputScope"}

// validTopicName reports whether name follows SNS's topic name rule, a
// ".fifo" suffix allowed.
func validTopicName(name string) bool {
	if len(name) > maxTopicNameLen {
		return false
	}
	base := strings.TrimSuffix(name, fifoSuffix)
	if base == "" {
		return false
	}
	for _, r := range base {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

type createTopicResult struct {
	TopicArn string `xml:"TopicArn"`
}

// createTopic creates a standard topic, or returns the ARN of the topic of
// that name when it exists with the same attributes (CreateTopic is
// idempotent). FIFO topics are refused: the emulator does not model
// message groups and deduplication.
func (s *Service) createTopic(call *localaws.Call, p params) (any, *localaws.APIError) {
	name := p.get("Name")
	attrs, aerr := p.stringMap("Attributes")
	if aerr != nil {
		return nil, aerr
	}
	for k := range attrs {
		if !topicAttributes[k] {
			return nil, invalidParameter("Attributes Reason: Unknown attribute %s", k)
		}
	}
	fifo := false
	if v, ok := attrs["FifoTopic"]; ok {
		switch strings.ToLower(v) {
		case "true":
			fifo = true
		case "false":
		default:
			return nil, invalidParameter("Attributes Reason: FifoTopic: Invalid value [%s]", v)
		}
	}
	if !validTopicName(name) || (strings.HasSuffix(name, fifoSuffix) && !fifo) {
		return nil, invalidParameter("Topic Name")
	}
	arn := s.topicARN(s.region(call), name)
	call.AddResource(arn)
	if fifo {
		return nil, invalidParameter("Attributes Reason: FifoTopic: the local stack does not emulate FIFO topics")
	}
	for _, k := range fifoOnlyAttributes {
		if _, ok := attrs[k]; ok {
			return nil, invalidParameter("Attributes Reason: %s is only valid for FIFO topics", k)
		}
	}
	if v, ok := attrs["MaximumMessageSize"]; ok {
		if n, err := strconv.Atoi(v); err != nil || n < minMaxMessageSize || n > maxMaxMessageSize {
			return nil, invalidParameter("Attributes Reason: MaximumMessageSize: Invalid value [%s]: must be between %d and %d",
				v, minMaxMessageSize, maxMaxMessageSize)
		}
	}
	if t := s.topics[arn]; t != nil {
		for k, v := range attrs {
			if t.attrs[k] != v {
				return nil, invalidParameter("Attributes Reason: Topic already exists with different attributes")
			}
		}
		return createTopicResult{TopicArn: arn}, nil
	}
	s.topics[arn] = &topic{arn: arn, name: name, region: s.region(call), attrs: attrs}
	return createTopicResult{TopicArn: arn}, nil
}

// deleteTopic deletes a topic and its subscriptions. Deleting a topic that
// does not exist succeeds, as SNS documents. Messages published to the
// topic stay recorded (see Published).
func (s *Service) deleteTopic(call *localaws.Call, p params) (any, *localaws.APIError) {
	t, err := s.findTopic(call, "TopicArn", p.get("TopicArn"))
	switch {
	case err != nil && err.Code == CodeNotFound:
		return nil, nil
	case err != nil:
		return nil, err
	}
	delete(s.topics, t.arn)
	return nil, nil
}

type topicXML struct {
	TopicArn string `xml:"TopicArn"`
}

type listTopicsResult struct {
	Topics    []topicXML `xml:"Topics>member"`
	NextToken string     `xml:"NextToken,omitempty"`
}

// listTopics lists the topics of the call's region, 100 a page, by ARN.
func (s *Service) listTopics(call *localaws.Call, p params) (any, *localaws.APIError) {
	region := s.region(call)
	var arns []string
	for arn, t := range s.topics {
		if t.region == region {
			arns = append(arns, arn)
		}
	}
	sort.Strings(arns)
	page, next, err := paginate(arns, func(a string) string { return a }, p.get("NextToken"))
	if err != nil {
		return nil, err
	}
	out := listTopicsResult{Topics: []topicXML{}, NextToken: next}
	for _, arn := range page {
		out.Topics = append(out.Topics, topicXML{TopicArn: arn})
	}
	return out, nil
}

type attributeEntry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type getTopicAttributesResult struct {
	Attributes []attributeEntry `xml:"Attributes>entry"`
}

// getTopicAttributes answers the attributes set at creation and those SNS
// computes: TopicArn, Owner, DisplayName, Policy (the default access
// policy unless one was set), SubscriptionsConfirmed, SubscriptionsPending
// and SubscriptionsDeleted (always 0: Unsubscribe is not emulated).
func (s *Service) getTopicAttributes(call *localaws.Call, p params) (any, *localaws.APIError) {
	t, err := s.findTopic(call, "TopicArn", p.get("TopicArn"))
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{"DisplayName": "", "Policy": s.defaultPolicy(t.arn)}
	for k, v := range t.attrs {
		attrs[k] = v
	}
	confirmed, pending := 0, 0
	for _, sub := range t.subs {
		if sub.pending {
			pending++
		} else {
			confirmed++
		}
	}
	attrs["TopicArn"] = t.arn
	attrs["Owner"] = s.opts.AccountID
	attrs["SubscriptionsConfirmed"] = strconv.Itoa(confirmed)
	attrs["SubscriptionsPending"] = strconv.Itoa(pending)
	attrs["SubscriptionsDeleted"] = "0"
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := getTopicAttributesResult{}
	for _, k := range keys {
		out.Attributes = append(out.Attributes, attributeEntry{Key: k, Value: attrs[k]})
	}
	return out, nil
}

// defaultPolicy is the access policy SNS gives a topic created without
// one: the owner account may do everything to it.
func (s *Service) defaultPolicy(arn string) string {
	doc := map[string]any{
		"Version": "2008-10-17",
		"Id":      "__default_policy_ID",
		"Statement": []map[string]any{{
			"Sid":       "__default_statement_ID",
			"Effect":    "Allow",
			"Principal": map[string]string{"AWS": "*"},
			"Action": []string{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
				"SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
			"Resource":  arn,
			"Condition": map[string]any{"StringEquals": map[string]string{"AWS:SourceOwner": s.opts.AccountID}},
		}},
	}
	out, _ := json.Marshal(doc) // a map of strings always encodes
	return string(out)
}

// maxMessageSize is the largest message the topic accepts, in bytes.
func (t *topic) maxMessageSize() int {
	if n, err := strconv.Atoi(t.attrs["MaximumMessageSize"]); err == nil {
		return n
	}
	return DefaultMaxMessageSize
}

// paginate returns the page of items after the one named by token (the
// first page when token is empty) and the token of the next page ("" on
// the last). A token names the last item returned rather than an offset,
// so pages stay consistent while the list changes. When that item has
// gone, the page starts at the first item whose key sorts after it, which
// is right for lists sorted by key (topics); subscriptions never go one by
// one, only with their topic.
func paginate[T any](items []T, key func(T) string, token string) ([]T, string, *localaws.APIError) {
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(raw) == 0 {
			return nil, "", invalidParameter("NextToken")
		}
		after := string(raw)
		start = len(items)
		for i, it := range items {
			if k := key(it); k == after {
				start = i + 1
				break
			} else if k > after && i < start {
				start = i
			}
		}
	}
	end := min(start+pageSize, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))
	}
	return items[start:end], next, nil
}
