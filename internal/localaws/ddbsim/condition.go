package ddbsim

import (
	"slices"
	"strconv"
	"strings"
)

// operand is something an expression reads: a path into the item, a
// :value, or a function of those. value returns nil when the operand names
// an attribute the item does not have.
type operand interface {
	value(it item) (*attr, error)
}

type pathOperand struct{ path docPath }

func (o *pathOperand) value(it item) (*attr, error) { return lookup(it, o.path), nil }

type valueOperand struct{ v *attr }

func (o *valueOperand) value(item) (*attr, error) { return o.v, nil }

type sizeOperand struct{ path docPath }

func (o *sizeOperand) value(it item) (*attr, error) {
	v := lookup(it, o.path)
	if v == nil {
		return nil, nil
	}
	n, ok := v.size()
	if !ok {
		return nil, validation("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: %s", v.typ)
	}
	return &attr{typ: typeN, s: strconv.Itoa(n)}, nil
}

// lookup follows a document path; nil when any step is missing.
func lookup(it item, path docPath) *attr {
	cur := it[path[0].name]
	for _, e := range path[1:] {
		if cur == nil {
			return nil
		}
		switch {
		case e.name != "" && cur.typ == typeM:
			cur = cur.m[e.name]
		case e.name == "" && cur.typ == typeL && e.index < len(cur.l):
			cur = cur.l[e.index]
		default:
			return nil
		}
	}
	return cur
}

// condition is a boolean expression over an item (nil item: no item).
type condition interface {
	holds(it item) (bool, error)
}

type andCond struct{ a, b condition }

func (c *andCond) holds(it item) (bool, error) {
	ok, err := c.a.holds(it)
	if err != nil || !ok {
		return false, err
	}
	return c.b.holds(it)
}

type orCond struct{ a, b condition }

func (c *orCond) holds(it item) (bool, error) {
	ok, err := c.a.holds(it)
	if err != nil || ok {
		return ok, err
	}
	return c.b.holds(it)
}

type notCond struct{ c condition }

func (c *notCond) holds(it item) (bool, error) {
	ok, err := c.c.holds(it)
	return !ok, err
}

// parenCond keeps parentheses visible so key conditions can tell "a AND b"
// from "(a AND b)"; it evaluates to its content.
type parenCond struct{ c condition }

func (c *parenCond) holds(it item) (bool, error) { return c.c.holds(it) }

type compareCond struct {
	op   string
	a, b operand
}

func (c *compareCond) holds(it item) (bool, error) {
	a, b, err := values2(it, c.a, c.b)
	if err != nil {
		return false, err
	}
	switch c.op {
	case "=":
		return a.equal(b), nil
	case "<>":
		return !a.equal(b), nil
	}
	if err := checkOrdered(c.op, c.a, a); err != nil {
		return false, err
	}
	if err := checkOrdered(c.op, c.b, b); err != nil {
		return false, err
	}
	if a == nil || b == nil || a.typ != b.typ || !ordered(a.typ) {
		return false, nil
	}
	r := compare(a, b)
	switch c.op {
	case "<":
		return r < 0, nil
	case "<=":
		return r <= 0, nil
	case ">":
		return r > 0, nil
	}
	return r >= 0, nil
}

// checkOrdered refuses a literal :value that cannot be ordered; stored
// values of other types merely make the comparison false.
func checkOrdered(op string, o operand, v *attr) error {
	if _, literal := o.(*valueOperand); literal && !ordered(v.typ) {
		return validation("Invalid ConditionExpression: Incorrect operand type for operator or function; operator: %s, operand type: %s", op, v.typ)
	}
	return nil
}

func values2(it item, a, b operand) (*attr, *attr, error) {
	va, err := a.value(it)
	if err != nil {
		return nil, nil, err
	}
	vb, err := b.value(it)
	return va, vb, err
}

type betweenCond struct{ v, lo, hi operand }

func (c *betweenCond) holds(it item) (bool, error) {
	v, err := c.v.value(it)
	if err != nil {
		return false, err
	}
	lo, hi, err := values2(it, c.lo, c.hi)
	if err != nil {
		return false, err
	}
	for _, pair := range []struct {
		o operand
		v *attr
	}{{c.lo, lo}, {c.hi, hi}} {
		if err := checkOrdered("BETWEEN", pair.o, pair.v); err != nil {
			return false, err
		}
	}
	if lo == nil || hi == nil || v == nil || lo.typ != hi.typ || v.typ != lo.typ || !ordered(v.typ) {
		return false, nil
	}
	if compare(lo, hi) > 0 {
		return false, validation("Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {%s:%s}, upper bound operand: AttributeValue: {%s:%s}", lo.typ, lo.s, hi.typ, hi.s)
	}
	return compare(v, lo) >= 0 && compare(v, hi) <= 0, nil
}

type inCond struct {
	v    operand
	list []operand
}

func (c *inCond) holds(it item) (bool, error) {
	v, err := c.v.value(it)
	if err != nil || v == nil {
		return false, err
	}
	for _, o := range c.list {
		w, err := o.value(it)
		if err != nil {
			return false, err
		}
		if v.equal(w) {
			return true, nil
		}
	}
	return false, nil
}

type existsCond struct {
	path docPath
	want bool
}

func (c *existsCond) holds(it item) (bool, error) { return (lookup(it, c.path) != nil) == c.want, nil }

var attributeTypes = []string{typeS, typeSS, typeN, typeNS, typeB, typeBS, typeBOOL, typeNULL, typeL, typeM}

type typeCond struct {
	path docPath
	typ  operand
}

func (c *typeCond) holds(it item) (bool, error) {
	t, err := c.typ.value(it)
	if err != nil {
		return false, err
	}
	if t == nil || t.typ != typeS || !slices.Contains(attributeTypes, t.s) {
		got := "<missing>"
		if t != nil {
			got = t.s
		}
		return false, validation("Invalid ConditionExpression: Invalid attribute type name found; type: %s, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}", got)
	}
	v := lookup(it, c.path)
	return v != nil && v.typ == t.s, nil
}

type beginsWithCond struct{ v, prefix operand }

func (c *beginsWithCond) holds(it item) (bool, error) {
	v, prefix, err := values2(it, c.v, c.prefix)
	if err != nil {
		return false, err
	}
	if prefix == nil {
		return false, nil
	}
	if prefix.typ != typeS && prefix.typ != typeB {
		return false, validation("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: %s", prefix.typ)
	}
	return v != nil && v.typ == prefix.typ && strings.HasPrefix(v.s, prefix.s), nil
}

type containsCond struct{ v, member operand }

func (c *containsCond) holds(it item) (bool, error) {
	v, m, err := values2(it, c.v, c.member)
	if err != nil || v == nil || m == nil {
		return false, err
	}
	switch v.typ {
	case typeS, typeB:
		return m.typ == v.typ && strings.Contains(v.s, m.s), nil
	case typeSS, typeNS, typeBS:
		return m.typ+"S" == v.typ && slices.Contains(v.set, m.s), nil
	case typeL:
		return slices.ContainsFunc(v.l, m.equal), nil
	}
	return false, nil
}
