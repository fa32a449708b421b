package asl

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

const (
	maxStateNameLength = 80
	maxTimeoutSeconds  = 99999999
)

// Machine is a parsed and fully validated state machine definition. It is
// immutable: one Machine may run any number of executions concurrently.
type Machine struct {
	root           *scope
	timeoutSeconds int64
	resources      []string
}

// scope is a set of states with a start state: the machine itself, a
// Parallel branch or a Map item processor.
type scope struct {
	startAt string
	states  map[string]*state
}

// transition is one outgoing edge of a state, with the field declaring it.
type transition struct {
	field, to string
}

// Parse parses and validates a state machine definition written in the
// Amazon States Language with the JSONPath query language. Any field that is
// unknown, misplaced or not supported by this interpreter is rejected with a
// *DefinitionError naming the state and the field.
func Parse(definition []byte) (*Machine, error) {
	v, err := decodeValue(definition)
	if err != nil {
		return nil, &DefinitionError{Reason: "the definition is not valid JSON: " + err.Error()}
	}
	o, err := asObject(v, "", "")
	if err != nil {
		return nil, err
	}
	if _, _, err := o.str("Comment"); err != nil {
		return nil, err
	}
	if ver, ok, err := o.str("Version"); err != nil {
		return nil, err
	} else if ok && ver != "1.0" {
		return nil, o.err("Version", "must be \"1.0\", got %q", ver)
	}
	if err := parseQueryLanguage(o); err != nil {
		return nil, err
	}
	timeout, _, err := o.integer("TimeoutSeconds", 1, maxTimeoutSeconds)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	root, err := parseScope(o, "", names)
	if err != nil {
		return nil, err
	}
	if err := o.unknown("a state machine"); err != nil {
		return nil, err
	}
	m := &Machine{root: root, timeoutSeconds: timeout}
	m.resources = collectResources(root, map[string]bool{})
	sort.Strings(m.resources)
	return m, nil
}

// StartAt returns the name of the machine's first state.
func (m *Machine) StartAt() string { return m.root.startAt }

// TimeoutSeconds returns the execution timeout of the definition, 0 if none.
func (m *Machine) TimeoutSeconds() int64 { return m.timeoutSeconds }

// Resources lists, sorted and without duplicates, the Task resources the
// machine may call: each Task's Resource, and for lambda:invoke tasks with a
// literal FunctionName that function name instead. Callers use it to check at
// load time that Options.Tasks can resolve every one.
func (m *Machine) Resources() []string { return append([]string(nil), m.resources...) }

func parseQueryLanguage(o *object) error {
	ql, ok, err := o.str("QueryLanguage")
	if err == nil && ok && ql != "JSONPath" {
		err = o.err("QueryLanguage", "only \"JSONPath\" is supported, got %q", ql)
	}
	return err
}

// parseScope reads StartAt and States of o and validates the transitions
// between them. names collects every state name of the machine, which must be
// unique across all branches.
func parseScope(o *object, prefix string, names map[string]string) (*scope, error) {
	startAt, err := o.reqStr("StartAt")
	if err != nil {
		return nil, err
	}
	raw, ok := o.get("States")
	if !ok {
		return nil, o.err("States", "is required")
	}
	m, isObj := raw.(map[string]any)
	if !isObj {
		return nil, o.err("States", "must be a JSON object, got %s", typeName(raw))
	}
	if len(m) == 0 {
		return nil, o.err("States", "must contain at least one state")
	}
	sc := &scope{startAt: startAt, states: map[string]*state{}}
	for _, name := range sortedKeys(m) {
		where := prefix + fmt.Sprintf("state %q", name)
		if n := utf8.RuneCountInString(name); n == 0 || n > maxStateNameLength {
			return nil, defErr(where, "", "a state name must have 1 to %d characters", maxStateNameLength)
		}
		if other, dup := names[name]; dup {
			return nil, defErr(where, "", "the state name is already used by %s; names must be unique in the whole machine", other)
		}
		names[name] = where
		st, err := parseState(name, m[name], where, names)
		if err != nil {
			return nil, err
		}
		sc.states[name] = st
	}
	if _, ok := sc.states[startAt]; !ok {
		return nil, o.err("StartAt", "names no state of this scope: %q", startAt)
	}
	return sc, sc.validate(o)
}

// validate checks that every transition names a state of the scope, that
// every state is reachable from StartAt and that some state ends the scope.
func (sc *scope) validate(o *object) error {
	terminal := false
	for _, name := range sortedStateNames(sc.states) {
		st := sc.states[name]
		for _, t := range st.targets {
			if _, ok := sc.states[t.to]; !ok {
				return defErr(st.where, t.field, "the next state %q does not exist in this scope", t.to)
			}
		}
		if st.end || st.typ == "Succeed" || st.typ == "Fail" {
			terminal = true
		}
	}
	if !terminal {
		return o.err("States", "no terminal state: at least one state needs \"End\": true or must be a Succeed or Fail state")
	}
	seen := map[string]bool{sc.startAt: true}
	queue := []string{sc.startAt}
	for len(queue) > 0 {
		st := sc.states[queue[0]]
		queue = queue[1:]
		for _, t := range st.targets {
			if !seen[t.to] {
				seen[t.to] = true
				queue = append(queue, t.to)
			}
		}
	}
	for _, name := range sortedStateNames(sc.states) {
		if !seen[name] {
			return defErr(sc.states[name].where, "", "the state is not reachable from %q", sc.startAt)
		}
	}
	return nil
}

func sortedStateNames(m map[string]*state) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func collectResources(sc *scope, seen map[string]bool) []string {
	var out []string
	add := func(r string) {
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, st := range sc.states {
		switch {
		case st.task != nil && st.task.lambdaInvoke:
			add(st.task.staticFunction)
		case st.task != nil:
			add(st.task.resource)
		case st.parallel != nil:
			for _, b := range st.parallel.branches {
				out = append(out, collectResources(b, seen)...)
			}
		case st.mapState != nil:
			out = append(out, collectResources(st.mapState.processor, seen)...)
		}
	}
	return out
}

// Substitute replaces ${Name} placeholders in the string values of a
// definition, as SAM's DefinitionSubstitutions and CloudFormation do before
// the definition reaches Step Functions. A placeholder without a value is an
// error.
func Substitute(definition []byte, vars map[string]string) ([]byte, error) {
	v, err := decodeValue(definition)
	if err != nil {
		return nil, fmt.Errorf("asl: substitute: the definition is not valid JSON: %w", err)
	}
	out, err := substituteValue(v, vars)
	if err != nil {
		return nil, fmt.Errorf("asl: substitute: %w", err)
	}
	return encodeValue(out)
}

func substituteValue(v any, vars map[string]string) (any, error) {
	switch x := v.(type) {
	case string:
		var b strings.Builder
		rest := x
		for {
			i := strings.Index(rest, "${")
			if i < 0 {
				b.WriteString(rest)
				return b.String(), nil
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				b.WriteString(rest)
				return b.String(), nil
			}
			name := rest[i+2 : i+j]
			val, ok := vars[name]
			if !ok {
				return nil, fmt.Errorf("no value for ${%s}", name)
			}
			b.WriteString(rest[:i] + val)
			rest = rest[i+j+1:]
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			w, err := substituteValue(e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = w
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			w, err := substituteValue(e, vars)
			if err != nil {
				return nil, err
			}
			out[k] = w
		}
		return out, nil
	}
	return v, nil
}
