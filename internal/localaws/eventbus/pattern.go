package eventbus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalidPattern is wrapped by every error about a malformed or
// unsupported event pattern.
var ErrInvalidPattern = errors.New("invalid event pattern")

// ErrInvalidEvent is wrapped by errors about an event that is not a JSON object.
var ErrInvalidEvent = errors.New("invalid event")

// Pattern is a compiled EventBridge event pattern. It is immutable and safe
// for concurrent use.
type Pattern struct {
	source string
	fields []fieldPattern
}

// fieldPattern is one leaf of a pattern: the path of field names from the
// event's root and the match values, of which at least one must match.
type fieldPattern struct {
	path     []string
	matchers []matcher
}

// CompilePattern parses and validates an event pattern.
func CompilePattern(pattern []byte) (*Pattern, error) {
	root, err := decodeJSON(pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %v", ErrInvalidPattern, err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the pattern must be a JSON object", ErrInvalidPattern)
	}
	p := &Pattern{source: string(pattern)}
	if err := p.compileObject(obj, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// String returns the pattern as it was given.
func (p *Pattern) String() string { return p.source }

// MatchPattern reports whether event matches pattern, like EventBridge's
// TestEventPattern API.
func MatchPattern(pattern, event []byte) (bool, error) {
	p, err := CompilePattern(pattern)
	if err != nil {
		return false, err
	}
	return p.Match(event)
}

// Match reports whether the JSON event matches the pattern.
func (p *Pattern) Match(event []byte) (bool, error) {
	ev, err := parseEvent(event)
	if err != nil {
		return false, err
	}
	return p.matchParsed(ev), nil
}

func parseEvent(event []byte) (map[string]any, error) {
	v, err := decodeJSON(event)
	if err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %v", ErrInvalidEvent, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: an event must be a JSON object", ErrInvalidEvent)
	}
	return obj, nil
}

func (p *Pattern) matchParsed(ev map[string]any) bool {
	for _, f := range p.fields {
		var vals []any
		collectLeaves(ev, f.path, &vals)
		if !matchAny(f.matchers, vals) {
			return false
		}
	}
	return true
}

func matchAny(ms []matcher, vals []any) bool {
	for _, m := range ms {
		if m.match(vals) {
			return true
		}
	}
	return false
}

// collectLeaves appends the non-object values found at path, flattening
// arrays at every level as EventBridge does.
func collectLeaves(v any, path []string, out *[]any) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			collectLeaves(e, path, out)
		}
	case map[string]any:
		if len(path) == 0 {
			return // an object is not a leaf: exists matching works on leaves only
		}
		if child, ok := x[path[0]]; ok {
			collectLeaves(child, path[1:], out)
		}
	default:
		if len(path) == 0 {
			*out = append(*out, x)
		}
	}
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func (p *Pattern) compileObject(obj map[string]any, path []string) error {
	if len(obj) == 0 {
		return invalidAt(path, "empty objects are not allowed")
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sub := append(append([]string(nil), path...), k)
		if strings.HasPrefix(k, "$") {
			return invalidAt(sub, "%q is not supported by the local event bus", k)
		}
		switch v := obj[k].(type) {
		case map[string]any:
			if err := p.compileObject(v, sub); err != nil {
				return err
			}
		case []any:
			ms, err := compileMatchValues(v, sub)
			if err != nil {
				return err
			}
			p.fields = append(p.fields, fieldPattern{path: sub, matchers: ms})
		default:
			return invalidAt(sub, "a pattern field must be an array of match values or an object")
		}
	}
	return nil
}

func invalidAt(path []string, format string, args ...any) error {
	where := strings.Join(path, ".")
	if where == "" {
		where = "(root)"
	}
	return fmt.Errorf("%w at %s: %s", ErrInvalidPattern, where, fmt.Sprintf(format, args...))
}

