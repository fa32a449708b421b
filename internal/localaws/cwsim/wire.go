package cwsim

import (
	"crypto/rand"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Wire constants of the Smithy RPC v2 CBOR protocol as the CloudWatch client uses it.
const (
	serviceShapeName   = "GraniteServiceVersion20100801"
	operationPathStart = "/service/" + serviceShapeName + "/operation/"
	protocolHeader     = "Smithy-Protocol"
	protocolValue      = "rpc-v2-cbor"
	cborContentType    = "application/cbor"
	shapeNamespace     = "com.amazonaws.cloudwatch#"
)

// errorShapes maps the query error codes the service returns to the Smithy
// error shapes of the CloudWatch model and the member carrying the message.
var errorShapes = map[string]struct{ shape, messageMember string }{
	"InvalidParameterValue":       {"InvalidParameterValueException", "message"},
	"MissingParameter":            {"MissingRequiredParameterException", "message"},
	"InvalidParameterCombination": {"InvalidParameterCombinationException", "message"},
	"ResourceNotFound":            {"ResourceNotFound", "message"},
	"InvalidFormat":               {"InvalidFormatFault", "message"},
	"InvalidNextToken":            {"InvalidNextToken", "message"},
	"LimitExceeded":               {"LimitExceededFault", "message"},
	"ValidationError":             {"ValidationException", "message"},
	"InternalServiceError":        {"InternalServiceFault", "Message"},
}

// writeError writes err as an RPC v2 CBOR error of a query-compatible service.
func writeError(w http.ResponseWriter, err *localaws.APIError) {
	typ, member := err.Code, "message"
	if s, ok := errorShapes[err.Code]; ok {
		typ, member = shapeNamespace+s.shape, s.messageMember
	}
	fault := "Sender"
	if err.HTTPStatus >= 500 {
		fault = "Receiver"
	}
	w.Header().Set("X-Amzn-Query-Error", err.Code+";"+fault)
	body := cbor.Map{"__type": cbor.String(typ), member: cbor.String(err.Message)}
	if member != "message" {
		body["message"] = cbor.String(err.Message)
	}
	writeCBOR(w, err.HTTPStatus, body)
}

func writeCBOR(w http.ResponseWriter, status int, body cbor.Map) {
	h := w.Header()
	h.Set(protocolHeader, protocolValue)
	h.Set("Content-Type", cborContentType)
	h.Set("x-amzn-RequestId", newUUID())
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(body))
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// decodeBody decodes a request body into its top-level map; an empty body is
// an empty input.
func decodeBody(body []byte) (cbor.Map, *localaws.APIError) {
	if len(body) == 0 {
		return cbor.Map{}, nil
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, localaws.BadRequest("SerializationException", "the request body is not valid CBOR: %v", err)
	}
	m, ok := v.(cbor.Map)
	if !ok {
		return nil, localaws.BadRequest("SerializationException", "the request body must be a CBOR map, got %T", v)
	}
	return m, nil
}

// reader reads typed members out of decoded CBOR structures. The first type
// mismatch is kept in err and turns every later read into a no-op.
type reader struct{ err *localaws.APIError }

func (r *reader) get(m cbor.Map, key string) (cbor.Value, bool) {
	if r.err != nil || m == nil {
		return nil, false
	}
	v, ok := m[key]
	if !ok {
		return nil, false
	}
	switch v.(type) {
	case *cbor.Nil, *cbor.Undefined:
		return nil, false
	}
	return v, true
}

func (r *reader) fail(key string, v cbor.Value, want string) {
	if r.err == nil {
		r.err = localaws.BadRequest("SerializationException", "member %s must be %s, got CBOR %T", key, want, v)
	}
}

func (r *reader) str(m cbor.Map, key string) (string, bool) {
	v, ok := r.get(m, key)
	if !ok {
		return "", false
	}
	s, isString := v.(cbor.String)
	if !isString {
		r.fail(key, v, "a string")
		return "", false
	}
	return string(s), true
}

func (r *reader) integer(m cbor.Map, key string) (int64, bool) {
	v, ok := r.get(m, key)
	if !ok {
		return 0, false
	}
	i, err := cbor.AsInt64(v)
	if err != nil {
		r.fail(key, v, "an integer")
		return 0, false
	}
	return i, true
}

func (r *reader) float(m cbor.Map, key string) (float64, bool) {
	v, ok := r.get(m, key)
	if !ok {
		return 0, false
	}
	f, err := cbor.AsFloat64(v)
	if err != nil {
		r.fail(key, v, "a number")
		return 0, false
	}
	return f, true
}

func (r *reader) boolean(m cbor.Map, key string) (bool, bool) {
	v, ok := r.get(m, key)
	if !ok {
		return false, false
	}
	b, isBool := v.(cbor.Bool)
	if !isBool {
		r.fail(key, v, "a boolean")
		return false, false
	}
	return bool(b), true
}

func (r *reader) time(m cbor.Map, key string) (time.Time, bool) {
	v, ok := r.get(m, key)
	if !ok {
		return time.Time{}, false
	}
	t, isTag := v.(*cbor.Tag)
	if !isTag || t.ID != 1 {
		r.fail(key, v, "an epoch timestamp (tag 1)")
		return time.Time{}, false
	}
	secs, err := cbor.AsFloat64(t.Value)
	if err != nil {
		r.fail(key, t.Value, "epoch seconds")
		return time.Time{}, false
	}
	return time.UnixMilli(int64(math.Round(secs * 1e3))).UTC(), true
}

func (r *reader) list(m cbor.Map, key string) (cbor.List, bool) {
	v, ok := r.get(m, key)
	if !ok {
		return nil, false
	}
	l, isList := v.(cbor.List)
	if !isList {
		r.fail(key, v, "a list")
		return nil, false
	}
	return l, true
}

func (r *reader) strings(m cbor.Map, key string) ([]string, bool) {
	l, ok := r.list(m, key)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, isString := e.(cbor.String)
		if !isString {
			r.fail(key, e, "a list of strings")
			return nil, false
		}
		out = append(out, string(s))
	}
	return out, true
}

