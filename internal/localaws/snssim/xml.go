package snssim

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/http"

	"github.com/switchyard/switchyard/internal/localaws"
)

// xmlns is the namespace of every SNS response document.
const xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"

// Error codes SNS answers with (the awsQueryError codes of its model).
const (
	CodeInvalidParameter   = "InvalidParameter"
	CodeNotFound           = "NotFound"
	CodeAuthorizationError = "AuthorizationError"
	CodeThrottled          = "Throttled"
	CodeInternalError      = "InternalError"
	CodeInvalidAction      = "InvalidAction"
)

// invalidParameter is SNS's 400 InvalidParameter, whose messages all read
// "Invalid parameter: <what>".
func invalidParameter(format string, args ...any) *localaws.APIError {
	return localaws.BadRequest(CodeInvalidParameter, "Invalid parameter: "+format, args...)
}

// notFound is SNS's 404 NotFound.
func notFound(message string) *localaws.APIError {
	return localaws.Errorf(http.StatusNotFound, CodeNotFound, "%s", message)
}

// topicNotFound is what SNS says of a topic ARN it does not hold.
func topicNotFound() *localaws.APIError { return notFound("Topic does not exist") }

// responseMetadata closes every response document.
type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// writeResponse writes
// <{op}Response xmlns=...><{op}Result>result</{op}Result><ResponseMetadata>
// around result. A nil result leaves the Result element out, as SNS does
// for DeleteTopic.
func writeResponse(w http.ResponseWriter, call *localaws.Call, op string, result any) {
	id := newUUID()
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{
		Name: xml.Name{Local: op + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}},
	}
	err := enc.EncodeToken(start)
	if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(responseMetadata{RequestID: id}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		writeError(w, call, localaws.Errorf(http.StatusInternalServerError, CodeInternalError, "encoding %s response: %v", op, err))
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// errorDocument is SNS's error body.
type errorDocument struct {
	XMLName   xml.Name  `xml:"ErrorResponse"`
	Xmlns     string    `xml:"xmlns,attr"`
	Error     errorItem `xml:"Error"`
	RequestID string    `xml:"RequestId"`
}

type errorItem struct {
	Type    string `xml:"Type"` // Sender for client faults, Receiver for server faults
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// writeError records e's code in the call log and writes SNS's error
// document with e's HTTP status (400 when it has none).
func writeError(w http.ResponseWriter, call *localaws.Call, e *localaws.APIError) {
	if call != nil {
		call.MarkError(e.Code)
	}
	status := e.HTTPStatus
	if status == 0 {
		status = http.StatusBadRequest
	}
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	id := newUUID()
	doc := errorDocument{Xmlns: xmlns, Error: errorItem{Type: fault, Code: e.Code, Message: e.Message}, RequestID: id}
	out, err := xml.Marshal(doc)
	if err != nil {
		http.Error(w, "encoding error response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

// newUUID returns a random version 4 UUID, the shape of SNS request,
// message and subscription ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
