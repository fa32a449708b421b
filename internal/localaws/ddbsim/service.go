package ddbsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

const (
	targetPrefix = "DynamoDB_20120810."
	errorPrefix  = "com.amazonaws.dynamodb.v20120810#"
	contentType  = "application/x-amz-json-1.0"
)

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
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	if !ok || handlers[op] == nil {
		return op, localaws.BadRequest("UnknownOperationException", "Unknown operation %q", target)
	}
	return op, nil
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
	}
}

// Serve implements localaws.Service.
func (s *Service) Serve(w http.ResponseWriter, call *localaws.Call) {
	out, err := handlers[call.Operation](s, call)
	if err != nil {
		s.writeFailure(w, call, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		s.WriteError(w, call, localaws.Errorf(http.StatusInternalServerError, "InternalServerError", "encoding response: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// WriteError implements localaws.Service: the awsJson1_0 error document.
func (s *Service) WriteError(w http.ResponseWriter, call *localaws.Call, e *localaws.APIError) {
	call.MarkError(e.Code)
	body, _ := json.Marshal(map[string]string{"__type": errorPrefix + e.Code, "message": e.Message})
	writeJSON(w, e.HTTPStatus, body)
}

// conditionFailed is a ConditionalCheckFailedException that may carry the
// item that failed the check.
type conditionFailed struct {
	old item // nil unless ReturnValuesOnConditionCheckFailure is ALL_OLD
}

func (e *conditionFailed) Error() string { return "ConditionalCheckFailedException" }

func (s *Service) writeFailure(w http.ResponseWriter, call *localaws.Call, err error) {
	var cf *conditionFailed
	if errors.As(err, &cf) {
		call.MarkError("ConditionalCheckFailedException")
		doc := map[string]any{"__type": errorPrefix + "ConditionalCheckFailedException", "message": "The conditional request failed"}
		if cf.old != nil {
			doc["Item"] = cf.old
		}
		body, _ := json.Marshal(doc)
		writeJSON(w, http.StatusBadRequest, body)
		return
	}
	var ae *localaws.APIError
	if !errors.As(err, &ae) {
		ae = localaws.Errorf(http.StatusInternalServerError, "InternalServerError", "%v", err)
	}
	s.WriteError(w, call, ae)
}

// writeJSON answers with the CRC32 header DynamoDB sends and the SDK checks.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.Header().Set("X-Amzn-RequestId", requestID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
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
func decode(call *localaws.Call, v any) error {
	dec := json.NewDecoder(bytes.NewReader(call.Body))
	if err := dec.Decode(v); err != nil {
		var ae *localaws.APIError
		if errors.As(err, &ae) {
			return ae
		}
		return localaws.BadRequest("SerializationException", "%v", err)
	}
	return nil
}
