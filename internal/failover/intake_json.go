package failover

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Strict reading of Intake's JSON. encoding/json alone is loose in two ways
// that matter for a request that can force a failover: of a key given
// twice it keeps the last ({"force":false,"force":true} reads as forced),
// and it matches keys case-insensitively ("FORCE" fills force). So the
// input is first checked token by token (checkJSON), then read into
// jsonObjects whose members are looked up by exact key.

// MaxExecutionInputBytes is Step Functions' limit on the input of an
// execution: 256 KiB of UTF-8 text. Intake refuses a larger input, so a
// request built or pasted by hand fails the same way before AWS would.
const MaxExecutionInputBytes = 256 * 1024

// maxJSONDepth is how deep checkJSON lets values nest: encoding/json's own
// limit, so whatever passes the check can also be decoded.
const maxJSONDepth = 10000

// jsonFrame is an object or array checkJSON is inside of; the root frame
// stands for the outside of the JSON value.
type jsonFrame struct {
	parent *jsonFrame
	name   string // the key ("" in an array) or index of this value in its parent
	index  bool   // name is an array index
	object bool
	seen   map[string]bool
	// Object: whether the next token is a key (or '}'), and the key of the
	// member being read; array: the index of the next element.
	wantKey bool
	key     string
	next    int
}

// path is the frame's JSONPath-like location: $, $.detail.state,
// $.resources[0], $["odd key"]. It is built only for an error message, and
// shows only the innermost maxPathSteps steps of a deeper one ($….a.b).
func (f *jsonFrame) path() string {
	const maxPathSteps = 32
	var chain []*jsonFrame
	for g := f; g.parent != nil && g.parent.parent != nil; g = g.parent { // up to the value itself
		chain = append(chain, g)
	}
	var b strings.Builder
	b.WriteString("$")
	if len(chain) > maxPathSteps {
		chain = chain[:maxPathSteps]
		b.WriteString("…")
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if chain[i].index {
			b.WriteString("[" + chain[i].name + "]")
		} else {
			writeMember(&b, chain[i].name)
		}
	}
	return b.String()
}

// checkJSON checks that raw is exactly one JSON value, nested at most
// maxJSONDepth deep, in which no object has the same key twice, at any
// depth. Its error names the path of the object with the repeated key, or
// what is wrong with the syntax and at which byte.
func checkJSON(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers are not read here: none may fail as a float64
	root := &jsonFrame{}
	top, depth, values := root, 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF && values == 1 && top == root {
			return nil
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return errors.New("the JSON text ends early")
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
			}
			return fmt.Errorf("invalid JSON at byte %d: %v", dec.InputOffset(), err)
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			top, depth = top.parent, depth-1
			continue
		}
		if top.object && top.wantKey {
			key, ok := tok.(string)
			if !ok { // the decoder allows nothing else here
				return fmt.Errorf("invalid JSON at byte %d: an object key is not a string", dec.InputOffset())
			}
			if top.seen[key] {
				return fmt.Errorf("key %q appears twice in %s: which value counts would be undefined, so give each key once",
					key, top.path())
			}
			top.seen[key] = true
			top.key, top.wantKey = key, false
			continue
		}
		// tok begins a value: a member of an object, an element of an
		// array, or the JSON value itself.
		name, index := top.key, false
		switch {
		case top == root:
			if values++; values > 1 {
				return errors.New("more than one JSON value: nothing may follow the object")
			}
		case top.object:
			top.wantKey = true
		default:
			name, index = strconv.Itoa(top.next), true
			top.next++
		}
		d, ok := tok.(json.Delim)
		if !ok {
			continue
		}
		if depth++; depth > maxJSONDepth {
			return fmt.Errorf("the JSON nests deeper than %d levels", maxJSONDepth)
		}
		top = &jsonFrame{parent: top, name: name, index: index, object: d == '{', wantKey: d == '{'}
		if top.object {
			top.seen = map[string]bool{}
		}
	}
}

// memberPath is the path of a member of the object at path: $.detail for
// plain keys, $["odd key"] for others.
func memberPath(path, key string) string {
	var b strings.Builder
	b.WriteString(path)
	writeMember(&b, key)
	return b.String()
}

func writeMember(b *strings.Builder, key string) {
	if plainKey(key) {
		b.WriteString("." + key)
	} else {
		b.WriteString("[" + strconv.Quote(key) + "]")
	}
}

