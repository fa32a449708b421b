package localaws

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Service is one emulated AWS service. Implementations must be safe for
// concurrent use: the Server calls them from many goroutines.
type Service interface {
	// SigningName is the SigV4 service name in the credential scope of
	// requests meant for this service: "ec2", "route53", "monitoring",
	// "states", "dynamodb", "secretsmanager", "sns".
	SigningName() string
	// Operation names the API operation a request asks for. It returns an
	// *APIError when the request names none the service knows.
	Operation(r *http.Request, body []byte) (string, error)
	// ThrottleBucket names the token bucket the operation draws from, or ""
	// when the operation is not throttled.
	ThrottleBucket(op string) string
	// ThrottleError is the error the service returns when a bucket is empty
	// (EC2: RequestLimitExceeded/503, Route 53: Throttling/400, ...).
	ThrottleError() *APIError
	// Serve executes the call and writes the response in the service's wire
	// format, errors included. It may add the resources it touched to call.
	Serve(w http.ResponseWriter, call *Call)
	// WriteError writes err in the service's wire format.
	WriteError(w http.ResponseWriter, call *Call, err *APIError)
}

// Call is one API call as the emulator received it.
type Call struct {
	Service     string   // signing name of the service
	Operation   string   // API operation, e.g. "ReplaceRoute"
	AccessKeyID string   // caller's access key id from the SigV4 credential scope
	Region      string   // region from the SigV4 credential scope
	Resources   []string // ids of the resources the call named or touched
	// ARNs are the resources IAM authorizes the call against, derived
	// from Resources and the request once the call is answered (none for
	// calls IAM authorizes only against "*").
	ARNs []string
	// Context holds the IAM condition keys of the request the emulator
	// can derive: cloudwatch:namespace, dynamodb:LeadingKeys,
	// route53:ChangeResourceRecordSetsNormalizedRecordNames.
	Context map[string][]string
	// Items are, for a DynamoDB TransactWriteItems, its actions as IAM
	// authorizes them: each item as its own PutItem, UpdateItem,
	// DeleteItem or ConditionCheckItem, on its table, with its own
	// dynamodb:LeadingKeys (ARNs and Context above sum them up).
	Items     []ItemCall
	Time      time.Time // when the call arrived
	ErrorCode string    // AWS error code returned, "" on success
	// Finished is set once the call is answered and its entry complete
	// (ARNs, Context and Items filled in): a copy of the log taken while
	// a call is in flight holds it unfinished.
	Finished bool
	Request  *http.Request
	Body     []byte
}

// callMu guards the Resources of every Call: services add to them from
// their own goroutines while the log may be read.
var callMu sync.Mutex

// AddResource records ids of resources the call touched. Safe for concurrent use.
func (c *Call) AddResource(ids ...string) {
	callMu.Lock()
	defer callMu.Unlock()
	for _, id := range ids {
		if id != "" {
			c.Resources = append(c.Resources, id)
		}
	}
}

// Server routes signed AWS requests to the registered services.
type Server struct {
	mu         sync.Mutex
	services   map[string]Service
	throttling bool
	buckets    map[string]*tokenBucket
	bucketDefs map[string]bucketDef
	faults     *Faults
	calls      []*Call
	now        func() time.Time
	accountID  string
	hashKeys   map[string]string // DynamoDB table → hash key attribute
}

// NewServer returns a Server with no services, throttling on and AWS's
// default bucket sizes for the services that document them.
func NewServer() *Server {
	s := &Server{
		services:   map[string]Service{},
		throttling: true,
		buckets:    map[string]*tokenBucket{},
		bucketDefs: map[string]bucketDef{},
		faults:     newFaults(),
		now:        time.Now,
		accountID:  DefaultAccountID,
		hashKeys:   map[string]string{},
	}
	for name, def := range DefaultBuckets {
		s.bucketDefs[name] = def
	}
	return s
}

// Register adds a service. A second service with the same signing name
// replaces the first.
func (s *Server) Register(svc Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services[svc.SigningName()] = svc
}

// SetThrottling switches token-bucket throttling on or off.
func (s *Server) SetThrottling(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttling = on
}

// SetBucket sets the size and refill rate of a named token bucket and refills it.
func (s *Server) SetBucket(name string, burst int, perSecond float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucketDefs[name] = bucketDef{Burst: burst, PerSecond: perSecond}
	delete(s.buckets, name)
}

// Faults returns the fault injector of this server.
func (s *Server) Faults() *Faults { return s.faults }

