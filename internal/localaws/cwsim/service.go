package cwsim

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/switchyard/switchyard/internal/localaws"
)

// EventPublisher receives the EventBridge events of alarm state changes, as
// JSON. *eventbus.Bus satisfies it.
type EventPublisher interface {
	Publish(ctx context.Context, event []byte) error
}

// Options configure a Service. Zero values take the defaults.
type Options struct {
	// AccountID names alarm ARNs and events (default "123456789012").
	AccountID string
	// Region is used for alarm ARNs when a call's credential scope names
	// none (default "us-east-1").
	Region string
	// Now is the service clock: default timestamps of datapoints, the
	// accepted timestamp window, alarm state timestamps and the ticker's
	// evaluation time (default time.Now).
	Now func() time.Time
	// Publisher receives alarm state change events; nil drops them (they are
	// still kept, see StateChangeEvents).
	Publisher EventPublisher
	// EvaluationInterval is the ticker period of Start (default 1s).
	EvaluationInterval time.Duration
	// ExtraEvaluationPeriods is how many periods beyond EvaluationPeriods
	// the evaluation range holds (default 2: the user guide's example
	// retrieves 5 datapoints for 3 evaluation periods).
	ExtraEvaluationPeriods int
	// Retention is how long datapoints are kept (default 15 days).
	Retention time.Duration
}

// Service is the emulated CloudWatch. Safe for concurrent use.
type Service struct {
	opts Options

	// evalMu serialises alarm state changes with the publication of their
	// events, so events leave in the order the states changed.
	evalMu sync.Mutex

	mu      sync.Mutex
	metrics map[string]*series
	alarms  map[string]*alarm
	events  [][]byte
	pubErrs []error

	tickMu sync.Mutex
	stop   chan struct{}
	done   chan struct{}
}

var _ localaws.Service = (*Service)(nil)

// New returns an empty CloudWatch service. Call Start to evaluate alarms on a
// ticker, or EvaluateNow to drive evaluation yourself.
func New(opts Options) *Service {
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EvaluationInterval <= 0 {
		opts.EvaluationInterval = time.Second
	}
	if opts.ExtraEvaluationPeriods <= 0 {
		opts.ExtraEvaluationPeriods = 2
	}
	if opts.Retention <= 0 {
		opts.Retention = 15 * 24 * time.Hour
	}
	return &Service{opts: opts, metrics: map[string]*series{}, alarms: map[string]*alarm{}}
}

type handler func(s *Service, call *localaws.Call, in cbor.Map) (cbor.Map, *localaws.APIError)

var handlers = map[string]handler{
	"PutMetricData":  (*Service).putMetricData,
	"GetMetricData":  (*Service).getMetricData,
	"PutMetricAlarm": (*Service).putMetricAlarm,
	"DescribeAlarms": (*Service).describeAlarms,
	"SetAlarmState":  (*Service).setAlarmState,
	"DeleteAlarms":   (*Service).deleteAlarms,
}

// SigningName implements localaws.Service.
func (s *Service) SigningName() string { return "monitoring" }

// Operation implements localaws.Service: the operation is the last segment
// of /service/GraniteServiceVersion20100801/operation/<Op>.
func (s *Service) Operation(r *http.Request, _ []byte) (string, error) {
	op, ok := strings.CutPrefix(r.URL.Path, operationPathStart)
	if !ok || op == "" || strings.Contains(op, "/") {
		return "", localaws.Errorf(http.StatusNotFound, "UnknownOperationException",
			"no CloudWatch operation at %s %s (the local stack speaks the RPC v2 CBOR protocol only)", r.Method, r.URL.Path)
	}
	if r.Method != http.MethodPost {
		return op, localaws.Errorf(http.StatusMethodNotAllowed, "UnknownOperationException", "operations must be called with POST, not %s", r.Method)
	}
	if got := r.Header.Get(protocolHeader); got != protocolValue {
		return op, localaws.BadRequest("InvalidRequest", "header %s must be %q, got %q", protocolHeader, protocolValue, got)
	}
	if _, ok := handlers[op]; !ok {
		return op, localaws.BadRequest("InvalidAction", "the operation %s is not implemented by the local stack", op)
	}
	return op, nil
}

// ThrottleBucket implements localaws.Service: every operation draws from the
// CloudWatch bucket.
func (s *Service) ThrottleBucket(string) string { return localaws.BucketCloudWatch }

// ThrottleError implements localaws.Service with CloudWatch's throttling error.
func (s *Service) ThrottleError() *localaws.APIError {
	return localaws.BadRequest("Throttling", "Rate exceeded")
}

// Serve implements localaws.Service.
func (s *Service) Serve(w http.ResponseWriter, call *localaws.Call) {
	body, apiErr := requestBody(call)
	var in cbor.Map
	if apiErr == nil {
		in, apiErr = decodeBody(body)
	}
	if apiErr == nil {
		h := handlers[call.Operation]
		var out cbor.Map
		if out, apiErr = h(s, call, in); apiErr == nil {
			writeCBOR(w, http.StatusOK, out)
			return
		}
	}
	s.WriteError(w, call, apiErr)
}

// requestBody returns the body of call, gunzipped when the client compressed
// it (the SDK gzips PutMetricData bodies over 10 KiB).
func requestBody(call *localaws.Call) ([]byte, *localaws.APIError) {
	if call.Request == nil || !strings.Contains(call.Request.Header.Get("Content-Encoding"), "gzip") {
		return call.Body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(call.Body))
	if err != nil {
		return nil, localaws.BadRequest("SerializationException", "the gzip request body is corrupt: %v", err)
	}
	defer zr.Close()
	body, err := io.ReadAll(io.LimitReader(zr, maxRequestBytes+1))
	if err != nil {
		return nil, localaws.BadRequest("SerializationException", "the gzip request body is corrupt: %v", err)
	}
	if len(body) > maxRequestBytes {
		return nil, localaws.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the request body exceeds %d bytes", maxRequestBytes)
	}
	return body, nil
}

// maxRequestBytes bounds a decompressed request body; PutMetricData requests
// are limited to 1 MB.
const maxRequestBytes = 1 << 20

// WriteError implements localaws.Service.
func (s *Service) WriteError(w http.ResponseWriter, call *localaws.Call, err *localaws.APIError) {
	call.MarkError(err.Code)
	writeError(w, err)
}

// Start evaluates every alarm each EvaluationInterval until Stop. Calling
// Start on a running service does nothing.
func (s *Service) Start() {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	if s.stop != nil {
		return
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.tick(s.stop, s.done)
}

// Stop ends the ticker started by Start and waits for a running evaluation
// to finish. It is safe to call when not started.
func (s *Service) Stop() {
	s.tickMu.Lock()
	stop, done := s.stop, s.done
	s.stop, s.done = nil, nil
	s.tickMu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-done
}

func (s *Service) tick(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.opts.EvaluationInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.EvaluateNow(s.opts.Now())
		}
	}
}

func (s *Service) regionOf(call *localaws.Call) string {
	if call != nil && call.Region != "" {
		return call.Region
	}
	return s.opts.Region
}
