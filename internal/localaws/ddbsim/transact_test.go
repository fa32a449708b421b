package ddbsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/localaws"
)

func transact(s *stack, items ...types.TransactWriteItem) error {
	_, err := s.client.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func versionIs(v string) (*string, map[string]string, map[string]types.AttributeValue) {
	return aws.String("#v = :v"), map[string]string{"#v": "v"}, map[string]types.AttributeValue{":v": n(v)}
}

func putIf(id, v, want string) types.TransactWriteItem {
	c, names, values := versionIs(want)
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("clusters"),
		Item:                map[string]types.AttributeValue{"id": s(id), "v": n(v)},
		ConditionExpression: c, ExpressionAttributeNames: names, ExpressionAttributeValues: values}}
}

func plainPut(id, v string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("clusters"),
		Item: map[string]types.AttributeValue{"id": s(id), "v": n(v)}}}
}

// Every action of a transaction is written, or none: a failed condition
// on one cancels all, with one reason per action in request order, and
// the SDK decodes the reasons.
func TestTransactWriteItemsIsAllOrNothing(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	st.put(t, "clusters", map[string]types.AttributeValue{"id": s("a"), "v": n("1")})
	st.put(t, "clusters", map[string]types.AttributeValue{"id": s("gone"), "v": n("1")})
	st.put(t, "clusters", map[string]types.AttributeValue{"id": s("counter"), "v": n("5")})

	err := transact(st, putIf("a", "2", "7"), plainPut("b", "1"),
		types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String("clusters"), Key: key("gone")}})
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) || awsapi.ErrorCode(err) != "TransactionCanceledException" {
		t.Fatalf("err = %v, want TransactionCanceledException", err)
	}
	if got := awsapi.CancellationReasons(err); fmt.Sprint(got) != "[ConditionalCheckFailed None None]" {
		t.Fatalf("cancellation reasons %v", got)
	}
	if !awsapi.IsConditionalCheckFailed(err) || awsapi.IsTransactionConflict(err) {
		t.Fatalf("a cancelled transaction with a failed condition must read as a failed condition, not a conflict")
	}
	if got := st.get(t, "clusters", key("a")); num(t, got, "v") != "1" {
		t.Errorf("item a after the cancelled transaction: %s", render(got))
	}
	if got := st.get(t, "clusters", key("b")); got != nil {
		t.Errorf("item b was written by a cancelled transaction: %s", render(got))
	}
	if got := st.get(t, "clusters", key("gone")); got == nil {
		t.Error("item gone was deleted by a cancelled transaction")
	}

	// All conditions hold: every action takes effect.
	err = transact(st, putIf("a", "2", "1"), plainPut("b", "1"),
		types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String("clusters"), Key: key("gone")}},
		types.TransactWriteItem{Update: &types.Update{TableName: aws.String("clusters"), Key: key("counter"),
			UpdateExpression: aws.String("SET v = v + :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")}}},
		types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String("clusters"), Key: key("c"),
			ConditionExpression: aws.String("attribute_not_exists(id)")}})
	if err != nil {
		t.Fatalf("TransactWriteItems: %v", err)
	}
	if got := st.get(t, "clusters", key("a")); num(t, got, "v") != "2" {
		t.Errorf("item a: %s", render(got))
	}
	if got := st.get(t, "clusters", key("b")); got == nil {
		t.Error("item b was not written")
	}
	if got := st.get(t, "clusters", key("gone")); got != nil {
		t.Errorf("item gone was not deleted: %s", render(got))
	}
	if got := st.get(t, "clusters", key("counter")); num(t, got, "v") != "6" {
		t.Errorf("counter: %s", render(got))
	}
	if got := st.get(t, "clusters", key("c")); got != nil {
		t.Errorf("a condition check wrote item c: %s", render(got))
	}

	// A failed ConditionCheck with ALL_OLD returns the item it checked.
	_, err = st.client.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		plainPut("d", "1"),
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("clusters"), Key: key("a"),
			ConditionExpression: aws.String("attribute_not_exists(id)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}})
	if !errors.As(err, &tc) || len(tc.CancellationReasons) != 2 || aws.ToString(tc.CancellationReasons[1].Code) != "ConditionalCheckFailed" ||
		tc.CancellationReasons[1].Item == nil || num(t, tc.CancellationReasons[1].Item, "v") != "2" {
		t.Fatalf("failed condition check with ALL_OLD: %v", err)
	}
	if got := st.get(t, "clusters", key("d")); got != nil {
		t.Error("item d was written by a cancelled transaction")
	}
}

