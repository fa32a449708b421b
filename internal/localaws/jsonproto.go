package localaws

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
)

// JSONProtocol is the wire plumbing of the services that speak AWS's JSON
// protocols: awsJson1_0 (DynamoDB, Step Functions) and awsJson1_1 (Secrets
// Manager). The X-Amz-Target header names the operation as a prefix and
// the operation name; a request and a result are JSON documents; an error
// is a {"__type": ..., "message": ...} document sent with the error's HTTP
// status. What differs between those services is a field here, so that a
// service's Operation, Serve and WriteError stay short. A JSONProtocol is
// read-only once set up and safe for concurrent use.
type JSONProtocol struct {
	// TargetPrefix starts the X-Amz-Target header of every call, such as
	// "DynamoDB_20120810." or "AWSStepFunctions.".
	TargetPrefix string
	// ContentType is the media type of every response:
	// "application/x-amz-json-1.0" or "application/x-amz-json-1.1".
	ContentType string
	// ErrorTypePrefix goes before the error code in __type. DynamoDB
	// qualifies its codes ("com.amazonaws.dynamodb.v20120810#"); the
	// other services leave it empty.
	ErrorTypePrefix string
	// InternalErrorCode is the code of the 500 error sent for a failure
	// that is not an *APIError, or a result that cannot be encoded.
	InternalErrorCode string
	// Header, when set, adds the service's own headers (a request id, a
	// checksum) to every response, given the response body.
	Header func(h http.Header, body []byte)
}

// Operation returns the operation named by r's X-Amz-Target header. When
// the header lacks TargetPrefix, or known refuses the name, it returns an
// UnknownOperationException along with what follows the prefix (the whole
// header when the prefix is missing), for the call log.
func (p *JSONProtocol) Operation(r *http.Request, known func(op string) bool) (string, error) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, p.TargetPrefix)
	if !ok || !known(op) {
		return op, BadRequest("UnknownOperationException", "Unknown operation %q", target)
	}
	return op, nil
}

// Decode reads the JSON request body of call into v. An *APIError raised
// while decoding (a field's own validation) is returned as it is; any
// other malformed input is a SerializationException.
func (p *JSONProtocol) Decode(call *Call, v any) error {
	if err := json.NewDecoder(bytes.NewReader(call.Body)).Decode(v); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return ae
		}
		return BadRequest("SerializationException", "%v", err)
	}
	return nil
}

// Respond answers a call with out as a 200 JSON document, or with err
// when it is not nil (see Fail).
func (p *JSONProtocol) Respond(w http.ResponseWriter, call *Call, out any, err error) {
	if err != nil {
		p.Fail(w, call, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		p.WriteError(w, call, Errorf(http.StatusInternalServerError, p.InternalErrorCode, "encoding response: %v", err))
		return
	}
	p.Write(w, http.StatusOK, body)
}

// Fail answers a call with err: an *APIError as it is, anything else as a
// 500 InternalErrorCode.
func (p *JSONProtocol) Fail(w http.ResponseWriter, call *Call, err error) {
	var ae *APIError
	if !errors.As(err, &ae) {
		ae = Errorf(http.StatusInternalServerError, p.InternalErrorCode, "%v", err)
	}
	p.WriteError(w, call, ae)
}

// WriteError records e's code in the call log and writes e's error
// document with e's HTTP status (400 when it has none). It fits
// Service.WriteError.
func (p *JSONProtocol) WriteError(w http.ResponseWriter, call *Call, e *APIError) {
	p.WriteErrorWith(w, call, e, nil)
}

// WriteErrorWith is WriteError with extra members in the error document,
// such as the item DynamoDB returns with a failed condition.
func (p *JSONProtocol) WriteErrorWith(w http.ResponseWriter, call *Call, e *APIError, extra map[string]any) {
	call.MarkError(e.Code)
	doc := map[string]any{"__type": p.ErrorTypePrefix + e.Code, "message": e.Message}
	maps.Copy(doc, extra)
	status := e.HTTPStatus
	if status == 0 {
		status = http.StatusBadRequest
	}
	body, _ := json.Marshal(doc)
	p.Write(w, status, body)
}

// Write sends body with status, ContentType and the Header hook's headers.
func (p *JSONProtocol) Write(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", p.ContentType)
	if p.Header != nil {
		p.Header(w.Header(), body)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