func (r *reader) floats(m cbor.Map, key string) ([]float64, bool) {
	l, ok := r.list(m, key)
	if !ok {
		return nil, false
	}
	out := make([]float64, 0, len(l))
	for _, e := range l {
		f, err := cbor.AsFloat64(e)
		if err != nil {
			r.fail(key, e, "a list of numbers")
			return nil, false
		}
		out = append(out, f)
	}
	return out, true
}

func (r *reader) structure(m cbor.Map, key string) (cbor.Map, bool) {
	v, ok := r.get(m, key)
	if !ok {
		return nil, false
	}
	s, isMap := v.(cbor.Map)
	if !isMap {
		r.fail(key, v, "a structure")
		return nil, false
	}
	return s, true
}

func (r *reader) structures(m cbor.Map, key string) ([]cbor.Map, bool) {
	l, ok := r.list(m, key)
	if !ok {
		return nil, false
	}
	out := make([]cbor.Map, 0, len(l))
	for _, e := range l {
		s, isMap := e.(cbor.Map)
		if !isMap {
			r.fail(key, e, "a list of structures")
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// cborTime encodes a timestamp as RPC v2 CBOR does: tag 1, epoch seconds as
// a float with millisecond precision.
func cborTime(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1e3)}
}

func cborInt(i int64) cbor.Value {
	if i < 0 {
		return cbor.NegInt(uint64(-i)) // NegInt(n) encodes -n
	}
	return cbor.Uint(uint64(i))
}

func cborStrings(ss []string) cbor.List {
	l := make(cbor.List, 0, len(ss))
	for _, s := range ss {
		l = append(l, cbor.String(s))
	}
	return l
}