func compileMatchValues(vals []any, path []string) ([]matcher, error) {
	if len(vals) == 0 {
		return nil, invalidAt(path, "empty arrays are not allowed")
	}
	ms := make([]matcher, 0, len(vals))
	for _, v := range vals {
		m, err := compileMatchValue(v, path)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func compileMatchValue(v any, path []string) (matcher, error) {
	switch x := v.(type) {
	case string, json.Number, bool, nil:
		return exactMatcher{want: x}, nil
	case []any:
		return nil, invalidAt(path, "match values cannot be nested arrays")
	case map[string]any:
		if len(x) != 1 {
			return nil, invalidAt(path, "a match object must have exactly one key, got %d", len(x))
		}
		for op, arg := range x {
			return compileOperator(op, arg, path)
		}
	}
	return nil, invalidAt(path, "unsupported match value %v", v)
}

func compileOperator(op string, arg any, path []string) (matcher, error) {
	switch op {
	case "prefix", "suffix":
		s, ignoreCase, err := stringOrIgnoreCase(op, arg, path)
		if err != nil {
			return nil, err
		}
		return affixMatcher{affix: s, suffix: op == "suffix", ignoreCase: ignoreCase}, nil
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, invalidAt(path, "equals-ignore-case match value must be a string")
		}
		return ignoreCaseMatcher{want: s}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, invalidAt(path, "exists match value must be true or false")
		}
		return existsMatcher{want: b}, nil
	case "anything-but":
		return compileAnythingBut(arg, path)
	case "numeric":
		return compileNumeric(arg, path)
	case "cidr", "wildcard":
		return nil, invalidAt(path, "%q matching is not supported by the local event bus", op)
	}
	return nil, invalidAt(path, "unrecognized match type %q", op)
}

// stringOrIgnoreCase reads the argument of prefix/suffix: a string, or
// {"equals-ignore-case": string}.
func stringOrIgnoreCase(op string, arg any, path []string) (string, bool, error) {
	switch a := arg.(type) {
	case string:
		return a, false, nil
	case map[string]any:
		if s, ok := a["equals-ignore-case"].(string); ok && len(a) == 1 {
			return s, true, nil
		}
	}
	return "", false, invalidAt(path, "%s match value must be a string or {\"equals-ignore-case\": string}", op)
}

func compileAnythingBut(arg any, path []string) (matcher, error) {
	switch a := arg.(type) {
	case string, json.Number:
		return anythingButMatcher{values: []any{a}}, nil
	case []any:
		if len(a) == 0 {
			return nil, invalidAt(path, "anything-but list cannot be empty")
		}
		_, firstIsString := a[0].(string)
		for _, e := range a {
			switch e.(type) {
			case string:
				if !firstIsString {
					return nil, invalidAt(path, "anything-but list must contain only strings or only numbers")
				}
			case json.Number:
				if firstIsString {
					return nil, invalidAt(path, "anything-but list must contain only strings or only numbers")
				}
			default:
				return nil, invalidAt(path, "anything-but list must contain only strings or only numbers")
			}
		}
		return anythingButMatcher{values: a}, nil
	case map[string]any:
		if len(a) != 1 {
			return nil, invalidAt(path, "anything-but object must have exactly one key")
		}
		for op, inner := range a {
			switch op {
			case "prefix", "suffix":
				s, ok := inner.(string)
				if !ok {
					return nil, invalidAt(path, "anything-but %s value must be a string", op)
				}
				return anythingButMatcher{not: &affixMatcher{affix: s, suffix: op == "suffix"}}, nil
			case "equals-ignore-case":
				words, err := stringOrStrings(inner)
				if err != nil {
					return nil, invalidAt(path, "anything-but equals-ignore-case value %v", err)
				}
				return anythingButMatcher{ignoreCase: words}, nil
			}
			return nil, invalidAt(path, "unsupported anything-but operator %q", op)
		}
	}
	return nil, invalidAt(path, "anything-but value must be a string, a number, a list of them, or an object")
}

func stringOrStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("must contain only strings")
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, errors.New("cannot be empty")
		}
		return out, nil
	}
	return nil, errors.New("must be a string or a list of strings")
}

// numericLimit is EventBridge's documented range for numeric matching.
const numericLimit = 1e9

func compileNumeric(arg any, path []string) (matcher, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 || len(list) > 4 {
		return nil, invalidAt(path, "numeric match value must be a list of one or two operator/number pairs")
	}
	m := numericMatcher{}
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		if !ok {
			return nil, invalidAt(path, "numeric operator must be a string")
		}
		num, ok := list[i+1].(json.Number)
		if !ok {
			return nil, invalidAt(path, "numeric operand of %q must be a number", op)
		}
		f, err := num.Float64()
		if err != nil || f < -numericLimit || f > numericLimit {
			return nil, invalidAt(path, "numeric operand %s must be between -1.0E9 and 1.0E9", num)
		}
		if err := m.add(op, f, len(list) > 2); err != nil {
			return nil, invalidAt(path, "%v", err)
		}
	}
	if len(list) == 4 && (m.lower > m.upper || (m.lower == m.upper && !(m.lowerInclusive && m.upperInclusive))) {
		return nil, invalidAt(path, "numeric range lower bound must be below the upper bound")
	}
	return m, nil
}
