package eventbus

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// matcher is one match value of a pattern leaf. vals are the leaf values the
// event holds at the leaf's path (none when the field is absent).
type matcher interface {
	match(vals []any) bool
}

// exactMatcher matches a string, number, boolean or null. Numbers compare by
// their JSON text, as EventBridge documents ("300" and "300.0" differ).
type exactMatcher struct{ want any }

func (m exactMatcher) match(vals []any) bool {
	for _, v := range vals {
		if sameScalar(m.want, v) {
			return true
		}
	}
	return false
}

func sameScalar(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x.String() == y.String()
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

// affixMatcher matches strings that start (or end) with affix.
type affixMatcher struct {
	affix      string
	suffix     bool
	ignoreCase bool
}

func (m affixMatcher) match(vals []any) bool {
	for _, v := range vals {
		if s, ok := v.(string); ok && m.matchString(s) {
			return true
		}
	}
	return false
}

func (m affixMatcher) matchString(s string) bool {
	affix := m.affix
	if m.ignoreCase {
		s, affix = strings.ToLower(s), strings.ToLower(affix)
	}
	if m.suffix {
		return strings.HasSuffix(s, affix)
	}
	return strings.HasPrefix(s, affix)
}

// ignoreCaseMatcher matches strings equal to want regardless of case.
type ignoreCaseMatcher struct{ want string }

func (m ignoreCaseMatcher) match(vals []any) bool {
	for _, v := range vals {
		if s, ok := v.(string); ok && strings.EqualFold(s, m.want) {
			return true
		}
	}
	return false
}

// existsMatcher matches when the field is present as a leaf (want true) or
// absent (want false).
type existsMatcher struct{ want bool }

func (m existsMatcher) match(vals []any) bool { return (len(vals) > 0) == m.want }

// anythingButMatcher matches a present string or number that is none of
// values, does not have the affix of not, and equals none of ignoreCase
// regardless of case. Exactly one of the three is set.
type anythingButMatcher struct {
	values     []any
	not        *affixMatcher
	ignoreCase []string
}

func (m anythingButMatcher) match(vals []any) bool {
	for _, v := range vals {
		if m.allows(v) {
			return true
		}
	}
	return false
}

func (m anythingButMatcher) allows(v any) bool {
	s, isString := v.(string)
	_, isNumber := v.(json.Number)
	switch {
	case m.not != nil:
		return isString && !m.not.matchString(s)
	case m.ignoreCase != nil:
		if !isString {
			return false
		}
		for _, w := range m.ignoreCase {
			if strings.EqualFold(s, w) {
				return false
			}
		}
		return true
	}
	if !isString && !isNumber {
		return false
	}
	for _, excluded := range m.values {
		if sameScalar(excluded, v) {
			return false
		}
	}
	return true
}

// numericMatcher matches JSON numbers within a range or equal to a value.
type numericMatcher struct {
	hasLower, lowerInclusive bool
	lower                    float64
	hasUpper, upperInclusive bool
	upper                    float64
}

func (m *numericMatcher) add(op string, f float64, ranged bool) error {
	switch op {
	case "=":
		if ranged {
			return errors.New(`numeric "=" cannot be combined with another operator`)
		}
		m.hasLower, m.lowerInclusive, m.lower = true, true, f
		m.hasUpper, m.upperInclusive, m.upper = true, true, f
		return nil
	case ">", ">=":
		if m.hasLower {
			return errors.New("numeric range has two lower bounds")
		}
		m.hasLower, m.lowerInclusive, m.lower = true, op == ">=", f
		return nil
	case "<", "<=":
		if m.hasUpper {
			return errors.New("numeric range has two upper bounds")
		}
		m.hasUpper, m.upperInclusive, m.upper = true, op == "<=", f
		return nil
	}
	return fmt.Errorf("unrecognized numeric operator %q", op)
}

func (m numericMatcher) match(vals []any) bool {
	for _, v := range vals {
		n, ok := v.(json.Number)
		if !ok {
			continue
		}
		f, err := n.Float64()
		if err != nil {
			continue
		}
		if m.inRange(f) {
			return true
		}
	}
	return false
}

func (m numericMatcher) inRange(f float64) bool {
	if m.hasLower && (f < m.lower || (f == m.lower && !m.lowerInclusive)) {
		return false
	}
	if m.hasUpper && (f > m.upper || (f == m.upper && !m.upperInclusive)) {
		return false
	}
	return true
}
