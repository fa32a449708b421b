package ddbsim

import (
	"errors"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// maxTransactItems is DynamoDB's limit on the actions of one
// TransactWriteItems call.
const maxTransactItems = 100

// transactWriteItem is one element of TransactItems: exactly one of its
// members is set.
type transactWriteItem struct {
	Put            *itemInput `json:"Put"`
	Update         *itemInput `json:"Update"`
	Delete         *itemInput `json:"Delete"`
	ConditionCheck *itemInput `json:"ConditionCheck"`
}

type transactWriteInput struct {
	TransactItems               []transactWriteItem `json:"TransactItems"`
	ClientRequestToken          string              `json:"ClientRequestToken"`
	ReturnConsumedCapacity      string              `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics string              `json:"ReturnItemCollectionMetrics"`
}

// transactAction is one parsed action of a transaction.
type transactAction struct {
	kind string // Put, Update, Delete, ConditionCheck
	in   *itemInput
	cond condition
	upd  *updateExpr // Update only

	t    *table
	h, r string
	old  item
	next item // what the action writes; nil for Delete and ConditionCheck
}

// cancellationReason is one entry of a TransactionCanceledException's
// CancellationReasons.
type cancellationReason struct {
	Code    string `json:"Code"`
	Message string `json:"Message,omitempty"`
	Item    item   `json:"Item,omitempty"`
}

// transactionCanceled is a TransactionCanceledException with one reason
// per action, in request order.
type transactionCanceled struct {
	reasons []cancellationReason
}

func (e *transactionCanceled) Error() string {
	codes := make([]string, len(e.reasons))
	for i, r := range e.reasons {
		codes[i] = r.Code
	}
	return "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"
}

// transactWriteItems runs up to 100 Put, Update, Delete and ConditionCheck
// actions all or nothing: every condition is evaluated against the items
// as they are before any action writes, and only when all hold are the
// writes applied, each producing its own stream record. A failed condition
// cancels the whole transaction (TransactionCanceledException, one reason
// per action: ConditionalCheckFailed or None). Two actions on one item
// are a ValidationException, as in DynamoDB. Consumed capacity and
// ClientRequestToken idempotency are not emulated.
func (s *Service) transactWriteItems(call *localaws.Call) (any, error) {
	var in transactWriteInput
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	switch n := len(in.TransactItems); {
	case n == 0:
		return nil, validation("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case n > maxTransactItems:
		return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to %d", maxTransactItems)
	}
	actions := make([]*transactAction, len(in.TransactItems))
	for i, ti := range in.TransactItems {
		a, err := parseTransactAction(i+1, ti)
		if err != nil {
			return nil, err
		}
		call.AddResource(a.in.TableName)
		actions[i] = a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, a := range actions {
		if err := a.locate(s); err != nil {
			return nil, err
		}
		id := a.t.name + "\x00" + a.h + "\x00" + a.r
		if seen[id] {
			return nil, validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
	}
	// Every condition first, against the items as they are.
	reasons := make([]cancellationReason, len(actions))
	canceled := false
	for i, a := range actions {
		reasons[i] = a.evaluate()
		canceled = canceled || reasons[i].Code != "None"
	}
	if canceled {
		return nil, &transactionCanceled{reasons: reasons}
	}
	now := s.now()
	for _, a := range actions {
		switch a.kind {
		case "Put", "Update":
			a.t.put(a.h, a.r, a.next)
			a.t.stream.record(s.region, a.t.keyItem(a.next), a.old, a.next, now)
		case "Delete":
			if a.old != nil {
				a.t.remove(a.h, a.r)
				a.t.stream.record(s.region, a.t.keyItem(a.old), a.old, nil, now)
			}
		}
	}
	return map[string]any{}, nil
}

// parseTransactAction checks element member (1-based, as AWS names it) of
// TransactItems and parses its expressions.
func parseTransactAction(member int, ti transactWriteItem) (*transactAction, error) {
	var a transactAction
	set := 0
	for kind, in := range map[string]*itemInput{"Put": ti.Put, "Update": ti.Update, "Delete": ti.Delete, "ConditionCheck": ti.ConditionCheck} {
		if in != nil {
			a.kind, a.in = kind, in
			set++
		}
	}
	if set != 1 {
		return nil, validation("TransactItems can only contain one of Check, Put, Update or Delete")
	}
	env, err := a.in.validate()
	if err != nil {
		return nil, err
	}
	if a.kind == "ConditionCheck" && a.in.ConditionExpression == nil {
		return nil, validation("1 validation error detected: Value null at 'transactItems.%d.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null", member)
	}
	if a.kind == "Update" {
		if a.in.UpdateExpression == nil {
			return nil, validation("1 validation error detected: Value null at 'transactItems.%d.member.update.updateExpression' failed to satisfy constraint: Member must not be null", member)
		}
		if a.upd, err = parseUpdate(env, *a.in.UpdateExpression); err != nil {
			return nil, err
		}
	}
	if a.cond, err = optionalCondition(env, "ConditionExpression", a.in.ConditionExpression); err != nil {
		return nil, err
	}
	if err := env.checkUnused(); err != nil {
		return nil, err
	}
	return &a, nil
}

// locate finds the action's table and item. s.mu is held.
func (a *transactAction) locate(s *Service) error {
	t, err := s.table(a.in.TableName)
	if err != nil {
		return err
	}
	a.t = t
	if a.kind == "Put" {
		a.h, a.r, err = t.keyParts(a.in.Item, "")
	} else {
		a.h, a.r, err = t.keyOf(a.in.Key)
	}
	if err != nil {
		return err
	}
	if a.upd != nil {
		if err := t.checkKeyNotUpdated(a.upd); err != nil {
			return err
		}
	}
	a.old = t.get(a.h, a.r)
	return nil
}

// evaluate checks the action's condition and computes what it would
// write, without writing; its cancellation reason is "None" when it may
// go ahead.
func (a *transactAction) evaluate() cancellationReason {
	if a.cond != nil {
		ok, err := a.cond.holds(a.old)
		if err != nil {
			return cancellationReason{Code: "ValidationError", Message: errorMessage(err)}
		}
		if !ok {
			r := cancellationReason{Code: "ConditionalCheckFailed", Message: "The conditional request failed"}
			if a.in.ReturnValuesOnConditionCheckFailure == "ALL_OLD" {
				r.Item = a.old
			}
			return r
		}
	}
	switch a.kind {
	case "Put":
		a.next = a.in.Item.clone()
	case "Update":
		base := a.old
		if base == nil {
			base = a.in.Key
		}
		updated, err := a.upd.apply(base)
		if err != nil {
			return cancellationReason{Code: "ValidationError", Message: errorMessage(err)}
		}
		a.next = updated
	}
	return cancellationReason{Code: "None"}
}

func errorMessage(err error) string {
	var ae *localaws.APIError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}
