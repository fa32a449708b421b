package asl

import (
	"strconv"
	"strings"
)

// evalEnv is what paths and intrinsic functions read: the effective input
// ("$") and the context object ("$$").
type evalEnv struct {
	input any
	ctx   any
}

// expr is a value computed at run time: a path or an intrinsic function call.
type expr interface {
	// eval computes the value; field names the template field for messages.
	eval(env *evalEnv, field string) (any, *failure)
}

// pathExpr reads the value a JSONPath selects from the input or context.
type pathExpr struct{ p *jsonPath }

func (e *pathExpr) eval(env *evalEnv, field string) (any, *failure) {
	src := env.input
	if e.p.context {
		src = env.ctx
	}
	v, ok := e.p.lookup(src)
	if !ok {
		return nil, runtimeFailure("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'",
			e.p.text, field, jsonText(src))
	}
	return v, nil
}

// compileExpr compiles the value of a field whose name ends in ".$": a path
// or an intrinsic function call.
func compileExpr(s string) (expr, error) {
	if strings.HasPrefix(s, "States.") {
		return parseIntrinsic(s)
	}
	p, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	return &pathExpr{p: p}, nil
}

// tnode is a compiled payload template node (Parameters, ResultSelector,
// ItemSelector).
type tnode interface {
	eval(env *evalEnv) (any, *failure)
}

type tLiteral struct{ v any }

func (n tLiteral) eval(*evalEnv) (any, *failure) { return n.v, nil }

type tArray []tnode

func (n tArray) eval(env *evalEnv) (any, *failure) {
	out := make([]any, len(n))
	for i, e := range n {
		v, f := e.eval(env)
		if f != nil {
			return nil, f
		}
		out[i] = v
	}
	return out, nil
}

type tField struct {
	key   string // output key (without ".$")
	node  tnode  // static value, or
	expr  expr   // dynamic value
	field string // source field name for messages
}

type tObject []tField

func (n tObject) eval(env *evalEnv) (any, *failure) {
	out := make(map[string]any, len(n))
	for _, f := range n {
		var v any
		var fl *failure
		if f.expr != nil {
			v, fl = f.expr.eval(env, f.field)
		} else {
			v, fl = f.node.eval(env)
		}
		if fl != nil {
			return nil, fl
		}
		out[f.key] = v
	}
	return out, nil
}

// compileTemplate compiles a payload template, which must be a JSON object.
func compileTemplate(v any, where, field string) (tnode, error) {
	if _, ok := v.(map[string]any); !ok {
		return nil, defErr(where, field, "must be a JSON object, got %s", typeName(v))
	}
	return compileNode(v, where, field)
}

func compileNode(v any, where, field string) (tnode, error) {
	switch x := v.(type) {
	case map[string]any:
		obj := tObject{}
		seen := map[string]string{}
		for _, k := range sortedKeys(x) {
			name := field + "." + k
			out := k
			f := tField{field: k}
			if strings.HasSuffix(k, ".$") {
				out = strings.TrimSuffix(k, ".$")
				s, ok := x[k].(string)
				if !ok {
					return nil, defErr(where, name, "a field ending in \".$\" needs a path or intrinsic function string, got %s", typeName(x[k]))
				}
				e, err := compileExpr(s)
				if err != nil {
					return nil, defErr(where, name, "%v", err)
				}
				f.expr = e
			} else {
				n, err := compileNode(x[k], where, name)
				if err != nil {
					return nil, err
				}
				f.node = n
			}
			if out == "" {
				return nil, defErr(where, name, "empty field name")
			}
			if prev, dup := seen[out]; dup {
				return nil, defErr(where, name, "produces the same key %q as %q", out, prev)
			}
			seen[out] = k
			f.key = out
			obj = append(obj, f)
		}
		return obj, nil
	case []any:
		arr := make(tArray, len(x))
		for i, e := range x {
			n, err := compileNode(e, where, field+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			arr[i] = n
		}
		return arr, nil
	}
	return tLiteral{v: v}, nil
}
