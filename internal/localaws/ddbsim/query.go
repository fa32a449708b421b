package ddbsim

import (
	"encoding/json"
	"slices"

	"github.com/switchyard/switchyard/internal/localaws"
)

type queryInput struct {
	TableName                 string            `json:"TableName"`
	IndexName                 *string           `json:"IndexName"`
	KeyConditionExpression    *string           `json:"KeyConditionExpression"`
	FilterExpression          *string           `json:"FilterExpression"`
	ProjectionExpression      *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues map[string]*attr  `json:"ExpressionAttributeValues"`
	ScanIndexForward          *bool             `json:"ScanIndexForward"`
	Limit                     *int              `json:"Limit"`
	ExclusiveStartKey         item              `json:"ExclusiveStartKey"`
	Select                    string            `json:"Select"`
	ConsistentRead            bool              `json:"ConsistentRead"`

	KeyConditions   json.RawMessage `json:"KeyConditions"`
	QueryFilter     json.RawMessage `json:"QueryFilter"`
	AttributesToGet json.RawMessage `json:"AttributesToGet"`
}

// querySpec is a validated Query: the partition, an optional range
// condition, and what to do with the matching items.
type querySpec struct {
	hash       *attr
	rangeCond  condition
	filter     condition
	projection []docPath
	forward    bool
	limit      int // 0: no limit
	count      bool
}

