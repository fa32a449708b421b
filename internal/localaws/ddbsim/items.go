package ddbsim

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// itemInput is the union of the GetItem, PutItem, UpdateItem and DeleteItem
// request members the emulator reads.
type itemInput struct {
	TableName                           string            `json:"TableName"`
	Key                                 item              `json:"Key"`
	Item                                item              `json:"Item"`
	ConditionExpression                 *string           `json:"ConditionExpression"`
	UpdateExpression                    *string           `json:"UpdateExpression"`
	ProjectionExpression                *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames            map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues           map[string]*attr  `json:"ExpressionAttributeValues"`
	ReturnValues                        string            `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure string            `json:"ReturnValuesOnConditionCheckFailure"`
	ConsistentRead                      bool              `json:"ConsistentRead"`

	// Legacy parameters, refused with a clear message.
	Expected         json.RawMessage `json:"Expected"`
	AttributeUpdates json.RawMessage `json:"AttributeUpdates"`
	AttributesToGet  json.RawMessage `json:"AttributesToGet"`
}

// readItemInput decodes a request and checks what all item calls share.
func readItemInput(call *localaws.Call) (*itemInput, *exprEnv, error) {
	var in itemInput
	if err := decode(call, &in); err != nil {
		return nil, nil, err
	}
	call.AddResource(in.TableName)
	env, err := in.validate()
	if err != nil {
		return nil, nil, err
	}
	return &in, env, nil
}

// validate checks what all item requests share (no legacy parameters,
// well-formed placeholders, ReturnValuesOnConditionCheckFailure) and
// returns the expressions' environment.
func (in *itemInput) validate() (*exprEnv, error) {
	for name, raw := range map[string]json.RawMessage{"Expected": in.Expected, "AttributeUpdates": in.AttributeUpdates, "AttributesToGet": in.AttributesToGet} {
		if len(raw) > 0 && string(raw) != "null" {
			return nil, validation("The local stack emulates expressions only; the legacy parameter %s is not supported", name)
		}
	}
	env, err := checkPlaceholders(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	switch in.ReturnValuesOnConditionCheckFailure {
	case "", "NONE", "ALL_OLD":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", in.ReturnValuesOnConditionCheckFailure)
	}
	return env, nil
}

// checkPlaceholders validates the placeholder maps and returns their env.
func checkPlaceholders(names map[string]string, values map[string]*attr) (*exprEnv, error) {
	if names != nil && len(names) == 0 {
		return nil, validation("ExpressionAttributeNames must not be empty")
	}
	if values != nil && len(values) == 0 {
		return nil, validation("ExpressionAttributeValues must not be empty")
	}
	for k := range names {
		if len(k) < 2 || !strings.HasPrefix(k, "#") {
			return nil, validation("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
	}
	for k, v := range values {
		if len(k) < 2 || !strings.HasPrefix(k, ":") {
			return nil, validation("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
		if v == nil {
			return nil, validation("ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes for key %s", k)
		}
	}
	return newExprEnv(names, values), nil
}

func optionalCondition(env *exprEnv, kind string, src *string) (condition, error) {
	if src == nil {
		return nil, nil
	}
	return parseCondition(env, kind, *src)
}

// checkCondition evaluates a write's ConditionExpression against the
// current item (nil when there is none).
func checkCondition(c condition, old item, in *itemInput) error {
	if c == nil {
		return nil
	}
	ok, err := c.holds(old)
	if err != nil {
		return err
	}
	if !ok {
		cf := &conditionFailed{}
		if in.ReturnValuesOnConditionCheckFailure == "ALL_OLD" {
			cf.old = old
		}
		return cf
	}
	return nil
}

func (s *Service) getItem(call *localaws.Call) (any, error) {
	in, env, err := readItemInput(call)
	if err != nil {
		return nil, err
	}
	var projection []docPath
	if in.ProjectionExpression != nil {
		if projection, err = parseProjection(env, *in.ProjectionExpression); err != nil {
			return nil, err
		}
	}
	if err := env.checkUnused(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.table(in.TableName)
	if err != nil {
		return nil, err
	}
	h, r, err := t.keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	it := t.get(h, r)
	if it == nil {
		return struct{}{}, nil
	}
	if projection != nil {
		it = project(it, projection)
	}
	return map[string]any{"Item": it}, nil
}

// readConditionalWrite reads and validates the input shared by PutItem and
// DeleteItem: an optional ConditionExpression, its placeholders, and
// ReturnValues NONE or ALL_OLD.
func readConditionalWrite(call *localaws.Call) (*itemInput, condition, error) {
	in, env, err := readItemInput(call)
	if err != nil {
		return nil, nil, err
	}
	cond, err := optionalCondition(env, "ConditionExpression", in.ConditionExpression)
	if err != nil {
		return nil, nil, err
	}
	if err := env.checkUnused(); err != nil {
		return nil, nil, err
	}
	if err := checkReturnValues(in.ReturnValues, "NONE", "ALL_OLD"); err != nil {
		return nil, nil, err
	}
	return in, cond, nil
}

func (s *Service) putItem(call *localaws.Call) (any, error) {
	in, cond, err := readConditionalWrite(call)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.table(in.TableName)
	if err != nil {
		return nil, err
	}
	h, r, err := t.keyParts(in.Item, "")
	if err != nil {
		return nil, err
	}
	old := t.get(h, r)
	if err := checkCondition(cond, old, in); err != nil {
		return nil, err
	}
	t.put(h, r, in.Item.clone())
	t.stream.record(s.region, t.keyItem(in.Item), old, in.Item, s.now())
	return returnValues(in.ReturnValues, old, nil, nil), nil
}

func (s *Service) deleteItem(call *localaws.Call) (any, error) {
	in, cond, err := readConditionalWrite(call)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.table(in.TableName)
	if err != nil {
		return nil, err
	}
	h, r, err := t.keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	old := t.get(h, r)
	if err := checkCondition(cond, old, in); err != nil {
		return nil, err
	}
	if old != nil {
		t.remove(h, r)
		t.stream.record(s.region, t.keyItem(old), old, nil, s.now())
	}
	return returnValues(in.ReturnValues, old, nil, nil), nil
}

func (s *Service) updateItem(call *localaws.Call) (any, error) {
	in, env, err := readItemInput(call)
	if err != nil {
		return nil, err
	}
	u := &updateExpr{}
	if in.UpdateExpression != nil {
		if u, err = parseUpdate(env, *in.UpdateExpression); err != nil {
			return nil, err
		}
	}
	cond, err := optionalCondition(env, "ConditionExpression", in.ConditionExpression)
	if err != nil {
		return nil, err
	}
	if err := env.checkUnused(); err != nil {
		return nil, err
	}
	if err := checkReturnValues(in.ReturnValues, "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.table(in.TableName)
	if err != nil {
		return nil, err
	}
	h, r, err := t.keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	if err := t.checkKeyNotUpdated(u); err != nil {
		return nil, err
	}
	old := t.get(h, r)
	if err := checkCondition(cond, old, in); err != nil {
		return nil, err
	}
	base := old
	if base == nil {
		base = in.Key
	}
	updated, err := u.apply(base)
	if err != nil {
		return nil, err
	}
	t.put(h, r, updated)
	t.stream.record(s.region, t.keyItem(updated), old, updated, s.now())
	return returnValues(in.ReturnValues, old, updated, u.paths()), nil
}

func checkReturnValues(got string, allowed ...string) error {
	if got == "" || slices.Contains(allowed, got) {
		return nil
	}
	return validation("ReturnValues can only be %s", strings.Join(allowed, " or "))
}

// returnValues builds the response of a write: Attributes as ReturnValues
// asks. paths are the attributes an update wrote.
func returnValues(mode string, old, updated item, paths []docPath) map[string]any {
	var attrs item
	switch mode {
	case "ALL_OLD":
		attrs = old
	case "ALL_NEW":
		attrs = updated
	case "UPDATED_OLD":
		attrs = project(old, paths)
	case "UPDATED_NEW":
		attrs = project(updated, paths)
	}
	if len(attrs) == 0 {
		return map[string]any{}
	}
	return map[string]any{"Attributes": attrs}
}
