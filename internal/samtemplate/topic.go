package samtemplate

// Topic is an AWS::SNS::Topic with its inline subscriptions.
type Topic struct {
	LogicalID string
	// TopicName is the TopicName property or <stack>-<LogicalId>; Arn
	// (what Ref returns) is arn:<partition>:sns:<region>:<account>:<name>.
	TopicName, Arn string
	Subscriptions  []Subscription
}

// Subscription is one entry of a topic's Subscription property.
type Subscription struct {
	Protocol, Endpoint string
}

func buildTopic(e *evaluator, r *resource) (*Topic, error) {
	props, err := e.props(r)
	if err != nil {
		return nil, err
	}
	path := "Resources." + r.id + ".Properties"
	p := &reader{m: props, path: path}
	t := &Topic{LogicalID: r.id}
	p.str("TopicName")
	readers := []*reader{p}
	for _, s := range p.list("Subscription") {
		t.Subscriptions = append(t.Subscriptions, Subscription{Protocol: s.required("Protocol"), Endpoint: s.required("Endpoint")})
		readers = append(readers, s)
	}
	if err := collect(readers...); err != nil {
		return nil, err
	}
	if t.TopicName, err = e.physicalName(r.id, path); err != nil {
		return nil, err
	}
	if t.Arn, err = e.arn(r.id, path); err != nil {
		return nil, err
	}
	return t, nil
}