// Calls returns a copy of the call log, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	callMu.Lock()
	defer callMu.Unlock()
	out := make([]Call, 0, len(s.calls))
	for _, c := range s.calls {
		out = append(out, Call{
			Service: c.Service, Operation: c.Operation, AccessKeyID: c.AccessKeyID,
			Region: c.Region, Resources: append([]string(nil), c.Resources...),
			ARNs: append([]string(nil), c.ARNs...), Context: copyContext(c.Context), Items: copyItems(c.Items),
			Time: c.Time, ErrorCode: c.ErrorCode, Finished: c.Finished,
		})
	}
	return out
}

func copyContext(c map[string][]string) map[string][]string {
	if c == nil {
		return nil
	}
	out := make(map[string][]string, len(c))
	for k, v := range c {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// ResetCalls empties the call log.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	scope, ok := parseCredentialScope(r.Header.Get("Authorization"))
	if !ok {
		http.Error(w, "MissingAuthenticationToken: request is not signed with SigV4", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	svc := s.services[scope.Service]
	s.mu.Unlock()
	if svc == nil {
		http.Error(w, fmt.Sprintf("UnknownService: the local stack does not emulate %q", scope.Service), http.StatusBadRequest)
		return
	}
	call := &Call{Service: scope.Service, AccessKeyID: scope.AccessKeyID, Region: scope.Region,
		Time: s.now(), Request: r, Body: body}
	op, err := svc.Operation(r, body)
	call.Operation = op
	s.record(call)
	// The log entry is finished (annotated, then its payload dropped)
	// before the client can see the answer: a partitioned call finishes
	// it before closing the connection, every other call as the handler
	// returns, before net/http flushes the response.
	var finished sync.Once
	finish := func() {
		finished.Do(func() {
			s.annotate(call, body) // reads the body, so before release
			call.release()
		})
	}
	defer finish()
	if err != nil {
		s.fail(w, svc, call, asAPIError(err))
		return
	}
	if f := s.faults.match(call); f != nil {
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-r.Context().Done():
				return
			}
		}
		if f.Partition {
			call.MarkError("Partitioned")
			finish()
			hijackAndClose(w)
			return
		}
		if f.Error != nil {
			s.fail(w, svc, call, f.Error)
			return
		}
	}
	if bucket := svc.ThrottleBucket(op); bucket != "" && !s.take(bucket) {
		s.fail(w, svc, call, svc.ThrottleError())
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	svc.Serve(rec, call)
	callMu.Lock()
	if rec.status >= 400 && call.ErrorCode == "" {
		call.ErrorCode = fmt.Sprintf("HTTP%d", rec.status)
	}
	callMu.Unlock()
}

// MaxLoggedCalls bounds the call log of a long-running emulator: past it,
// the oldest half is dropped.
const MaxLoggedCalls = 100000

func (s *Server) record(c *Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) >= MaxLoggedCalls {
		s.calls = append([]*Call(nil), s.calls[len(s.calls)/2:]...)
	}
	s.calls = append(s.calls, c)
}

// release drops the request and its body once the call is answered (the
// log keeps what a check needs, not every payload) and marks the entry
// finished.
func (c *Call) release() {
	callMu.Lock()
	defer callMu.Unlock()
	c.Request, c.Body = nil, nil
	c.Finished = true
}

func (s *Server) fail(w http.ResponseWriter, svc Service, call *Call, e *APIError) {
	call.MarkError(e.Code)
	svc.WriteError(w, call, e)
}

func (s *Server) take(bucket string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.throttling {
		return true
	}
	b := s.buckets[bucket]
	if b == nil {
		def, ok := s.bucketDefs[bucket]
		if !ok {
			return true
		}
		b = newTokenBucket(def, s.now())
		s.buckets[bucket] = b
	}
	return b.take(s.now())
}

// MarkError lets a service record the AWS error code it answered with, so
// the call log shows it. WriteError implementations call it.
func (c *Call) MarkError(code string) {
	callMu.Lock()
	defer callMu.Unlock()
	c.ErrorCode = code
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func hijackAndClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	if rec, ok := w.(*statusRecorder); ok {
		hijackAndClose(rec.ResponseWriter)
	}
}

type credentialScope struct {
	AccessKeyID, Date, Region, Service string
}

// parseCredentialScope reads "AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ec2/aws4_request, ...".
// The emulator does not check signatures: it trusts the scope, as a test
// fixture may.
func parseCredentialScope(auth string) (credentialScope, bool) {
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return credentialScope{}, false
	}
	rest := auth[i+len("Credential="):]
	if j := strings.IndexAny(rest, ", "); j >= 0 {
		rest = rest[:j]
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 {
		return credentialScope{}, false
	}
	return credentialScope{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}, true
}
