package ddbsim

import (
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// protocol is DynamoDB's awsJson1_0 dialect: error codes qualified by the
// service's shape namespace, and an X-Amz-Crc32 header the SDK checks.
var protocol = localaws.JSONProtocol{
	TargetPrefix:      "DynamoDB_20120810.",
	ContentType:       "application/x-amz-json-1.0",
	ErrorTypePrefix:   "com.amazonaws.dynamodb.v20120810#",
	InternalErrorCode: "InternalServerError",
	Header:            header,
}

// Options configure a Service. Zero values mean us-east-1, account
// 123456789012 and the wall clock.
type Options struct {
	Region    string
	AccountID string
	Now       func() time.Time
}

// Service is the emulated DynamoDB. It implements localaws.Service and is
// safe for concurrent use.
type Service struct {
	region  string
	account string
	now     func() time.Time

	mu     sync.Mutex // guards tables and every item in them
	tables map[string]*table
}

// New returns an empty DynamoDB.
func New(opts Options) *Service {
	s := &Service{region: opts.Region, account: opts.AccountID, now: opts.Now, tables: map[string]*table{}}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.account == "" {
		s.account = "123456789012"
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// SigningName implements localaws.Service.
func (s *Service) SigningName() string { return "dynamodb" }

// Operation implements localaws.Service: it reads the X-Amz-Target header.
func (s *Service) Operation(r *http.Request, _ []byte) (string, error) {
	return protocol.Operation(r, func(op string) bool { return handlers[op] != nil })
}

// ThrottleBucket implements localaws.Service: every call draws from the
// DynamoDB bucket.
func (s *Service) ThrottleBucket(string) string { return localaws.BucketDynamoDB }

// ThrottleError implements localaws.Service.
func (s *Service) ThrottleError() *localaws.APIError {
	return localaws.BadRequest("ThrottlingException", "Rate of requests exceeds the allowed throughput.")
}

type handler func(s *Service, call *localaws.Call) (any, error)

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"CreateTable":   (*Service).createTable,
		"DescribeTable": (*Service).describeTable,
		"DeleteTable":   (*Service).deleteTable,
		"ListTables":    (*Service).listTables,
		"GetItem":       (*Service).getItem,
		"PutItem":       (*Service).putItem,
		"UpdateItem":    (*Service).updateItem,
		"DeleteItem":    (*Service).deleteItem,
		"Query":         (*Service).query,
		// TransactWriteItems goes through the server's fault and
		// throttling hooks like every other operation.
		"TransactWriteItems": (*Service).transactWriteItems,
	}
}

// Serve implements localaws.Service.
func (s *Service) Serve(w http.ResponseWriter, call *localaws.Call) {
	out, err := handlers[call.Operation](s, call)
	var cf *conditionFailed
	if errors.As(err, &cf) {
		var extra map[string]any
		if cf.old != nil {
			extra = map[string]any{"Item": cf.old}
		}
		protocol.WriteErrorWith(w, call, localaws.BadRequest("ConditionalCheckFailedException", "The conditional request failed"), extra)
		return
	}
	var tc *transactionCanceled
	if errors.As(err, &tc) {
		protocol.WriteErrorWith(w, call, localaws.BadRequest("TransactionCanceledException", "%s", tc.Error()),
			map[string]any{"CancellationReasons": tc.reasons})
		return
	}
	protocol.Respond(w, call, out, err)
}

// WriteError implements localaws.Service: the awsJson1_0 error document.
func (s *Service) WriteError(w http.ResponseWriter, call *localaws.Call, e *localaws.APIError) {
	protocol.WriteError(w, call, e)
}

// conditionFailed is a ConditionalCheckFailedException that may carry the
// item that failed the check.
type conditionFailed struct {
	old item // nil unless ReturnValuesOnConditionCheckFailure is ALL_OLD
}

func (e *conditionFailed) Error() string { return "ConditionalCheckFailedException" }

// header adds the request id and the CRC32 of the body DynamoDB sends and
// the SDK checks.
func header(h http.Header, body []byte) {
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	h.Set("X-Amzn-RequestId", requestID())
}

var requestCounter struct {
	sync.Mutex
	n uint64
}

func requestID() string {
	requestCounter.Lock()
	defer requestCounter.Unlock()
	requestCounter.n++
	return fmt.Sprintf("LOCALDDB%020d", requestCounter.n)
}

func validation(format string, args ...any) *localaws.APIError {
	return localaws.BadRequest("ValidationException", format, args...)
}

// decode reads a request body into v. Attribute values report their own
// ValidationExceptions; anything else malformed is a SerializationException.
func decode(call *localaws.Call, v any) error { return protocol.Decode(call, v) }
