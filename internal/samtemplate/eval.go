package samtemplate

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
)

// noValueT is the type of noValue, the result of Ref AWS::NoValue: the
// enclosing property or list element is removed.
type noValueT struct{}

var noValue = noValueT{}

// evaluator evaluates intrinsic functions in one template against one set of
// parameter values. Results are plain Go values like parseYAML's.
type evaluator struct {
	pseudo     map[string]string
	params     map[string]paramValue
	conditions map[string]any
	mappings   map[string]any
	resources  map[string]*resource

	condValue map[string]bool
	condBusy  map[string]bool
	refBusy   map[string]bool
}

// errf builds an error that starts with the template path of the value.
func errf(path, format string, args ...any) error {
	return fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
}

// eval returns v with every intrinsic function replaced by its value.
func (e *evaluator) eval(v any, path string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return e.intrinsic(k, arg, path)
				}
			}
		}
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			ev, err := e.eval(x[k], path+"."+k)
			if err != nil {
				return nil, err
			}
			if ev != noValue {
				out[k] = ev
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, item := range x {
			ev, err := e.eval(item, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if ev != noValue {
				out = append(out, ev)
			}
		}
		return out, nil
	}
	return v, nil
}

func (e *evaluator) intrinsic(name string, arg any, path string) (any, error) {
	at := path + "." + name
	switch name {
	case "Ref":
		s, ok := arg.(string)
		if !ok {
			return nil, errf(at, "argument is a %s, not a name", kindOf(arg))
		}
		return e.ref(s, at)
	case "Fn::Sub":
		return e.sub(arg, at)
	case "Fn::GetAtt":
		return e.getAttFn(arg, at)
	case "Fn::If":
		return e.fnIf(arg, at)
	case "Fn::Not", "Fn::And", "Fn::Or", "Fn::Equals":
		return e.condExpr(map[string]any{name: arg}, path)
	case "Fn::Join":
		return e.join(arg, at)
	case "Fn::Select":
		return e.selectFn(arg, at)
	case "Fn::Split":
		return e.split(arg, at)
	case "Fn::FindInMap":
		return e.findInMap(arg, at)
	case "Fn::Base64":
		v, err := e.evalString(arg, at)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(v)), nil
	}
	return nil, errf(at, "intrinsic function %s is not supported by samtemplate", name)
}

// evalString evaluates v and requires a scalar result.
func (e *evaluator) evalString(v any, path string) (string, error) {
	ev, err := e.eval(v, path)
	if err != nil {
		return "", err
	}
	s, err := scalarString(ev)
	if err != nil {
		return "", errf(path, "%v", err)
	}
	return s, nil
}

// args evaluates nothing; it checks that arg is a list of n elements.
func args(arg any, n int, path, shape string) ([]any, error) {
	l, ok := arg.([]any)
	if !ok || len(l) != n {
		return nil, errf(path, "argument must be %s", shape)
	}
	return l, nil
}

func (e *evaluator) ref(name, path string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue, nil
	}
	if v, ok := e.pseudo[name]; ok {
		return v, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, errf(path, "pseudo parameter %s is not supported", name)
	}
	if p, ok := e.params[name]; ok {
		return p.value(), nil
	}
	if _, ok := e.resources[name]; ok {
		return e.resourceRef(name, path)
	}
	if id, ok := strings.CutSuffix(name, ".Alias"); ok && e.resources[id] != nil {
		return e.aliasArn(id, path)
	}
	return nil, errf(path, "Ref %s: no parameter or resource has that name", name)
}

func (e *evaluator) getAttFn(arg any, path string) (any, error) {
	l, err := args(arg, 2, path, "[LogicalId, Attribute]")
	if err != nil {
		return nil, err
	}
	id, ok := l[0].(string)
	if !ok {
		return nil, errf(path, "logical id is a %s, not a string", kindOf(l[0]))
	}
	attr, err := e.evalString(l[1], path+"[1]")
	if err != nil {
		return nil, err
	}
	return e.getAtt(id, attr, path)
}

func (e *evaluator) fnIf(arg any, path string) (any, error) {
	l, err := args(arg, 3, path, "[ConditionName, ValueIfTrue, ValueIfFalse]")
	if err != nil {
		return nil, err
	}
	name, ok := l[0].(string)
	if !ok {
		return nil, errf(path, "condition name is a %s, not a string", kindOf(l[0]))
	}
	c, err := e.condition(name, path)
	if err != nil {
		return nil, err
	}
	if c {
		return e.eval(l[1], path+"[1]")
	}
	return e.eval(l[2], path+"[2]")
}

// condition evaluates a named condition of the Conditions section once.
func (e *evaluator) condition(name, path string) (bool, error) {
	if v, ok := e.condValue[name]; ok {
		return v, nil
	}
	raw, ok := e.conditions[name]
	if !ok {
		return false, errf(path, "condition %q is not defined in Conditions", name)
	}
	if e.condBusy[name] {
		return false, errf(path, "condition %q refers to itself", name)
	}
	e.condBusy[name] = true
	defer delete(e.condBusy, name)
	v, err := e.condExpr(raw, "Conditions."+name)
	if err != nil {
		return false, err
	}
	e.condValue[name] = v
	return v, nil
}