func TestTransactWriteItemsValidation(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	apiError(t, transact(st, plainPut("a", "1"), putIf("a", "2", "1")), "ValidationException", "multiple operations on one item")
	apiError(t, transact(st, plainPut("a", "1"),
		types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String("clusters"), Key: key("a"),
			ConditionExpression: aws.String("attribute_exists(id)")}}), "ValidationException", "multiple operations on one item")
	apiError(t, transact(st, plainPut("b", "1"), types.TransactWriteItem{
		Put:    &types.Put{TableName: aws.String("clusters"), Item: map[string]types.AttributeValue{"id": s("c")}},
		Delete: &types.Delete{TableName: aws.String("clusters"), Key: key("c")}}), "ValidationException", "only contain one of")
	apiError(t, transact(st, types.TransactWriteItem{Update: &types.Update{TableName: aws.String("clusters"), Key: key("a"),
		UpdateExpression: aws.String("SET id = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("z")}}}),
		"ValidationException", "Cannot update attribute id")
	many := make([]types.TransactWriteItem, 101)
	for i := range many {
		many[i] = plainPut(fmt.Sprintf("k%d", i), "1")
	}
	apiError(t, transact(st, many...), "ValidationException", "less than or equal to 100")
	apiError(t, transact(st, plainPut("a", "1"), types.TransactWriteItem{Put: &types.Put{TableName: aws.String("no-such-table"),
		Item: map[string]types.AttributeValue{"id": s("x")}}}), "ResourceNotFoundException", "Requested resource not found")
	apiError(t, transact(st, types.TransactWriteItem{Put: &types.Put{TableName: aws.String("clusters"),
		Item: map[string]types.AttributeValue{"id": s("x")}, ConditionExpression: aws.String("#v = :v"),
		ExpressionAttributeNames: map[string]string{"#v": "v"}}}), "ValidationException", ":v")
	if got := st.get(t, "clusters", key("a")); got != nil {
		t.Errorf("a refused transaction wrote item a: %s", render(got))
	}
	// 100 actions are allowed.
	if err := transact(st, many[:100]...); err != nil {
		t.Fatalf("100 actions: %v", err)
	}
}

// Each item a transaction writes is its own stream record, with its old
// and new images; a cancelled transaction leaves none.
func TestTransactWriteItemsStreamRecords(t *testing.T) {
	st := newStack(t)
	streamTable(t, st, types.StreamViewTypeNewAndOldImages)
	r, err := st.sim.Stream("clusters")
	if err != nil {
		t.Fatal(err)
	}
	st.put(t, "clusters", map[string]types.AttributeValue{"id": s("rec"), "v": n("1")})
	from := r.Latest()
	if err := transact(st, putIf("rec", "3", "2"), plainPut("rec#history", "2")); err == nil {
		t.Fatal("transaction with a failing condition succeeded")
	}
	if recs, _ := r.Read(from, 10); len(recs) != 0 {
		t.Fatalf("a cancelled transaction left %d stream records", len(recs))
	}
	if err := transact(st, putIf("rec", "2", "1"), plainPut("rec#history", "2")); err != nil {
		t.Fatal(err)
	}
	recs, _ := r.Read(from, 10)
	var got []string
	for _, rec := range recs {
		var ev events.DynamoDBEventRecord
		if err := json.Unmarshal(rec.JSON, &ev); err != nil {
			t.Fatal(err)
		}
		old := "-"
		if v, ok := ev.Change.OldImage["v"]; ok {
			old = v.Number()
		}
		got = append(got, fmt.Sprintf("%s %s %s→%s", ev.EventName, ev.Change.Keys["id"].String(), old, ev.Change.NewImage["v"].Number()))
	}
	if fmt.Sprint(got) != "[MODIFY rec 1→2 INSERT rec#history -→2]" {
		t.Fatalf("stream records %q", got)
	}
}

// TransactWriteItems is throttled and faulted like every other call.
func TestTransactWriteItemsGoesThroughFaults(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	st.srv.Faults().Add(localaws.Fault{Operation: "TransactWriteItems", FailNext: 1, Error: localaws.BadRequest("ThrottlingException", "slow down")})
	err := transact(st, plainPut("a", "1"))
	if !awsapi.IsThrottle(err) {
		t.Fatalf("err = %v, want the injected throttling", err)
	}
	if got := st.get(t, "clusters", key("a")); got != nil {
		t.Error("a faulted transaction wrote")
	}
	calls := st.srv.Calls()
	if c := calls[len(calls)-2]; c.Operation != "TransactWriteItems" || c.ErrorCode != "ThrottlingException" {
		t.Fatalf("call log: %+v", c)
	}
}
