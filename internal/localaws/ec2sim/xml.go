package ec2sim

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"

	"github.com/switchyard/switchyard/internal/localaws"
)

// xmlns is the namespace of every EC2 response document.
const xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/"

// response is the body of a successful answer. Every response struct embeds
// requestMeta, which carries the request id.
type response interface{ setRequestID(string) }

type requestMeta struct {
	RequestID string `xml:"requestId"`
}

func (m *requestMeta) setRequestID(id string) { m.RequestID = id }

// returnResponse is the answer of calls that only report success.
type returnResponse struct {
	requestMeta
	Return bool `xml:"return"`
}

// writeResponse writes <{op}Response xmlns=...> around body.
func writeResponse(w http.ResponseWriter, op string, body response) {
	id := newRequestID()
	body.setRequestID(id)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{
		Name: xml.Name{Local: op + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}},
	}
	if err := enc.EncodeElement(body, start); err != nil {
		writeError(w, localaws.Errorf(http.StatusInternalServerError, "InternalError", "encoding %s response: %v", op, err))
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// errorDocument is EC2's error body: <Response><Errors><Error>...</Error>
// </Errors><RequestID>...</RequestID></Response>.
type errorDocument struct {
	XMLName   xml.Name    `xml:"Response"`
	Errors    []errorItem `xml:"Errors>Error"`
	RequestID string      `xml:"RequestID"`
}

type errorItem struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func writeError(w http.ResponseWriter, e *localaws.APIError) {
	id := newRequestID()
	doc := errorDocument{Errors: []errorItem{{Code: e.Code, Message: e.Message}}, RequestID: id}
	out, err := xml.Marshal(doc)
	if err != nil {
		http.Error(w, "encoding error response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	status := e.HTTPStatus
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

// newRequestID returns a random UUID, the shape of EC2 request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Shapes shared by several responses.

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type groupXML struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type stateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

// nameTags is the tag set of resources that only carry a Name.
func nameTags(name string) []tagXML {
	if name == "" {
		return nil
	}
	return []tagXML{{Key: "Name", Value: name}}
}

// str renders a bool the way filters compare it.
func str(b bool) string { return strconv.FormatBool(b) }

// one wraps a single filter value.
func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