func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for i, r := range key {
		switch {
		case r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
		case i > 0 && (r == '-' || '0' <= r && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// jsonObject is a JSON object of an input that passed checkJSON, its
// members looked up by exact key.
type jsonObject struct {
	path    string
	members map[string]json.RawMessage
}

// readObject reads raw, the value at path, as an object.
func readObject(raw json.RawMessage, path string) (jsonObject, error) {
	var m map[string]json.RawMessage
	if kind := jsonKind(raw); kind != "an object" {
		return jsonObject{}, fmt.Errorf("%s is %s, not a JSON object", path, kind)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return jsonObject{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return jsonObject{path: path, members: m}, nil
}

// jsonKind names the kind of a JSON value by its first byte.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// foldKey is how encoding/json matches a key to a field regardless of
// case (ASCII letters and Unicode simple folding, so "ſource" and "SOURCE"
// both match "source").
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(unicode.ToUpper(unicode.ToLower(r)))
	}
	return b.String()
}

// sortedKeys lists the object's keys in a fixed order, for stable errors.
func (o jsonObject) sortedKeys() []string {
	keys := make([]string, 0, len(o.members))
	for k := range o.members {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// caseVariant returns a key that matches one of fields only when case is
// ignored, and the field it resembles; "" when there is none.
func (o jsonObject) caseVariant(fields ...string) (key, field string) {
	for _, k := range o.sortedKeys() {
		for _, f := range fields {
			if k != f && foldKey(k) == foldKey(f) {
				return k, f
			}
		}
	}
	return "", ""
}

// exact refuses keys that differ from one of fields only in case: a loose
// reader would take them for the field. Other keys are left alone.
func (o jsonObject) exact(fields ...string) error {
	if k, f := o.caseVariant(fields...); k != "" {
		return fmt.Errorf("key %q in %s is not %q: keys are case-sensitive", k, o.path, f)
	}
	return nil
}

// only refuses every key that is not one of fields, exactly.
func (o jsonObject) only(fields ...string) error {
	if err := o.exact(fields...); err != nil {
		return err
	}
	for _, k := range o.sortedKeys() {
		if !slices.Contains(fields, k) {
			return fmt.Errorf("unknown field %q in %s", k, o.path)
		}
	}
	return nil
}

func (o jsonObject) has(key string) bool {
	_, ok := o.members[key]
	return ok
}

// value returns the member key decoded into v; false when it is absent.
// null is refused: leave a field out rather than null it.
func (o jsonObject) value(key, want string, v any) (bool, error) {
	raw, ok := o.members[key]
	if !ok {
		return false, nil
	}
	path := memberPath(o.path, key)
	switch kind := jsonKind(raw); kind {
	case want:
	case "null":
		return true, fmt.Errorf("%s is null: give %s or leave the field out", path, want)
	default:
		return true, fmt.Errorf("%s is %s, not %s", path, kind, want)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// str returns a string member, "" when it is absent.
func (o jsonObject) str(key string) (string, error) {
	var s string
	_, err := o.value(key, "a string", &s)
	return s, err
}

// boolean returns a boolean member, false when it is absent.
func (o jsonObject) boolean(key string) (bool, error) {
	var b bool
	_, err := o.value(key, "a boolean", &b)
	return b, err
}

// object returns an object member; false when it is absent.
func (o jsonObject) object(key string) (jsonObject, bool, error) {
	raw, ok := o.members[key]
	if !ok {
		return jsonObject{}, false, nil
	}
	obj, err := readObject(raw, memberPath(o.path, key))
	return obj, true, err
}

// timestamp returns an RFC 3339 time member in UTC, the zero time when it
// is absent. A time that is not in the years 1 to 9999 in UTC is refused:
// it could not be written out again.
func (o jsonObject) timestamp(key string) (time.Time, error) {
	var s string
	ok, err := o.value(key, "a string", &s)
	if !ok || err != nil {
		return time.Time{}, err
	}
	path := memberPath(o.path, key)
	var t time.Time
	if err := t.UnmarshalText([]byte(s)); err != nil {
		return time.Time{}, fmt.Errorf("%s is %q, not an RFC 3339 time such as 2026-03-14T09:26:53Z", path, s)
	}
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%s (%q) is out of range", path, s)
	}
	return t, nil
}
