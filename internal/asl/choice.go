package asl

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

type opKind uint8

const (
	opString opKind = iota
	opMatches
	opNumeric
	opBoolean
	opTimestamp
	opIs
)

// choiceOps lists the comparison operators; all but StringMatches and the
// Is* tests also exist with a "Path" suffix comparing against another path.
var choiceOps = map[string]opKind{
	"StringEquals": opString, "StringLessThan": opString, "StringGreaterThan": opString,
	"StringLessThanEquals": opString, "StringGreaterThanEquals": opString,
	"StringMatches": opMatches,
	"NumericEquals": opNumeric, "NumericLessThan": opNumeric, "NumericGreaterThan": opNumeric,
	"NumericLessThanEquals": opNumeric, "NumericGreaterThanEquals": opNumeric,
	"BooleanEquals":   opBoolean,
	"TimestampEquals": opTimestamp, "TimestampLessThan": opTimestamp, "TimestampGreaterThan": opTimestamp,
	"TimestampLessThanEquals": opTimestamp, "TimestampGreaterThanEquals": opTimestamp,
	"IsNull": opIs, "IsPresent": opIs, "IsNumeric": opIs, "IsString": opIs, "IsBoolean": opIs, "IsTimestamp": opIs,
}

type choiceSpec struct {
	rules []*choiceRule
	def   string
}

// choiceRule is a boolean combinator (And, Or, Not) or a data-test
// expression (Variable, one operator and its comparand).
type choiceRule struct {
	next    string
	and, or []*choiceRule
	not     *choiceRule

	variable  *jsonPath
	op        string // operator name without the "Path" suffix
	kind      opKind
	valuePath *jsonPath // set for the ...Path variants
	value     any       // literal comparand: string, json.Number, bool, time.Time, bool (Is*) or globPattern
}

func (st *state) parseChoice(o *object) error {
	if err := st.parseInputOutput(o); err != nil {
		return err
	}
	raw, ok, err := o.array("Choices")
	if err != nil {
		return err
	}
	if !ok || len(raw) == 0 {
		return o.err("Choices", "a Choice state needs at least one rule")
	}
	c := &choiceSpec{}
	for i, v := range raw {
		field := fmt.Sprintf("Choices[%d]", i)
		r, err := parseRule(v, st.where+" "+field, true)
		if err != nil {
			return err
		}
		c.rules = append(c.rules, r)
		st.targets = append(st.targets, transition{field: field + ".Next", to: r.next})
	}
	if c.def, ok, err = o.str("Default"); err != nil {
		return err
	} else if ok {
		st.targets = append(st.targets, transition{field: "Default", to: c.def})
	}
	st.choice = c
	return nil
}

func parseRule(v any, where string, top bool) (*choiceRule, error) {
	o, err := asObject(v, where, "")
	if err != nil {
		return nil, err
	}
	r := &choiceRule{}
	if _, _, err := o.str("Comment"); err != nil {
		return nil, err
	}
	if top {
		if r.next, err = o.reqStr("Next"); err != nil {
			return nil, err
		}
	}
	var ops []string
	for _, k := range sortedKeys(o.fields) {
		if _, ok := choiceOps[k]; ok || k == "And" || k == "Or" || k == "Not" {
			ops = append(ops, k)
		} else if kind, ok := choiceOps[strings.TrimSuffix(k, "Path")]; ok && kind != opIs && kind != opMatches {
			ops = append(ops, k)
		}
	}
	if len(ops) != 1 {
		return nil, o.err("", "a Choice rule needs exactly one comparison operator or And/Or/Not, got %d %v", len(ops), ops)
	}
	op := ops[0]
	switch op {
	case "And", "Or":
		raw, _, err := o.array(op)
		if err != nil {
			return nil, err
		}
		if len(raw) == 0 {
			return nil, o.err(op, "needs at least one rule")
		}
		for i, e := range raw {
			sub, err := parseRule(e, fmt.Sprintf("%s.%s[%d]", where, op, i), false)
			if err != nil {
				return nil, err
			}
			if op == "And" {
				r.and = append(r.and, sub)
			} else {
				r.or = append(r.or, sub)
			}
		}
	case "Not":
		raw, _ := o.get("Not")
		if r.not, err = parseRule(raw, where+".Not", false); err != nil {
			return nil, err
		}
	default:
		if err := r.parseDataTest(o, op); err != nil {
			return nil, err
		}
	}
	kind := "a nested Choice rule"
	if top {
		kind = "a Choice rule"
	}
	return r, o.unknown(kind)
}

