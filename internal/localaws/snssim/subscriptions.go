package snssim

import (
	"maps"
	"net/mail"
	"net/url"
	"regexp"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Protocols of Subscribe.
const (
	ProtocolEmail     = "email"
	ProtocolEmailJSON = "email-json"
	ProtocolHTTPS     = "https"
	ProtocolSQS       = "sqs"
	ProtocolLambda    = "lambda"
)

// What Subscribe answers, and ListSubscriptionsByTopic shows, for a
// subscription waiting for its confirmation.
const (
	PendingConfirmation     = "pending confirmation"
	listPendingConfirmation = "PendingConfirmation"
)

// unemulatedProtocols are protocols SNS has that the emulator refuses.
var unemulatedProtocols = map[string]bool{"http": true, "sms": true, "application": true, "firehose": true}

// subscriptionAttributes are the attributes Subscribe accepts (the SDK's
// SubscribeInput documentation). They are kept, not acted on.
var subscriptionAttributes = map[string]bool{
	"DeliveryPolicy": true, "FilterPolicy": true, "FilterPolicyScope": true, "RawMessageDelivery": true,
	"RedrivePolicy": true, "SubscriptionRoleArn": true, "ReplayPolicy": true,
}

var (
	// sqsARN is a queue ARN: arn:<partition>:sqs:<region>:<account>:<queue>,
	// a queue name being 1 to 80 letters, digits, hyphens and underscores
	// (".fifo" allowed at the end).
	sqsARN = regexp.MustCompile(`^arn:[a-z-]+:sqs:[a-z0-9-]+:(\d{12}):[A-Za-z0-9_-]{1,80}(\.fifo)?$`)
	// lambdaARN is a function ARN, with an optional version or alias.
	lambdaARN = regexp.MustCompile(`^arn:[a-z-]+:lambda:[a-z0-9-]+:(\d{12}):function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$`)
)

type subscribeResult struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
}

// subscribe adds a subscription to a topic, or returns the one with the
// same protocol and endpoint (Subscribe is idempotent). Email and https
// subscriptions, and queues or functions of another account, wait for a
// confirmation: Subscribe answers "pending confirmation" unless
// ReturnSubscriptionArn asks for the ARN.
func (s *Service) subscribe(call *localaws.Call, p params) (any, *localaws.APIError) {
	t, err := s.findTopic(call, "TopicArn", p.get("TopicArn"))
	if err != nil {
		return nil, err
	}
	protocol, endpoint := p.get("Protocol"), p.get("Endpoint")
	returnARN, err := p.boolean("ReturnSubscriptionArn")
	if err != nil {
		return nil, err
	}
	attrs, err := p.stringMap("Attributes")
	if err != nil {
		return nil, err
	}
	for k := range attrs {
		if !subscriptionAttributes[k] {
			return nil, invalidParameter("Attributes Reason: Unknown attribute %s", k)
		}
	}
	pending, err := s.checkEndpoint(protocol, endpoint)
	if err != nil {
		return nil, err
	}
	answer := func(sub *subscription) (any, *localaws.APIError) {
		if sub.pending && !returnARN {
			return subscribeResult{SubscriptionArn: PendingConfirmation}, nil
		}
		return subscribeResult{SubscriptionArn: sub.arn}, nil
	}
	for _, sub := range t.subs {
		if sub.protocol == protocol && sub.endpoint == endpoint {
			if !maps.Equal(sub.attrs, attrs) {
				return nil, invalidParameter("Attributes Reason: Subscription already exists with different attributes")
			}
			return answer(sub)
		}
	}
	sub := &subscription{arn: t.arn + ":" + newUUID(), protocol: protocol, endpoint: endpoint, pending: pending, attrs: attrs}
	t.subs = append(t.subs, sub)
	return answer(sub)
}

// checkEndpoint validates the endpoint of a protocol, minimally, and tells
// whether the subscription will wait for a confirmation.
func (s *Service) checkEndpoint(protocol, endpoint string) (pending bool, err *localaws.APIError) {
	if protocol == "" {
		return false, invalidParameter("Protocol")
	}
	if endpoint == "" {
		return false, invalidParameter("Endpoint")
	}
	switch protocol {
	case ProtocolEmail, ProtocolEmailJSON:
		addr, perr := mail.ParseAddress(endpoint)
		if perr != nil || addr.Name != "" || addr.Address != endpoint {
			return false, invalidParameter("Email address")
		}
		return true, nil
	case ProtocolHTTPS:
		u, perr := url.Parse(endpoint)
		if perr != nil || u.Host == "" {
			return false, invalidParameter("Endpoint")
		}
		if !strings.EqualFold(u.Scheme, "https") {
			return false, invalidParameter("Endpoint must match the specified protocol")
		}
		return true, nil
	case ProtocolSQS:
		m := sqsARN.FindStringSubmatch(endpoint)
		if m == nil {
			return false, invalidParameter("SQS endpoint ARN")
		}
		return m[1] != s.opts.AccountID, nil
	case ProtocolLambda:
		m := lambdaARN.FindStringSubmatch(endpoint)
		if m == nil {
			return false, invalidParameter("Lambda endpoint ARN")
		}
		return m[1] != s.opts.AccountID, nil
	}
	if unemulatedProtocols[protocol] {
		return false, invalidParameter("Protocol Reason: the local stack does not emulate %s subscriptions", protocol)
	}
	return false, invalidParameter("Amazon SNS does not support this protocol string: %s", protocol)
}

type subscriptionXML struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
	Owner           string `xml:"Owner"`
	Protocol        string `xml:"Protocol"`
	Endpoint        string `xml:"Endpoint"`
	TopicArn        string `xml:"TopicArn"`
}

type listSubscriptionsByTopicResult struct {
	Subscriptions []subscriptionXML `xml:"Subscriptions>member"`
	NextToken     string            `xml:"NextToken,omitempty"`
}

// listSubscriptionsByTopic lists a topic's subscriptions, oldest first,
// 100 a page. A subscription waiting for its confirmation shows
// "PendingConfirmation" for an ARN, as SNS lists it.
func (s *Service) listSubscriptionsByTopic(call *localaws.Call, p params) (any, *localaws.APIError) {
	t, err := s.findTopic(call, "TopicArn", p.get("TopicArn"))
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(t.subs, func(sub *subscription) string { return sub.arn }, p.get("NextToken"))
	if err != nil {
		return nil, err
	}
	out := listSubscriptionsByTopicResult{Subscriptions: []subscriptionXML{}, NextToken: next}
	for _, sub := range page {
		arn := sub.arn
		if sub.pending {
			arn = listPendingConfirmation
		}
		out.Subscriptions = append(out.Subscriptions, subscriptionXML{SubscriptionArn: arn, Owner: s.opts.AccountID,
			Protocol: sub.protocol, Endpoint: sub.endpoint, TopicArn: t.arn})
	}
	return out, nil
}
