package snssim

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// APIVersion is the SNS API version the emulator speaks.
const APIVersion = "2010-03-31"

// Operation names, as the call log records them.
const (
	OpCreateTopic              = "CreateTopic"
	OpDeleteTopic              = "DeleteTopic"
	OpListTopics               = "ListTopics"
	OpGetTopicAttributes       = "GetTopicAttributes"
	OpSubscribe                = "Subscribe"
	OpListSubscriptionsByTopic = "ListSubscriptionsByTopic"
	OpPublish                  = "Publish"
)

// handler executes one operation with the service lock held and returns
// the content of the {Op}Result element (nil for none) or an API error.
type handler func(s *Service, call *localaws.Call, p params) (any, *localaws.APIError)

var operations = map[string]handler{
	OpCreateTopic:              (*Service).createTopic,
	OpDeleteTopic:              (*Service).deleteTopic,
	OpListTopics:               (*Service).listTopics,
	OpGetTopicAttributes:       (*Service).getTopicAttributes,
	OpSubscribe:                (*Service).subscribe,
	OpListSubscriptionsByTopic: (*Service).listSubscriptionsByTopic,
	OpPublish:                  (*Service).publish,
}

// Operations lists the actions the emulator implements, sorted.
func Operations() []string {
	out := make([]string, 0, len(operations))
	for name := range operations {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Options configure a Service. Zero values take the defaults.
type Options struct {
	// AccountID owns the topics and names their ARNs (default
	// localaws.DefaultAccountID).
	AccountID string
	// Region places topics when a call's credential scope names none
	// (default "us-east-1"); otherwise the scope's region is used, as SNS
	// is regional.
	Region string
	// Now is the clock of publication times (default time.Now).
	Now func() time.Time
}

// topic is one standard topic.
type topic struct {
	arn, name, region string
	attrs             map[string]string // attributes set at creation, DisplayName among them
	subs              []*subscription   // oldest first
}

// subscription is one subscription of a topic.
type subscription struct {
	arn, protocol, endpoint string
	attrs                   map[string]string // attributes set at creation
	pending                 bool              // waiting for a confirmation
}

// Service is the emulated SNS of one account. It implements
// localaws.Service and is safe for concurrent use. The zero value is not
// usable; call New.
type Service struct {
	opts Options

	mu        sync.Mutex
	topics    map[string]*topic    // by ARN
	published map[string][]Message // by topic ARN, oldest first
	changed   chan struct{}        // closed and replaced when a message is published
}

var _ localaws.Service = (*Service)(nil)

// New returns an SNS with no topics.
func New(opts Options) *Service {
	if opts.AccountID == "" {
		opts.AccountID = localaws.DefaultAccountID
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts, topics: map[string]*topic{}, published: map[string][]Message{},
		changed: make(chan struct{})}
}

// SigningName implements localaws.Service.
func (s *Service) SigningName() string { return "sns" }

// Operation implements localaws.Service: it reads Action from the form.
// Actions the emulator does not implement are named in the call log and
// refused with InvalidAction.
func (s *Service) Operation(r *http.Request, body []byte) (string, error) {
	p, perr := parseParams(r, body)
	if perr != nil {
		return "", perr
	}
	action := p.get("Action")
	if action == "" {
		return "", localaws.BadRequest("MissingAction", "The request must contain the parameter Action")
	}
	if _, ok := operations[action]; !ok {
		return action, localaws.BadRequest(CodeInvalidAction, "The action %s is not valid for this web service.", action)
	}
	return action, nil
}

// ThrottleBucket implements localaws.Service: Publish draws from the SNS
// publish bucket. SNS's other actions have quotas of their own that the
// emulator does not model.
func (s *Service) ThrottleBucket(op string) string {
	if op == OpPublish {
		return localaws.BucketSNS
	}
	return ""
}

// ThrottleError implements localaws.Service: SNS's ThrottledException,
// code Throttled, which its model sends with HTTP 429.
func (s *Service) ThrottleError() *localaws.APIError {
	return localaws.Errorf(http.StatusTooManyRequests, CodeThrottled, "Rate exceeded")
}

// Serve implements localaws.Service.
func (s *Service) Serve(w http.ResponseWriter, call *localaws.Call) {
	p, perr := parseParams(call.Request, call.Body)
	if perr != nil {
		writeError(w, call, perr)
		return
	}
	h, ok := operations[call.Operation]
	if !ok {
		writeError(w, call, localaws.BadRequest(CodeInvalidAction, "The action %s is not valid for this web service.", call.Operation))
		return
	}
	result, apiErr := s.execute(h, call, p)
	if apiErr != nil {
		writeError(w, call, apiErr)
		return
	}
	writeResponse(w, call, call.Operation, result)
}

// execute runs a handler under the service lock. A panic in a handler
// becomes an InternalError answer instead of a held lock.
func (s *Service) execute(h handler, call *localaws.Call, p params) (result any, apiErr *localaws.APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			result, apiErr = nil, localaws.Errorf(http.StatusInternalServerError, CodeInternalError,
				"the local stack failed executing %s: %v", call.Operation, r)
		}
	}()
	return h(s, call, p)
}

// WriteError implements localaws.Service: SNS's <ErrorResponse> document.
func (s *Service) WriteError(w http.ResponseWriter, call *localaws.Call, e *localaws.APIError) {
	writeError(w, call, e)
}

// region is the region of a call: its credential scope's, else the default.
func (s *Service) region(call *localaws.Call) string {
	if call != nil && call.Region != "" {
		return call.Region
	}
	return s.opts.Region
}

// topicARN is the ARN of the topic name in region.
func (s *Service) topicARN(region, name string) string {
	return "arn:aws:sns:" + region + ":" + s.opts.AccountID + ":" + name
}

// parsedARN is an SNS ARN split into its fields.
type parsedARN struct {
	partition, region, account, resource string
}

// parseSNSARN splits arn:<partition>:sns:<region>:<account>:<resource>.
func parseSNSARN(arn string) (parsedARN, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" {
		return parsedARN{}, false
	}
	a := parsedARN{partition: parts[1], region: parts[3], account: parts[4], resource: parts[5]}
	if a.partition == "" || a.region == "" || a.account == "" || a.resource == "" {
		return parsedARN{}, false
	}
	return a, true
}

// findTopic resolves the topic ARN given in the parameter param of a
// call. A well-formed ARN is recorded in the call log whether or not the
// topic exists, since IAM authorizes the call against it. It answers
// InvalidParameter for a missing or malformed ARN, or one of another
// region (SNS serves only its own region's topics), and NotFound for a
// topic the account does not hold. Callers hold s.mu.
func (s *Service) findTopic(call *localaws.Call, param, arn string) (*topic, *localaws.APIError) {
	a, ok := parseSNSARN(arn)
	if !ok || !validTopicName(a.resource) {
		return nil, invalidParameter("%s", param)
	}
	call.AddResource(arn)
	if a.region != s.region(call) {
		return nil, invalidParameter("%s Reason: the topic is in region %s, the call in %s", param, a.region, s.region(call))
	}
	t := s.topics[arn]
	if t == nil {
		return nil, topicNotFound()
	}
	return t, nil
}
