package ddbsim

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// updateExpr is a parsed UpdateExpression.
type updateExpr struct {
	set    []setAction
	remove []docPath
	add    []valueAction
	del    []valueAction
}

type setAction struct {
	path  docPath
	value operand
}

// valueAction is an ADD or DELETE action: a path and a literal value.
type valueAction struct {
	path docPath
	v    *attr
}

// paths lists every path the update writes.
func (u *updateExpr) paths() []docPath {
	var out []docPath
	for _, a := range u.set {
		out = append(out, a.path)
	}
	out = append(out, u.remove...)
	for _, a := range slices.Concat(u.add, u.del) {
		out = append(out, a.path)
	}
	return out
}

func parseUpdate(env *exprEnv, src string) (*updateExpr, error) {
	p, err := newParser(env, "UpdateExpression", src)
	if err != nil {
		return nil, err
	}
	u := &updateExpr{}
	seen := map[string]bool{}
	for p.peek().kind != tokEOF {
		t := p.next()
		clause := strings.ToUpper(t.text)
		if t.kind != tokIdent || !slices.Contains([]string{"SET", "REMOVE", "ADD", "DELETE"}, clause) {
			p.i--
			return nil, p.syntaxError()
		}
		if seen[clause] {
			return nil, p.errorf("The %q section can only be used once in an update expression;", clause)
		}
		seen[clause] = true
		for {
			if err := p.updateAction(u, clause); err != nil {
				return nil, err
			}
			if !p.atPunct(",") {
				break
			}
			p.next()
		}
	}
	paths := u.paths()
	for i, a := range paths {
		for _, b := range paths[i+1:] {
			if a.overlaps(b) {
				return nil, p.errorf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [%s], path two: [%s]", pathList(a), pathList(b))
			}
		}
	}
	return u, nil
}

func pathList(p docPath) string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.name == "" {
			parts[i] = fmt.Sprintf("[%d]", e.index)
		} else {
			parts[i] = e.name
		}
	}
	return strings.Join(parts, ", ")
}

func (p *parser) updateAction(u *updateExpr, clause string) error {
	path, err := p.path()
	if err != nil {
		return err
	}
	switch clause {
	case "SET":
		if err := p.expect("="); err != nil {
			return err
		}
		v, err := p.setValue()
		if err != nil {
			return err
		}
		u.set = append(u.set, setAction{path: path, value: v})
	case "REMOVE":
		u.remove = append(u.remove, path)
	default:
		if p.peek().kind != tokValue {
			return p.syntaxError()
		}
		v, err := p.value()
		if err != nil {
			return err
		}
		allowed := []string{typeSS, typeNS, typeBS}
		if clause == "ADD" {
			allowed = append(allowed, typeN)
		}
		if !slices.Contains(allowed, v.typ) {
			return p.errorf("Incorrect operand type for operator or function; operator: %s, operand type: %s", clause, v.typ)
		}
		if clause == "ADD" {
			u.add = append(u.add, valueAction{path: path, v: v})
		} else {
			u.del = append(u.del, valueAction{path: path, v: v})
		}
	}
	return nil
}

// setValue reads the right-hand side of a SET action: an operand,
// optionally plus or minus another.
func (p *parser) setValue() (operand, error) {
	a, err := p.updateOperand()
	if err != nil {
		return nil, err
	}
	if p.atPunct("+") || p.atPunct("-") {
		op := p.next().text
		b, err := p.updateOperand()
		if err != nil {
			return nil, err
		}
		return &arithOperand{op: op, a: a, b: b}, nil
	}
	return a, nil
}