// condExpr evaluates a condition expression: Fn::Equals, Fn::Not, Fn::And,
// Fn::Or, {Condition: Name} or a boolean.
func (e *evaluator) condExpr(v any, path string) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		ev, err := e.eval(v, path)
		if err != nil {
			return false, err
		}
		b, err := toBool(ev)
		if err != nil {
			return false, errf(path, "condition: %v", err)
		}
		return b, nil
	}
	for name, arg := range m {
		at := path + "." + name
		switch name {
		case "Condition":
			s, ok := arg.(string)
			if !ok {
				return false, errf(at, "condition name is a %s, not a string", kindOf(arg))
			}
			return e.condition(s, at)
		case "Fn::Not":
			l, err := args(arg, 1, at, "a list of one condition")
			if err != nil {
				return false, err
			}
			b, err := e.condExpr(l[0], at+"[0]")
			return !b, err
		case "Fn::And", "Fn::Or":
			l, ok := arg.([]any)
			if !ok || len(l) < 2 || len(l) > 10 {
				return false, errf(at, "argument must be a list of 2 to 10 conditions")
			}
			and := name == "Fn::And"
			for i, c := range l {
				b, err := e.condExpr(c, fmt.Sprintf("%s[%d]", at, i))
				if err != nil {
					return false, err
				}
				if b != and {
					return b, nil
				}
			}
			return and, nil
		case "Fn::Equals":
			l, err := args(arg, 2, at, "[Value1, Value2]")
			if err != nil {
				return false, err
			}
			return e.equals(l[0], l[1], at)
		}
	}
	ev, err := e.eval(v, path)
	if err != nil {
		return false, err
	}
	b, err := toBool(ev)
	if err != nil {
		return false, errf(path, "condition: %v", err)
	}
	return b, nil
}

func (e *evaluator) equals(a, b any, path string) (bool, error) {
	va, err := e.eval(a, path+"[0]")
	if err != nil {
		return false, err
	}
	vb, err := e.eval(b, path+"[1]")
	if err != nil {
		return false, err
	}
	sa, errA := scalarString(va)
	sb, errB := scalarString(vb)
	if errA == nil && errB == nil {
		return sa == sb, nil
	}
	return reflect.DeepEqual(va, vb), nil
}

func (e *evaluator) join(arg any, path string) (any, error) {
	l, err := args(arg, 2, path, "[Delimiter, [Values]]")
	if err != nil {
		return nil, err
	}
	delim, err := e.evalString(l[0], path+"[0]")
	if err != nil {
		return nil, err
	}
	list, err := e.eval(l[1], path+"[1]")
	if err != nil {
		return nil, err
	}
	items, ok := list.([]any)
	if !ok {
		return nil, errf(path, "values are a %s, not a list", kindOf(list))
	}
	parts := make([]string, len(items))
	for i, it := range items {
		if parts[i], err = scalarString(it); err != nil {
			return nil, errf(fmt.Sprintf("%s[1][%d]", path, i), "%v", err)
		}
	}
	return strings.Join(parts, delim), nil
}

func (e *evaluator) selectFn(arg any, path string) (any, error) {
	l, err := args(arg, 2, path, "[Index, [Values]]")
	if err != nil {
		return nil, err
	}
	idxV, err := e.eval(l[0], path+"[0]")
	if err != nil {
		return nil, err
	}
	idx, err := toInt(idxV)
	if err != nil {
		return nil, errf(path, "index: %v", err)
	}
	list, err := e.eval(l[1], path+"[1]")
	if err != nil {
		return nil, err
	}
	items, ok := list.([]any)
	if !ok {
		return nil, errf(path, "values are a %s, not a list", kindOf(list))
	}
	if idx < 0 || idx >= len(items) {
		return nil, errf(path, "index %d is out of range (%d values)", idx, len(items))
	}
	return items[idx], nil
}

func (e *evaluator) split(arg any, path string) (any, error) {
	l, err := args(arg, 2, path, "[Delimiter, String]")
	if err != nil {
		return nil, err
	}
	delim, err := e.evalString(l[0], path+"[0]")
	if err != nil {
		return nil, err
	}
	s, err := e.evalString(l[1], path+"[1]")
	if err != nil {
		return nil, err
	}
	parts := strings.Split(s, delim)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func (e *evaluator) findInMap(arg any, path string) (any, error) {
	l, err := args(arg, 3, path, "[MapName, TopLevelKey, SecondLevelKey]")
	if err != nil {
		return nil, err
	}
	var keys [3]string
	for i := range l {
		if keys[i], err = e.evalString(l[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	var cur any = e.mappings
	for i, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, errf(path, "Mappings: %s is not a mapping", strings.Join(keys[:i], "."))
		}
		if cur, ok = m[k]; !ok {
			return nil, errf(path, "Mappings has no %s", strings.Join(keys[:i+1], "."))
		}
	}
	return cur, nil
}

// aliasArn is what SAM makes of Ref <Function>.Alias: the ARN of the alias
// its AutoPublishAlias creates, <function ARN>:<alias>.
func (e *evaluator) aliasArn(id, path string) (string, error) {
	r := e.resources[id]
	if r.typ != "AWS::Serverless::Function" {
		return "", errf(path, "Ref %s.Alias: %s is a %s, not an AWS::Serverless::Function", id, id, r.typ)
	}
	raw, ok := r.props["AutoPublishAlias"]
	if !ok {
		return "", errf(path, "Ref %s.Alias: function %s has no AutoPublishAlias", id, id)
	}
	alias, err := e.evalString(raw, "Resources."+id+".Properties.AutoPublishAlias")
	if err != nil {
		return "", err
	}
	arn, err := e.arn(id, path)
	if err != nil {
		return "", err
	}
	return arn + ":" + alias, nil
}
