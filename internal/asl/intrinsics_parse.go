package asl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// maxIntrinsicNesting is Step Functions' limit on nested intrinsic calls.
const maxIntrinsicNesting = 10

// literalExpr is a constant argument of an intrinsic function. For string
// literals raw keeps the escapes, which States.Format needs to tell an
// escaped "\{" from a placeholder.
type literalExpr struct {
	v   any
	raw string
}

func (e *literalExpr) eval(*evalEnv, string) (any, *failure) { return e.v, nil }

// callExpr is a compiled intrinsic function call.
type callExpr struct {
	name string
	fn   intrinsic
	args []expr
}

func (c *callExpr) eval(env *evalEnv, field string) (any, *failure) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, f := a.eval(env, field)
		if f != nil {
			return nil, f
		}
		args[i] = v
	}
	v, err := c.fn.call(c, args)
	if err != nil {
		return nil, fail(StatesIntrinsicFailure, "The evaluation of the intrinsic function %s for the field '%s' failed: %v",
			c.name, field, err)
	}
	return v, nil
}

// intrinsic describes one States.* function.
type intrinsic struct {
	minArgs, maxArgs int // maxArgs < 0: any number
	call             func(c *callExpr, args []any) (any, error)
}

type intrinsicParser struct {
	s     string
	pos   int
	depth int
}

// parseIntrinsic compiles an intrinsic function call such as
// "States.Format('{} of {}', $.a, States.ArrayLength($.b))".
func parseIntrinsic(s string) (expr, error) {
	p := &intrinsicParser{s: s}
	e, err := p.call()
	if err == nil {
		p.skipSpace()
		if p.pos != len(p.s) {
			err = fmt.Errorf("unexpected %q after the closing parenthesis", p.s[p.pos:])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("intrinsic function %q: %w", s, err)
	}
	return e, nil
}

func (p *intrinsicParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *intrinsicParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *intrinsicParser) call() (*callExpr, error) {
	start := p.pos
	for p.pos < len(p.s) && isNameByte(p.s[p.pos]) {
		p.pos++
	}
	name := p.s[start:p.pos]
	fn, ok := intrinsics[name]
	if !ok {
		return nil, fmt.Errorf("unknown intrinsic function %q", name)
	}
	p.skipSpace()
	if p.peek() != '(' {
		return nil, fmt.Errorf("expected '(' after %s", name)
	}
	p.pos++
	if p.depth++; p.depth > maxIntrinsicNesting {
		return nil, fmt.Errorf("more than %d nested intrinsic functions", maxIntrinsicNesting)
	}
	var args []expr
	p.skipSpace()
	if p.peek() == ')' {
		p.pos++
	} else {
		for {
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			p.skipSpace()
			if c := p.peek(); c == ',' {
				p.pos++
				continue
			} else if c == ')' {
				p.pos++
				break
			}
			return nil, fmt.Errorf("expected ',' or ')' in the arguments of %s at offset %d", name, p.pos)
		}
	}
	p.depth--
	if len(args) < fn.minArgs || (fn.maxArgs >= 0 && len(args) > fn.maxArgs) {
		return nil, fmt.Errorf("%s takes %s, got %d", name, arity(fn), len(args))
	}
	return &callExpr{name: name, fn: fn, args: args}, nil
}

func arity(fn intrinsic) string {
	switch {
	case fn.maxArgs < 0:
		return fmt.Sprintf("at least %d arguments", fn.minArgs)
	case fn.minArgs == fn.maxArgs:
		return fmt.Sprintf("%d arguments", fn.minArgs)
	}
	return fmt.Sprintf("%d to %d arguments", fn.minArgs, fn.maxArgs)
}

func isNameByte(c byte) bool {
	return c == '.' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *intrinsicParser) arg() (expr, error) {
	p.skipSpace()
	rest := p.s[p.pos:]
	switch {
	case rest == "":
		return nil, fmt.Errorf("unexpected end of expression")
	case rest[0] == '\'':
		return p.stringLiteral()
	case rest[0] == '$':
		return p.path()
	case strings.HasPrefix(rest, "States."):
		return p.call()
	case rest[0] == '-' || (rest[0] >= '0' && rest[0] <= '9'):
		return p.number()
	}
	for word, v := range map[string]any{"true": true, "false": false, "null": nil} {
		if strings.HasPrefix(rest, word) {
			p.pos += len(word)
			return &literalExpr{v: v}, nil
		}
	}
	return nil, fmt.Errorf("unexpected argument %q", rest)
}

func (p *intrinsicParser) stringLiteral() (expr, error) {
	var val strings.Builder
	start := p.pos + 1
	for i := start; i < len(p.s); i++ {
		switch p.s[i] {
		case '\\':
			if i+1 >= len(p.s) {
				return nil, fmt.Errorf("unterminated string literal")
			}
			i++
			val.WriteByte(p.s[i])
		case '\'':
			p.pos = i + 1
			return &literalExpr{v: val.String(), raw: p.s[start:i]}, nil
		default:
			val.WriteByte(p.s[i])
		}
	}
	return nil, fmt.Errorf("unterminated string literal")
}

// path reads a JSONPath argument, which ends at a ',' or ')' outside brackets.
func (p *intrinsicParser) path() (expr, error) {
	start, depth := p.pos, 0
	var quote byte
scan:
	for ; p.pos < len(p.s); p.pos++ {
		c := p.s[p.pos]
		switch {
		case quote != 0:
			if c == '\\' {
				p.pos++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth == 0 && (c == ',' || c == ')'):
			break scan
		}
	}
	jp, err := parsePath(strings.TrimRight(p.s[start:p.pos], " \t"))
	if err != nil {
		return nil, err
	}
	return &pathExpr{p: jp}, nil
}

func (p *intrinsicParser) number() (expr, error) {
	start := p.pos
	for p.pos < len(p.s) && strings.IndexByte("+-0123456789.eE", p.s[p.pos]) >= 0 {
		p.pos++
	}
	text := p.s[start:p.pos]
	if _, err := strconv.ParseFloat(text, 64); err != nil || !json.Valid([]byte(text)) {
		return nil, fmt.Errorf("invalid number %q", text)
	}
	return &literalExpr{v: json.Number(text)}, nil
}
