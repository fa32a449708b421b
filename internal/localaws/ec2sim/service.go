package ec2sim

import (
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// APIVersion is the EC2 API version the emulator speaks.
const APIVersion = "2016-11-15"

// Default delays of the instance lifecycle. EC2 takes tens of seconds; the
// local stack keeps them short so a demo failover stays quick.
const (
	DefaultStopDelay  = 3 * time.Second
	DefaultStartDelay = 3 * time.Second
)

// handler executes one operation with the service lock held and returns the
// response body (a struct with a requestMeta) or an API error.
type handler func(s *Service, call *localaws.Call, p params) (response, *localaws.APIError)

// operation describes one emulated action.
type operation struct {
	handle   handler
	mutating bool
}

var operations = map[string]operation{
	"DescribeVpcs":                    {handle: (*Service).describeVpcs},
	"DescribeSubnets":                 {handle: (*Service).describeSubnets},
	"DescribeSecurityGroups":          {handle: (*Service).describeSecurityGroups},
	"DescribeRouteTables":             {handle: (*Service).describeRouteTables},
	"CreateRoute":                     {handle: (*Service).createRoute, mutating: true},
	"ReplaceRoute":                    {handle: (*Service).replaceRoute, mutating: true},
	"DescribeNetworkInterfaces":       {handle: (*Service).describeNetworkInterfaces},
	"ModifyNetworkInterfaceAttribute": {handle: (*Service).modifyNetworkInterfaceAttribute, mutating: true},
	"DescribeInstances":               {handle: (*Service).describeInstances},
	"DescribeInstanceStatus":          {handle: (*Service).describeInstanceStatus},
	"StopInstances":                   {handle: (*Service).stopInstances, mutating: true},
	"StartInstances":                  {handle: (*Service).startInstances, mutating: true},
	"DescribeAddresses":               {handle: (*Service).describeAddresses},
	"AssociateAddress":                {handle: (*Service).associateAddress, mutating: true},
	"DisassociateAddress":             {handle: (*Service).disassociateAddress, mutating: true},
	"CreateSnapshots":                 {handle: (*Service).createSnapshots, mutating: true},
	"DescribeSnapshots":               {handle: (*Service).describeSnapshots},
	"DescribeVpcEndpoints":            {handle: (*Service).describeVpcEndpoints},
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

var _ localaws.Service = (*Service)(nil)

// Service is the emulated EC2 of one account and region. It implements
// localaws.Service. The zero value is not usable; call New.
type Service struct {
	mu sync.Mutex
	model

	stopDelay  time.Duration
	startDelay time.Duration
	now        func() time.Time

	consistency Consistency // eventual consistency; zero is strong
	rng         *rand.Rand  // seeded by SetConsistency

	hooks      []func(instanceID, state string)
	events     []stateEvent // state changes not yet delivered to hooks
	delivering bool         // a goroutine is delivering events
	delivered  *sync.Cond   // on mu: broadcast when no event is queued or being delivered
}

// New returns a Service seeded with the network, instances and Elastic IPs
// of t. The topology is copied: later changes to t do not reach the
// service. A nil t gives an empty account in us-east-1.
func New(t *localaws.Topology) *Service {
	s := &Service{stopDelay: DefaultStopDelay, startDelay: DefaultStartDelay, now: time.Now}
	s.delivered = sync.NewCond(&s.mu)
	if t == nil {
		t = &localaws.Topology{}
	}
	s.model = seed(t, s.now())
	return s
}

// SigningName implements localaws.Service.
func (s *Service) SigningName() string { return "ec2" }

// Operation implements localaws.Service: it reads Action from the form.
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
		return action, localaws.BadRequest("InvalidAction", "The action %s is not valid for this web service.", action)
	}
	return action, nil
}

// ThrottleBucket implements localaws.Service: EC2 throttles describe calls
// and mutating calls in separate buckets.
func (s *Service) ThrottleBucket(op string) string {
	o, ok := operations[op]
	switch {
	case !ok:
		return ""
	case o.mutating:
		return localaws.BucketEC2Mutating
	default:
		return localaws.BucketEC2NonMutating
	}
}

// ThrottleError implements localaws.Service.
func (s *Service) ThrottleError() *localaws.APIError {
	return localaws.Errorf(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
}

// Serve implements localaws.Service.
func (s *Service) Serve(w http.ResponseWriter, call *localaws.Call) {
	p, perr := parseParams(call.Request, call.Body)
	if perr != nil {
		s.WriteError(w, call, perr)
		return
	}
	op, ok := operations[call.Operation]
	if !ok {
		s.WriteError(w, call, localaws.BadRequest("InvalidAction", "The action %s is not valid for this web service.", call.Operation))
		return
	}
	if dry, _ := p.boolean("DryRun"); dry {
		s.WriteError(w, call, localaws.Errorf(http.StatusPreconditionFailed, "DryRunOperation",
			"Request would have succeeded, but DryRun flag is set."))
		return
	}
	resp, apiErr := s.execute(op, call, p)
	// Hooks run outside the lock, after the state change they report.
	s.deliverEvents()
	if apiErr != nil {
		s.WriteError(w, call, apiErr)
		return
	}
	writeResponse(w, call.Operation, resp)
}

// execute runs a handler under the service lock. A panic in a handler
// becomes an InternalError answer instead of a held lock.
func (s *Service) execute(op operation, call *localaws.Call, p params) (resp response, apiErr *localaws.APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			resp, apiErr = nil, localaws.Errorf(http.StatusInternalServerError, "InternalError",
				"the local stack failed executing %s: %v", call.Operation, r)
		}
	}()
	return op.handle(s, call, p)
}

// WriteError implements localaws.Service: EC2's <Response><Errors> document.
func (s *Service) WriteError(w http.ResponseWriter, call *localaws.Call, e *localaws.APIError) {
	if call != nil {
		call.MarkError(e.Code)
	}
	writeError(w, e)
}

// SetStopDelay sets how long an instance stays "stopping" after
// StopInstances. Zero or less stops at once (still passing through
// "stopping").
func (s *Service) SetStopDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopDelay = d
}

// SetStartDelay sets how long an instance stays "pending" after StartInstances.
func (s *Service) SetStartDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startDelay = d
}