func (s *Service) query(call *localaws.Call) (any, error) {
	var in queryInput
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.TableName)
	for name, raw := range map[string]json.RawMessage{"KeyConditions": in.KeyConditions, "QueryFilter": in.QueryFilter, "AttributesToGet": in.AttributesToGet} {
		if len(raw) > 0 && string(raw) != "null" {
			return nil, validation("The local stack emulates expressions only; the legacy parameter %s is not supported", name)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.table(in.TableName)
	if err != nil {
		return nil, err
	}
	spec, err := t.querySpec(&in)
	if err != nil {
		return nil, err
	}
	return t.runQuery(spec, in.ExclusiveStartKey)
}

func (t *table) querySpec(in *queryInput) (*querySpec, error) {
	if in.IndexName != nil {
		return nil, validation("The table does not have the specified index: %s", *in.IndexName)
	}
	if in.KeyConditionExpression == nil {
		return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	env, err := checkPlaceholders(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	spec := &querySpec{forward: in.ScanIndexForward == nil || *in.ScanIndexForward}
	keyCond, err := parseCondition(env, "KeyConditionExpression", *in.KeyConditionExpression)
	if err != nil {
		return nil, err
	}
	if spec.hash, spec.rangeCond, err = t.splitKeyCondition(keyCond); err != nil {
		return nil, err
	}
	if spec.filter, err = optionalCondition(env, "FilterExpression", in.FilterExpression); err != nil {
		return nil, err
	}
	for _, p := range conditionPaths(spec.filter) {
		if t.isKey(p[0].name) {
			return nil, validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", p[0].name)
		}
	}
	if in.ProjectionExpression != nil {
		if spec.projection, err = parseProjection(env, *in.ProjectionExpression); err != nil {
			return nil, err
		}
	}
	if err := env.checkUnused(); err != nil {
		return nil, err
	}
	switch in.Select {
	case "", "ALL_ATTRIBUTES", "SPECIFIC_ATTRIBUTES":
	case "COUNT":
		spec.count = true
	default:
		return nil, validation("The local stack does not emulate Select %s", in.Select)
	}
	if in.Limit != nil {
		if *in.Limit < 1 {
			return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
		}
		spec.limit = *in.Limit
	}
	return spec, nil
}

// splitKeyCondition checks a KeyConditionExpression: an equality on the
// hash key, optionally ANDed with one condition on the range key.
func (t *table) splitKeyCondition(c condition) (*attr, condition, error) {
	var parts []condition
	var flatten func(c condition) error
	flatten = func(c condition) error {
		switch c := c.(type) {
		case *parenCond:
			return flatten(c.c)
		case *andCond:
			if err := flatten(c.a); err != nil {
				return err
			}
			return flatten(c.b)
		case *orCond:
			return validation("Invalid operator used in KeyConditionExpression: OR")
		case *notCond:
			return validation("Invalid operator used in KeyConditionExpression: NOT")
		}
		parts = append(parts, c)
		return nil
	}
	if err := flatten(c); err != nil {
		return nil, nil, err
	}
	if len(parts) > 2 {
		return nil, nil, validation("KeyConditionExpressions must only contain one condition per key")
	}
	var hash *attr
	var rangeCond condition
	for _, part := range parts {
		name, values, op := keyConditionPart(part)
		if name == "" {
			return nil, nil, validation("Invalid KeyConditionExpression: Query key condition not supported")
		}
		switch {
		case name == t.hashKey && hash == nil:
			if op != "=" {
				return nil, nil, validation("Query key condition not supported")
			}
			if values[0].typ != t.hashType {
				return nil, nil, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
			hash = values[0]
		case name == t.rangeKey && t.rangeKey != "" && rangeCond == nil:
			if op == "<>" {
				return nil, nil, validation("Unsupported operator on KeyConditionExpression: operator: <>")
			}
			for _, v := range values {
				if v.typ != t.rangeTyp {
					return nil, nil, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
				}
			}
			rangeCond = part
		case name == t.hashKey || name == t.rangeKey:
			return nil, nil, validation("KeyConditionExpressions must only contain one condition per key")
		default:
			return nil, nil, validation("Query condition missed key schema element: %s", t.hashKey)
		}
	}
	if hash == nil {
		return nil, nil, validation("Query condition missed key schema element: %s", t.hashKey)
	}
	return hash, rangeCond, nil
}

// keyConditionPart reads one key condition: the top-level attribute it
// constrains, its literal values and the operator. name is "" for shapes a
// key condition cannot take.
func keyConditionPart(c condition) (name string, values []*attr, op string) {
	attrName := func(o operand) string {
		if p, ok := o.(*pathOperand); ok && len(p.path) == 1 {
			return p.path[0].name
		}
		return ""
	}
	literal := func(os ...operand) []*attr {
		var out []*attr
		for _, o := range os {
			v, ok := o.(*valueOperand)
			if !ok {
				return nil
			}
			out = append(out, v.v)
		}
		return out
	}
	switch c := c.(type) {
	case *compareCond:
		if vs := literal(c.b); vs != nil {
			return attrName(c.a), vs, c.op
		}
	case *betweenCond:
		if vs := literal(c.lo, c.hi); vs != nil {
			return attrName(c.v), vs, "BETWEEN"
		}
	case *beginsWithCond:
		if vs := literal(c.prefix); vs != nil {
			return attrName(c.v), vs, "begins_with"
		}
	}
	return "", nil, ""
}

func (t *table) runQuery(spec *querySpec, start item) (any, error) {
	var items []item
	for _, it := range t.items[encodeKey(spec.hash)] {
		items = append(items, it)
	}
	if t.rangeKey != "" {
		slices.SortFunc(items, func(a, b item) int { return compare(a[t.rangeKey], b[t.rangeKey]) })
	}
	if !spec.forward {
		slices.Reverse(items)
	}
	if start != nil {
		h, _, err := t.keyOf(start)
		if err != nil {
			return nil, validation("The provided starting key is invalid: The provided key element does not match the schema")
		}
		if h != encodeKey(spec.hash) {
			return nil, validation("The provided starting key does not match the range key predicate")
		}
		items = slices.DeleteFunc(items, func(it item) bool {
			if t.rangeKey == "" {
				return true
			}
			c := compare(it[t.rangeKey], start[t.rangeKey])
			return (spec.forward && c <= 0) || (!spec.forward && c >= 0)
		})
	}
	var out []item
	scanned := 0
	var last item
	for _, it := range items {
		if spec.rangeCond != nil {
			ok, err := spec.rangeCond.holds(it)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		scanned++
		keep := true
		if spec.filter != nil {
			ok, err := spec.filter.holds(it)
			if err != nil {
				return nil, err
			}
			keep = ok
		}
		if keep {
			if spec.projection != nil {
				it = project(it, spec.projection)
			}
			out = append(out, it)
		}
		if spec.limit > 0 && scanned == spec.limit {
			last = t.keyItem(it)
			break
		}
	}
	resp := map[string]any{"Count": len(out), "ScannedCount": scanned}
	if !spec.count {
		if out == nil {
			out = []item{}
		}
		resp["Items"] = out
	}
	if last != nil {
		resp["LastEvaluatedKey"] = last
	}
	return resp, nil
}

// conditionPaths lists the document paths a condition reads.
func conditionPaths(c condition) []docPath {
	var out []docPath
	visitOperand := func(o operand) {
		switch o := o.(type) {
		case *pathOperand:
			out = append(out, o.path)
		case *sizeOperand:
			out = append(out, o.path)
		}
	}
	var visit func(c condition)
	visit = func(c condition) {
		switch c := c.(type) {
		case *andCond:
			visit(c.a)
			visit(c.b)
		case *orCond:
			visit(c.a)
			visit(c.b)
		case *notCond:
			visit(c.c)
		case *parenCond:
			visit(c.c)
		case *compareCond:
			visitOperand(c.a)
			visitOperand(c.b)
		case *betweenCond:
			visitOperand(c.v)
			visitOperand(c.lo)
			visitOperand(c.hi)
		case *inCond:
			visitOperand(c.v)
			for _, o := range c.list {
				visitOperand(o)
			}
		case *existsCond:
			out = append(out, c.path)
		case *typeCond:
			out = append(out, c.path)
		case *beginsWithCond:
			visitOperand(c.v)
		case *containsCond:
			visitOperand(c.v)
			visitOperand(c.member)
		}
	}
	if c != nil {
		visit(c)
	}
	return out
}