func (p *parser) updateOperand() (operand, error) {
	t := p.peek()
	switch {
	case t.kind == tokValue:
		v, err := p.value()
		return &valueOperand{v: v}, err
	case t.kind == tokIdent && p.peekAt(1).text == "(":
		p.next()
		p.next()
		switch t.text {
		case "if_not_exists":
			args, err := p.arguments(p.updateOperand)
			if err != nil {
				return nil, err
			}
			if len(args) != 2 {
				return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: %d", len(args))
			}
			path, ok := args[0].(*pathOperand)
			if !ok {
				return nil, p.errorf("Operator or function requires a document path; operator or function: if_not_exists")
			}
			return &ifNotExistsOperand{path: path.path, fallback: args[1]}, nil
		case "list_append":
			args, err := p.arguments(p.updateOperand)
			if err != nil {
				return nil, err
			}
			if len(args) != 2 {
				return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: list_append, number of operands: %d", len(args))
			}
			return &listAppendOperand{a: args[0], b: args[1]}, nil
		}
		if slices.Contains(conditionFunctions, t.text) || t.text == "size" {
			return nil, p.errorf("The function is not allowed in an update expression; function: %s", t.text)
		}
		return nil, p.errorf("Invalid function name; function: %s", t.text)
	case t.kind == tokIdent || t.kind == tokName:
		path, err := p.path()
		return &pathOperand{path: path}, err
	}
	return nil, p.syntaxError()
}

var (
	errMissingOperand = validation("The provided expression refers to an attribute that does not exist in the item")
	errOperandType    = validation("An operand in the update expression has an incorrect data type")
	errInvalidPath    = validation("The document path provided in the update expression is invalid for update")
)

type ifNotExistsOperand struct {
	path     docPath
	fallback operand
}

func (o *ifNotExistsOperand) value(it item) (*attr, error) {
	if v := lookup(it, o.path); v != nil {
		return v, nil
	}
	return required(o.fallback, it)
}

type listAppendOperand struct{ a, b operand }

func (o *listAppendOperand) value(it item) (*attr, error) {
	a, err := required(o.a, it)
	if err != nil {
		return nil, err
	}
	b, err := required(o.b, it)
	if err != nil {
		return nil, err
	}
	if a.typ != typeL || b.typ != typeL {
		return nil, errOperandType
	}
	return &attr{typ: typeL, l: slices.Concat(a.l, b.l)}, nil
}

type arithOperand struct {
	op   string
	a, b operand
}

func (o *arithOperand) value(it item) (*attr, error) {
	a, err := required(o.a, it)
	if err != nil {
		return nil, err
	}
	b, err := required(o.b, it)
	if err != nil {
		return nil, err
	}
	if a.typ != typeN || b.typ != typeN {
		return nil, errOperandType
	}
	r := new(big.Rat)
	if o.op == "+" {
		r.Add(parseNumber(a.s), parseNumber(b.s))
	} else {
		r.Sub(parseNumber(a.s), parseNumber(b.s))
	}
	return &attr{typ: typeN, s: formatNumber(r)}, nil
}

// required evaluates an operand of an update, where a missing attribute is
// an error rather than a false comparison.
func required(o operand, it item) (*attr, error) {
	v, err := o.value(it)
	if err == nil && v == nil {
		err = errMissingOperand
	}
	return v, err
}

// apply returns the item the update makes of old (nil: no item yet). Every
// right-hand side is evaluated against old, as DynamoDB does.
func (u *updateExpr) apply(old item) (item, error) {
	if old == nil {
		old = item{}
	}
	values := make([]*attr, len(u.set))
	for i, a := range u.set {
		v, err := required(a.value, old)
		if err != nil {
			return nil, err
		}
		values[i] = v.clone()
	}
	it := old.clone()
	for i, a := range u.set {
		if err := assign(it, a.path, values[i]); err != nil {
			return nil, err
		}
	}
	removes := slices.Clone(u.remove)
	// Remove higher list indexes first so each index names the element it
	// named in the original list.
	slices.SortStableFunc(removes, func(a, b docPath) int {
		la, lb := a[len(a)-1], b[len(b)-1]
		if la.name == "" && lb.name == "" {
			return lb.index - la.index
		}
		return 0
	})
	for _, path := range removes {
		remove(it, path)
	}
	for _, a := range u.add {
		if err := addTo(it, a); err != nil {
			return nil, err
		}
	}
	for _, a := range u.del {
		if err := deleteFrom(it, a); err != nil {
			return nil, err
		}
	}
	return it, nil
}

