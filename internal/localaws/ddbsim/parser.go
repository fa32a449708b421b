package ddbsim

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// exprEnv holds a request's ExpressionAttributeNames and
// ExpressionAttributeValues and records which of them its expressions use,
// because DynamoDB refuses requests that define placeholders they never use.
type exprEnv struct {
	names      map[string]string
	values     map[string]*attr
	usedNames  map[string]bool
	usedValues map[string]bool
}

func newExprEnv(names map[string]string, values map[string]*attr) *exprEnv {
	return &exprEnv{names: names, values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
}

// checkUnused fails when a defined placeholder was used by no expression.
func (e *exprEnv) checkUnused() error {
	if unused := unusedKeys(e.values, e.usedValues); unused != "" {
		return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", unused)
	}
	if unused := unusedKeys(e.names, e.usedNames); unused != "" {
		return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", unused)
	}
	return nil
}

func unusedKeys[V any](defined map[string]V, used map[string]bool) string {
	var out []string
	for k := range defined {
		if !used[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// parser reads one expression of a request.
type parser struct {
	env  *exprEnv
	kind string // "ConditionExpression", "UpdateExpression", ...
	src  string
	toks []token
	i    int
}

func newParser(env *exprEnv, kind, src string) (*parser, error) {
	if strings.TrimSpace(src) == "" {
		return nil, validation("Invalid %s: The expression can not be empty;", kind)
	}
	toks, err := lex(kind, src)
	if err != nil {
		return nil, err
	}
	return &parser{env: env, kind: kind, src: src, toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token { return p.toks[min(p.i+n, len(p.toks)-1)] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) atKeyword(word string) bool {
	t := p.peek()
	return t.kind == tokIdent && strings.EqualFold(t.text, word)
}

func (p *parser) atPunct(text string) bool {
	t := p.peek()
	return t.kind == tokPunctuation && t.text == text
}

func (p *parser) expect(text string) error {
	if !p.atPunct(text) && !p.atKeyword(text) {
		return p.syntaxError()
	}
	p.next()
	return nil
}

func (p *parser) syntaxError() error {
	t := p.peek()
	return syntaxError(p.kind, p.src, t.text, t.pos)
}

func (p *parser) errorf(format string, args ...any) error {
	return validation("Invalid "+p.kind+": "+format, args...)
}

func (p *parser) end() error {
	if p.peek().kind != tokEOF {
		return p.syntaxError()
	}
	return nil
}

// path reads a document path: a name followed by .name and [index] steps.
func (p *parser) path() (docPath, error) {
	first, err := p.pathName()
	if err != nil {
		return nil, err
	}
	path := docPath{{name: first}}
	for {
		switch {
		case p.atPunct("."):
			p.next()
			name, err := p.pathName()
			if err != nil {
				return nil, err
			}
			path = append(path, pathElem{name: name})
		case p.atPunct("["):
			p.next()
			t := p.next()
			if t.kind != tokNumber {
				p.i--
				return nil, p.syntaxError()
			}
			idx, err := strconv.Atoi(t.text)
			if err != nil {
				return nil, p.errorf("List index is out of range; index: %s", t.text)
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			path = append(path, pathElem{index: idx})
		default:
			return path, nil
		}
	}
}

func (p *parser) pathName() (string, error) {
	t := p.next()
	switch t.kind {
	case tokIdent:
		if isReserved(t.text) {
			return "", p.errorf("Attribute name is a reserved keyword; reserved keyword: %s", t.text)
		}
		return t.text, nil
	case tokName:
		name, ok := p.env.names[t.text]
		if !ok {
			return "", p.errorf("An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
		}
		p.env.usedNames[t.text] = true
		return name, nil
	}
	p.i--
	return "", p.syntaxError()
}

func (p *parser) value() (*attr, error) {
	t := p.next()
	v, ok := p.env.values[t.text]
	if !ok {
		return nil, p.errorf("An expression attribute value used in expression is not defined; attribute value: %s", t.text)
	}
	p.env.usedValues[t.text] = true
	return v, nil
}

// parseCondition parses a ConditionExpression, FilterExpression or
// KeyConditionExpression.
func parseCondition(env *exprEnv, kind, src string) (condition, error) {
	p, err := newParser(env, kind, src)
	if err != nil {
		return nil, err
	}
	c, err := p.orCondition()
	if err != nil {
		return nil, err
	}
	return c, p.end()
}

func (p *parser) orCondition() (condition, error) {
	left, err := p.andCondition()
	for err == nil && p.atKeyword("OR") {
		p.next()
		var right condition
		if right, err = p.andCondition(); err == nil {
			left = &orCond{a: left, b: right}
		}
	}
	return left, err
}

func (p *parser) andCondition() (condition, error) {
	left, err := p.notCondition()
	for err == nil && p.atKeyword("AND") {
		p.next()
		var right condition
		if right, err = p.notCondition(); err == nil {
			left = &andCond{a: left, b: right}
		}
	}
	return left, err
}

func (p *parser) notCondition() (condition, error) {
	if p.atKeyword("NOT") {
		p.next()
		c, err := p.notCondition()
		if err != nil {
			return nil, err
		}
		return &notCond{c: c}, nil
	}
	return p.primaryCondition()
}

var conditionFunctions = []string{"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}

func (p *parser) primaryCondition() (condition, error) {
	if p.atPunct("(") {
		p.next()
		c, err := p.orCondition()
		if err != nil {
			return nil, err
		}
		return &parenCond{c: c}, p.expect(")")
	}
	if t := p.peek(); t.kind == tokIdent && p.peekAt(1).text == "(" && slices.Contains(conditionFunctions, t.text) {
		return p.functionCondition()
	}
	left, err := p.conditionOperand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == tokPunctuation && slices.Contains([]string{"=", "<>", "<", "<=", ">", ">="}, t.text):
		p.next()
		right, err := p.conditionOperand()
		return &compareCond{op: t.text, a: left, b: right}, err
	case p.atKeyword("BETWEEN"):
		p.next()
		lo, err := p.conditionOperand()
		if err != nil {
			return nil, err
		}
		if err := p.expect("AND"); err != nil {
			return nil, err
		}
		hi, err := p.conditionOperand()
		return &betweenCond{v: left, lo: lo, hi: hi}, err
	case p.atKeyword("IN"):
		p.next()
		if err := p.expect("("); err != nil {
			return nil, err
		}
		in := &inCond{v: left}
		for {
			o, err := p.conditionOperand()
			if err != nil {
				return nil, err
			}
			in.list = append(in.list, o)
			if !p.atPunct(",") {
				break
			}
			p.next()
		}
		if len(in.list) > 100 {
			return nil, p.errorf("The IN operator is provided with too many operands; number of operands: %d", len(in.list))
		}
		return in, p.expect(")")
	}
	return nil, p.syntaxError()
}

func (p *parser) functionCondition() (condition, error) {
	name := p.next().text
	p.next() // (
	args, err := p.arguments(p.conditionOperand)
	if err != nil {
		return nil, err
	}
	want := 2
	if name == "attribute_exists" || name == "attribute_not_exists" {
		want = 1
	}
	if len(args) != want {
		return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args))
	}
	path, ok := args[0].(*pathOperand)
	if !ok {
		return nil, p.errorf("Operator or function requires a document path; operator or function: %s", name)
	}
	switch name {
	case "attribute_exists":
		return &existsCond{path: path.path, want: true}, nil
	case "attribute_not_exists":
		return &existsCond{path: path.path, want: false}, nil
	case "attribute_type":
		return &typeCond{path: path.path, typ: args[1]}, nil
	case "begins_with":
		return &beginsWithCond{v: path, prefix: args[1]}, nil
	}
	return &containsCond{v: path, member: args[1]}, nil
}

// arguments reads a parenthesised, comma-separated argument list whose
// opening parenthesis has been consumed.
func (p *parser) arguments(arg func() (operand, error)) ([]operand, error) {
	var args []operand
	for {
		o, err := arg()
		if err != nil {
			return nil, err
		}
		args = append(args, o)
		if !p.atPunct(",") {
			break
		}
		p.next()
	}
	return args, p.expect(")")
}

// conditionOperand reads a path, a :value or size(path).
func (p *parser) conditionOperand() (operand, error) {
	t := p.peek()
	switch {
	case t.kind == tokValue:
		v, err := p.value()
		return &valueOperand{v: v}, err
	case t.kind == tokIdent && p.peekAt(1).text == "(":
		if t.text != "size" {
			if slices.Contains(conditionFunctions, t.text) || t.text == "if_not_exists" || t.text == "list_append" {
				return nil, p.errorf("The function is not allowed to be used this way in an expression; function: %s", t.text)
			}
			return nil, p.errorf("Invalid function name; function: %s", t.text)
		}
		p.next()
		p.next()
		args, err := p.arguments(p.conditionOperand)
		if err != nil {
			return nil, err
		}
		if len(args) != 1 {
			return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: size, number of operands: %d", len(args))
		}
		path, ok := args[0].(*pathOperand)
		if !ok {
			return nil, p.errorf("Operator or function requires a document path; operator or function: size")
		}
		return &sizeOperand{path: path.path}, nil
	case t.kind == tokIdent || t.kind == tokName:
		path, err := p.path()
		return &pathOperand{path: path}, err
	}
	return nil, p.syntaxError()
}

// parseProjection parses a ProjectionExpression: comma-separated paths.
func parseProjection(env *exprEnv, src string) ([]docPath, error) {
	p, err := newParser(env, "ProjectionExpression", src)
	if err != nil {
		return nil, err
	}
	var paths []docPath
	for {
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		for _, q := range paths {
			if q.overlaps(path) {
				return nil, p.errorf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [%s], path two: [%s]", q, path)
			}
		}
		paths = append(paths, path)
		if !p.atPunct(",") {
			break
		}
		p.next()
	}
	return paths, p.end()
}