func (r *choiceRule) parseDataTest(o *object, op string) error {
	var err error
	if !o.has("Variable") {
		return o.err("Variable", "is required with %s", op)
	}
	if r.variable, _, err = o.path("Variable", nil); err != nil {
		return err
	}
	if r.variable == nil {
		return o.err("Variable", "must be a path, not null")
	}
	raw, _ := o.get(op)
	r.op = op
	if base := strings.TrimSuffix(op, "Path"); base != op {
		if _, isOp := choiceOps[op]; !isOp {
			r.op, r.kind = base, choiceOps[base]
			s, ok := raw.(string)
			if !ok {
				return o.err(op, "must be a path string, got %s", typeName(raw))
			}
			if r.valuePath, err = parsePath(s); err != nil {
				return o.err(op, "%v", err)
			}
			return nil
		}
	}
	r.kind = choiceOps[op]
	switch r.kind {
	case opString, opMatches:
		s, ok := raw.(string)
		if !ok {
			return o.err(op, "must be a string, got %s", typeName(raw))
		}
		r.value = s
		if r.kind == opMatches {
			r.value = compileGlob(s)
		}
	case opNumeric:
		n, ok := raw.(json.Number)
		if !ok {
			return o.err(op, "must be a number, got %s", typeName(raw))
		}
		r.value = n
	case opBoolean, opIs:
		b, ok := raw.(bool)
		if !ok {
			return o.err(op, "must be a boolean, got %s", typeName(raw))
		}
		r.value = b
	case opTimestamp:
		s, _ := raw.(string)
		t, ok := parseTimestamp(s)
		if !ok {
			return o.err(op, "must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z, got %s", jsonText(raw))
		}
		r.value = t
	}
	return nil
}

// eval evaluates the rule against the effective input of the Choice state.
func (r *choiceRule) eval(env *evalEnv) (bool, *failure) {
	switch {
	case r.and != nil:
		for _, s := range r.and {
			if ok, f := s.eval(env); f != nil || !ok {
				return false, f
			}
		}
		return true, nil
	case r.or != nil:
		for _, s := range r.or {
			if ok, f := s.eval(env); f != nil || ok {
				return ok, f
			}
		}
		return false, nil
	case r.not != nil:
		ok, f := r.not.eval(env)
		return !ok, f
	}
	v, found := lookupIn(env, r.variable)
	if r.op == "IsPresent" {
		return found == r.value.(bool), nil
	}
	if !found {
		return false, invalidChoicePath(r.variable)
	}
	if r.kind == opIs {
		return isType(r.op, v) == r.value.(bool), nil
	}
	want := r.value
	if r.valuePath != nil {
		if want, found = lookupIn(env, r.valuePath); !found {
			return false, invalidChoicePath(r.valuePath)
		}
	}
	return compare(r.op, r.kind, v, want), nil
}

func lookupIn(env *evalEnv, p *jsonPath) (any, bool) {
	if p.context {
		return p.lookup(env.ctx)
	}
	return p.lookup(env.input)
}

func invalidChoicePath(p *jsonPath) *failure {
	return runtimeFailure("Invalid path '%s': The choice state's condition path references an invalid value.", p.text)
}

func isType(op string, v any) bool {
	switch op {
	case "IsNull":
		return v == nil
	case "IsNumeric":
		_, ok := v.(json.Number)
		return ok
	case "IsString":
		_, ok := v.(string)
		return ok
	case "IsBoolean":
		_, ok := v.(bool)
		return ok
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, ok = parseTimestamp(s)
		}
		return ok
	}
	return false
}

// compare applies a comparison operator; values of the wrong type never match.
func compare(op string, kind opKind, v, want any) bool {
	var c int
	switch kind {
	case opMatches:
		s, ok := v.(string)
		return ok && want.(globPattern).match(s)
	case opString:
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false
		}
		c = strings.Compare(a, b)
	case opNumeric:
		a, ok1 := v.(json.Number)
		b, ok2 := want.(json.Number)
		if !ok1 || !ok2 {
			return false
		}
		var err error
		if c, err = compareNumbers(a, b); err != nil {
			return false
		}
	case opBoolean:
		a, ok1 := v.(bool)
		b, ok2 := want.(bool)
		return ok1 && ok2 && a == b
	case opTimestamp:
		a, ok := asTime(v)
		b, ok2 := asTime(want)
		if !ok || !ok2 {
			return false
		}
		c = a.Compare(b)
	}
	switch {
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return c >= 0
	case strings.HasSuffix(op, "LessThanEquals"):
		return c <= 0
	case strings.HasSuffix(op, "GreaterThan"):
		return c > 0
	case strings.HasSuffix(op, "LessThan"):
		return c < 0
	}
	return c == 0
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		return parseTimestamp(x)
	}
	return time.Time{}, false
}

// globPattern is a StringMatches pattern: literal parts separated by "*"
// wildcards ("\*" is a literal star, "\\" a literal backslash).
type globPattern struct{ parts []string }

func compileGlob(p string) globPattern {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p) && (p[i+1] == '*' || p[i+1] == '\\'):
			cur.WriteByte(p[i+1])
			i++
		case c == '*':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return globPattern{parts: append(parts, cur.String())}
}

func (g globPattern) match(s string) bool {
	if len(g.parts) == 1 {
		return s == g.parts[0]
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, mid := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}