func assign(it item, path docPath, v *attr) error {
	if len(path) == 1 {
		it[path[0].name] = v
		return nil
	}
	parent := lookup(it, path[:len(path)-1])
	last := path[len(path)-1]
	switch {
	case parent == nil:
		return errInvalidPath
	case last.name != "" && parent.typ == typeM:
		parent.m[last.name] = v
	case last.name == "" && parent.typ == typeL:
		if last.index < len(parent.l) {
			parent.l[last.index] = v
		} else {
			parent.l = append(parent.l, v)
		}
	default:
		return errInvalidPath
	}
	return nil
}

func remove(it item, path docPath) {
	if len(path) == 1 {
		delete(it, path[0].name)
		return
	}
	parent := lookup(it, path[:len(path)-1])
	last := path[len(path)-1]
	switch {
	case parent == nil:
	case last.name != "" && parent.typ == typeM:
		delete(parent.m, last.name)
	case last.name == "" && parent.typ == typeL && last.index < len(parent.l):
		parent.l = slices.Delete(parent.l, last.index, last.index+1)
	}
}

func addTo(it item, a valueAction) error {
	cur := lookup(it, a.path)
	switch {
	case cur == nil:
		return assign(it, a.path, a.v.clone())
	case cur.typ != a.v.typ:
		return errOperandType
	case cur.typ == typeN:
		sum := new(big.Rat).Add(parseNumber(cur.s), parseNumber(a.v.s))
		cur.s = formatNumber(sum)
	default:
		for _, m := range a.v.set {
			if !slices.Contains(cur.set, m) {
				cur.set = append(cur.set, m)
			}
		}
	}
	return nil
}

func deleteFrom(it item, a valueAction) error {
	cur := lookup(it, a.path)
	switch {
	case cur == nil:
		return nil
	case cur.typ != a.v.typ:
		return errOperandType
	}
	cur.set = slices.DeleteFunc(cur.set, func(m string) bool { return slices.Contains(a.v.set, m) })
	if len(cur.set) == 0 {
		remove(it, a.path)
	}
	return nil
}

// project returns the parts of it the paths name, nested as in it; list
// elements keep their order and close up, as DynamoDB returns them.
func project(it item, paths []docPath) item {
	root := &projection{}
	for _, p := range paths {
		if v := lookup(it, p); v != nil {
			root.put(p, v)
		}
	}
	out := item{}
	for name, n := range root.fields {
		out[name] = n.build()
	}
	return out
}

type projection struct {
	leaf   *attr
	fields map[string]*projection
	elems  map[int]*projection
}

func (n *projection) put(p docPath, v *attr) {
	if len(p) == 0 {
		n.leaf = v.clone()
		return
	}
	var child *projection
	if p[0].name != "" {
		if n.fields == nil {
			n.fields = map[string]*projection{}
		}
		if child = n.fields[p[0].name]; child == nil {
			child = &projection{}
			n.fields[p[0].name] = child
		}
	} else {
		if n.elems == nil {
			n.elems = map[int]*projection{}
		}
		if child = n.elems[p[0].index]; child == nil {
			child = &projection{}
			n.elems[p[0].index] = child
		}
	}
	child.put(p[1:], v)
}

func (n *projection) build() *attr {
	switch {
	case n.leaf != nil:
		return n.leaf
	case n.fields != nil:
		m := map[string]*attr{}
		for name, c := range n.fields {
			m[name] = c.build()
		}
		return &attr{typ: typeM, m: m}
	}
	indexes := make([]int, 0, len(n.elems))
	for i := range n.elems {
		indexes = append(indexes, i)
	}
	slices.Sort(indexes)
	l := make([]*attr, len(indexes))
	for j, i := range indexes {
		l[j] = n.elems[i].build()
	}
	return &attr{typ: typeL, l: l}
}
