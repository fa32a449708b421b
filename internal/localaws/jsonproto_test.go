package localaws

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var testProtocol = JSONProtocol{
	TargetPrefix:      "Svc_2020.",
	ContentType:       "application/x-amz-json-1.0",
	ErrorTypePrefix:   "com.example#",
	InternalErrorCode: "InternalServerError",
	Header:            func(h http.Header, body []byte) { h.Set("X-Body-Length", strings.Repeat("x", len(body))) },
}

func targetRequest(target string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	return r
}

func TestJSONProtocolOperation(t *testing.T) {
	known := func(op string) bool { return op == "GetThing" }
	// The operation named for each target; only GetThing is known.
	wantOps := map[string]string{
		"Svc_2020.GetThing": "GetThing",
		"Svc_2020.PutThing": "PutThing",
		"Other.GetThing":    "Other.GetThing",
		"":                  "",
	}
	for target, wantOp := range wantOps {
		op, err := testProtocol.Operation(targetRequest(target), known)
		wantErr := !known(wantOp)
		if op != wantOp || (err != nil) != wantErr {
			t.Errorf("target %q: op %q, err %v; want op %q, error %v", target, op, err, wantOp, wantErr)
		}
		var ae *APIError
		if err != nil && (!errors.As(err, &ae) || ae.Code != "UnknownOperationException" || ae.HTTPStatus != http.StatusBadRequest ||
			!strings.Contains(ae.Message, target)) {
			t.Errorf("target %q: err %v, want a 400 UnknownOperationException naming the target", target, err)
		}
	}
}

// errorDoc checks the recorded response and returns its error document.
func errorDoc(t *testing.T, rec *httptest.ResponseRecorder, status int) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d", rec.Code, status)
	}
	if ct := rec.Header().Get("Content-Type"); ct != testProtocol.ContentType {
		t.Errorf("Content-Type %q, want %q", ct, testProtocol.ContentType)
	}
	if n := len(rec.Header().Get("X-Body-Length")); n != rec.Body.Len() {
		t.Errorf("Header hook saw a body of %d bytes, response has %d", n, rec.Body.Len())
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("error document %q: %v", rec.Body.String(), err)
	}
	return doc
}

func TestJSONProtocolWriteError(t *testing.T) {
	call := &Call{}
	rec := httptest.NewRecorder()
	testProtocol.WriteError(rec, call, Errorf(http.StatusNotFound, "ThingNotFound", "no thing %s", "t1"))
	doc := errorDoc(t, rec, http.StatusNotFound)
	if doc["__type"] != "com.example#ThingNotFound" || doc["message"] != "no thing t1" || len(doc) != 2 {
		t.Errorf("error document %v", doc)
	}
	if call.ErrorCode != "ThingNotFound" {
		t.Errorf("call log code %q, want ThingNotFound", call.ErrorCode)
	}

	rec = httptest.NewRecorder()
	testProtocol.WriteErrorWith(rec, &Call{}, &APIError{Code: "Refused", Message: "no"}, map[string]any{"Item": "old"})
	doc = errorDoc(t, rec, http.StatusBadRequest) // an error without a status is a 400
	if doc["__type"] != "com.example#Refused" || doc["Item"] != "old" {
		t.Errorf("error document %v", doc)
	}
}

func TestJSONProtocolRespond(t *testing.T) {
	rec := httptest.NewRecorder()
	testProtocol.Respond(rec, &Call{}, map[string]int{"Count": 2}, nil)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"Count":2}` {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
	}
	if rec.Header().Get("Content-Type") != testProtocol.ContentType || rec.Header().Get("X-Body-Length") != "xxxxxxxxxxx" {
		t.Errorf("headers %v", rec.Header())
	}

	call := &Call{}
	rec = httptest.NewRecorder()
	testProtocol.Respond(rec, call, nil, BadRequest("ValidationException", "bad"))
	if doc := errorDoc(t, rec, http.StatusBadRequest); doc["__type"] != "com.example#ValidationException" || call.ErrorCode != "ValidationException" {
		t.Errorf("error document %v, call log code %q", doc, call.ErrorCode)
	}

	rec = httptest.NewRecorder()
	testProtocol.Respond(rec, &Call{}, nil, errors.New("disk on fire"))
	if doc := errorDoc(t, rec, http.StatusInternalServerError); doc["__type"] != "com.example#InternalServerError" || doc["message"] != "disk on fire" {
		t.Errorf("error document %v", doc)
	}

	rec = httptest.NewRecorder()
	testProtocol.Respond(rec, &Call{}, map[string]any{"F": func() {}}, nil)
	if doc := errorDoc(t, rec, http.StatusInternalServerError); !strings.HasPrefix(doc["message"].(string), "encoding response:") {
		t.Errorf("error document %v", doc)
	}
}

type strictField struct{}

func (strictField) UnmarshalJSON([]byte) error {
	return BadRequest("ValidationException", "field refused")
}

func TestJSONProtocolDecode(t *testing.T) {
	var ok struct{ Name string }
	if err := testProtocol.Decode(&Call{Body: []byte(`{"Name":"a"}`)}, &ok); err != nil || ok.Name != "a" {
		t.Fatalf("Decode: %v, %+v", err, ok)
	}
	var ae *APIError
	err := testProtocol.Decode(&Call{Body: []byte(`{"Name":`)}, &ok)
	if !errors.As(err, &ae) || ae.Code != "SerializationException" {
		t.Errorf("malformed body: err %v, want SerializationException", err)
	}
	var strict struct{ F strictField }
	err = testProtocol.Decode(&Call{Body: []byte(`{"F":1}`)}, &strict)
	if !errors.As(err, &ae) || ae.Code != "ValidationException" {
		t.Errorf("refused field: err %v, want its ValidationException", err)
	}
}
