package ddbsim_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// conditionItem is the item the condition cases are evaluated against.
func conditionItem() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"id":    s("c"),
		"epoch": n("10"),
		"name":  s("primary-a"),
		"flag":  b(true),
		"nil":   &types.AttributeValueMemberNULL{Value: true},
		"lease": m(map[string]types.AttributeValue{"holder": s("exec-1"), "expiry": n("1000")}),
		"nodes": l(s("n1"), s("n2")),
		"tags":  ss("x", "y"),
	}
}

func TestConditionExpressions(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	st.put(t, "clusters", conditionItem())
	values := map[string]types.AttributeValue{
		":ten": n("10.0"), ":nine": n("9"), ":eleven": n("11"), ":s": s("primary"), ":full": s("primary-a"),
		":exec": s("exec-1"), ":t": b(true), ":n1": s("n1"), ":x": s("x"), ":typeM": s("M"), ":two": n("2"),
	}
	cases := []struct {
		expr string
		want bool
	}{
		{"attribute_exists(id)", true},
		{"attribute_not_exists(id)", false},
		{"attribute_not_exists(absent)", true},
		{"attribute_exists(lease.holder)", true},
		{"attribute_exists(lease.spare)", false},
		{"attribute_exists(nodes[1])", true},
		{"attribute_exists(nodes[2])", false},
		{"epoch = :ten", true},
		{"epoch <> :ten", false},
		{"absent <> :ten", true},
		{"absent = :ten", false},
		{"epoch < :eleven", true},
		{"epoch <= :ten", true},
		{"epoch > :nine", true},
		{"epoch >= :eleven", false},
		{"#n > :s", true},
		{"#n < :s", false},
		{"epoch < :s", false},
		{"flag = :t", true},
		{"lease.holder = :exec", true},
		{"nodes[0] = :n1", true},
		{"epoch BETWEEN :nine AND :eleven", true},
		{"epoch BETWEEN :eleven AND :eleven", false},
		{"epoch IN (:nine, :ten)", true},
		{"epoch IN (:nine, :eleven)", false},
		{"begins_with(#n, :s)", true},
		{"begins_with(lease.holder, :s)", false},
		{"contains(#n, :s)", true},
		{"contains(nodes, :n1)", true},
		{"contains(tags, :x)", true},
		{"contains(tags, :n1)", false},
		{"size(nodes) = :two", true},
		{"size(#n) > :ten", false},
		{"attribute_type(lease, :typeM)", true},
		{"attribute_type(#n, :typeM)", false},
		{"attribute_exists(id) AND epoch = :nine", false},
		{"attribute_not_exists(id) OR epoch = :ten", true},
		{"NOT epoch = :nine", true},
		{"NOT (epoch = :nine OR epoch = :ten)", false},
		{"epoch = :nine OR epoch = :ten AND #n = :full", true},
		{"(epoch = :nine OR epoch = :ten) AND #n = :s", false},
		{"not attribute_exists(absent) and (lease.expiry < :ten or lease.holder = :exec)", true},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			in := &dynamodb.UpdateItemInput{TableName: aws.String("clusters"), Key: key("c"),
				UpdateExpression: aws.String("SET probe = :probe"), ConditionExpression: aws.String(tc.expr),
				ExpressionAttributeValues: map[string]types.AttributeValue{":probe": s(tc.expr)}}
			for k, v := range values {
				if containsToken(tc.expr, k) {
					in.ExpressionAttributeValues[k] = v
				}
			}
			if containsToken(tc.expr, "#n") {
				in.ExpressionAttributeNames = map[string]string{"#n": "name"}
			}
			_, err := st.client.UpdateItem(context.Background(), in)
			switch {
			case tc.want && err != nil:
				t.Fatalf("condition should hold, got %v", err)
			case !tc.want:
				apiError(t, err, "ConditionalCheckFailedException", "The conditional request failed")
			}
			got := str(t, st.get(t, "clusters", key("c")), "probe")
			if (got == tc.expr) != tc.want {
				t.Fatalf("update applied=%v, want %v", got == tc.expr, tc.want)
			}
		})
	}
}

// containsToken reports whether expr uses placeholder tok (not as a prefix
// of a longer placeholder).
func containsToken(expr, tok string) bool {
	for i := 0; i+len(tok) <= len(expr); i++ {
		if expr[i:i+len(tok)] == tok && (i+len(tok) == len(expr) || !isWord(expr[i+len(tok)])) {
			return true
		}
	}
	return false
}

func isWord(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func TestUpdateExpressions(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	ctx := context.Background()
	update := func(expr string, values map[string]types.AttributeValue, rv types.ReturnValue) map[string]types.AttributeValue {
		t.Helper()
		in := &dynamodb.UpdateItemInput{TableName: aws.String("clusters"), Key: key("c"),
			UpdateExpression: aws.String(expr), ExpressionAttributeValues: values, ReturnValues: rv}
		if containsToken(expr, "#s") {
			in.ExpressionAttributeNames = map[string]string{"#s": "status"}
		}
		out, err := st.client.UpdateItem(ctx, in)
		if err != nil {
			t.Fatalf("UpdateItem %q: %v", expr, err)
		}
		return out.Attributes
	}
	// Upsert: the item does not exist yet.
	got := update("SET epoch = if_not_exists(epoch, :zero) + :one, #s = :s, history = list_append(if_not_exists(history, :empty), :h1)",
		map[string]types.AttributeValue{":zero": n("0"), ":one": n("1"), ":s": s("healthy"), ":empty": l(), ":h1": l(s("created"))},
		types.ReturnValueAllNew)
	want := map[string]types.AttributeValue{"id": s("c"), "epoch": n("1"), "status": s("healthy"), "history": l(s("created"))}
	if render(got) != render(want) {
		t.Fatalf("ALL_NEW after upsert:\n got %s\nwant %s", render(got), render(want))
	}
	got = update("SET epoch = epoch + :inc, history = list_append(history, :h) ADD visits :one, members :m, tags :m",
		map[string]types.AttributeValue{":inc": n("2.5"), ":h": l(s("failover")), ":one": n("1"), ":m": ss("a", "b")},
		types.ReturnValueUpdatedNew)
	want = map[string]types.AttributeValue{"epoch": n("3.5"), "history": l(s("created"), s("failover")), "visits": n("1"),
		"members": ss("a", "b"), "tags": ss("a", "b")}
	if render(got) != render(want) {
		t.Fatalf("UPDATED_NEW:\n got %s\nwant %s", render(got), render(want))
	}
	got = update("SET epoch = epoch - :one ADD visits :one, members :m DELETE tags :gone REMOVE history[0], #s",
		map[string]types.AttributeValue{":one": n("1"), ":m": ss("c"), ":gone": ss("a")},
		types.ReturnValueUpdatedOld)
	want = map[string]types.AttributeValue{"epoch": n("3.5"), "visits": n("1"), "members": ss("a", "b"), "tags": ss("a", "b"),
		"history": l(s("created")), "status": s("healthy")}
	if render(got) != render(want) {
		t.Fatalf("UPDATED_OLD:\n got %s\nwant %s", render(got), render(want))
	}
	got = update("SET lease = :lease", map[string]types.AttributeValue{":lease": m(map[string]types.AttributeValue{"holder": s("x")})}, types.ReturnValueAllOld)
	want = map[string]types.AttributeValue{"id": s("c"), "epoch": n("2.5"), "visits": n("2"), "members": ss("a", "b", "c"),
		"tags": ss("b"), "history": l(s("failover"))}
	if render(got) != render(want) {
		t.Fatalf("ALL_OLD:\n got %s\nwant %s", render(got), render(want))
	}
	if got = update("SET lease.holder = :h, lease.since = :one", map[string]types.AttributeValue{":h": s("y"), ":one": n("1")}, types.ReturnValueNone); got != nil {
		t.Fatalf("ReturnValues NONE returned %v", got)
	}
	item := st.get(t, "clusters", key("c"))
	if lease := item["lease"].(*types.AttributeValueMemberM).Value; str(t, lease, "holder") != "y" || num(t, lease, "since") != "1" {
		t.Fatalf("nested SET: %v", lease)
	}
}

func TestUpdateErrors(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	st.put(t, "clusters", map[string]types.AttributeValue{"id": s("c"), "name": s("x"), "epoch": n("1")})
	cases := []struct {
		name   string
		update string
		cond   string
		names  map[string]string
		values map[string]types.AttributeValue
		want   string
	}{
		{name: "reserved word", update: "SET status = :v", values: map[string]types.AttributeValue{":v": s("a")},
			want: "Attribute name is a reserved keyword; reserved keyword: status"},
		{name: "undefined value", update: "SET a = :v", want: "An expression attribute value used in expression is not defined; attribute value: :v"},
		{name: "undefined name", update: "SET #a = :v", values: map[string]types.AttributeValue{":v": s("a")},
			want: "An expression attribute name used in the document path is not defined; attribute name: #a"},
		{name: "unused value", update: "SET a = :v", values: map[string]types.AttributeValue{":v": s("a"), ":w": s("b")},
			want: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"},
		{name: "unused name", update: "SET a = :v", names: map[string]string{"#x": "x"}, values: map[string]types.AttributeValue{":v": s("a")},
			want: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"},
		{name: "syntax", update: "SET a = = :v", values: map[string]types.AttributeValue{":v": s("a")},
			want: `Invalid UpdateExpression: Syntax error; token: "="`},
		{name: "condition syntax", update: "SET a = :v", cond: "a = :v AND", values: map[string]types.AttributeValue{":v": s("a")},
			want: `Invalid ConditionExpression: Syntax error; token: "<EOF>"`},
		{name: "unknown function", update: "SET a = :v", cond: "exists(a)", values: map[string]types.AttributeValue{":v": s("a")},
			want: "Invalid function name; function: exists"},
		{name: "key attribute", update: "SET id = :v", values: map[string]types.AttributeValue{":v": s("a")},
			want: "Cannot update attribute id. This attribute is part of the key"},
		{name: "overlap", update: "SET a = :v, a.b = :v", values: map[string]types.AttributeValue{":v": s("a")},
			want: "Two document paths overlap with each other"},
		{name: "section twice", update: "SET a = :v SET b = :v", values: map[string]types.AttributeValue{":v": s("a")},
			want: `The "SET" section can only be used once`},
		{name: "arithmetic on string", update: "SET epoch = #n + :v", names: map[string]string{"#n": "name"}, values: map[string]types.AttributeValue{":v": n("1")},
			want: "An operand in the update expression has an incorrect data type"},
		{name: "absent operand", update: "SET epoch = absent + :v", values: map[string]types.AttributeValue{":v": n("1")},
			want: "The provided expression refers to an attribute that does not exist in the item"},
		{name: "ADD string", update: "ADD a :v", values: map[string]types.AttributeValue{":v": s("1")},
			want: "Incorrect operand type for operator or function; operator: ADD, operand type: S"},
		{name: "nested parent absent", update: "SET nope.deep = :v", values: map[string]types.AttributeValue{":v": n("1")},
			want: "The document path provided in the update expression is invalid for update"},
		{name: "BETWEEN bounds", update: "SET a = :lo", cond: "epoch BETWEEN :hi AND :lo", values: map[string]types.AttributeValue{":lo": n("1"), ":hi": n("2")},
			want: "BETWEEN operator requires upper bound to be greater than or equal to lower bound"},
		{name: "compare to BOOL literal", update: "SET a = :v", cond: "epoch < :b", values: map[string]types.AttributeValue{":v": n("1"), ":b": b(true)},
			want: "Incorrect operand type for operator or function; operator: <, operand type: BOOL"},
		{name: "empty expression", update: " ", want: "Invalid UpdateExpression: The expression can not be empty;"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &dynamodb.UpdateItemInput{TableName: aws.String("clusters"), Key: key("c"),
				UpdateExpression: aws.String(tc.update), ExpressionAttributeNames: tc.names, ExpressionAttributeValues: tc.values}
			if tc.cond != "" {
				in.ConditionExpression = aws.String(tc.cond)
			}
			_, err := st.client.UpdateItem(context.Background(), in)
			apiError(t, err, "ValidationException", tc.want)
		})
	}
	if got := st.get(t, "clusters", key("c")); len(got) != 3 {
		t.Fatalf("a refused update changed the item: %v", got)
	}
}

// TestConcurrentLeaseAcquisition races conditional "acquire lease" updates:
// exactly one wins, the others see ConditionalCheckFailedException, and the
// epoch moves exactly once.
func TestConcurrentLeaseAcquisition(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	st.put(t, "clusters", map[string]types.AttributeValue{"id": s("c"), "epoch": n("5"),
		"lease": m(map[string]types.AttributeValue{"holder": s("old"), "expiry": n("100")})})
	const racers = 24
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
				TableName:           aws.String("clusters"),
				Key:                 key("c"),
				ConditionExpression: aws.String("attribute_not_exists(lease.holder) OR lease.expiry < :now"),
				UpdateExpression:    aws.String("SET lease.holder = :me, lease.expiry = :until, epoch = epoch + :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":now": n("200"), ":until": n("500"), ":me": s(fmt.Sprintf("exec-%d", i)), ":one": n("1")},
			})
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("racers %d and %d both acquired the lease", winner, i)
		case err == nil:
			winner = i
		case !awsapi.IsConditionalCheckFailed(err):
			t.Fatalf("racer %d: want ConditionalCheckFailedException, got %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no racer acquired the lease")
	}
	got := st.get(t, "clusters", key("c"))
	lease := got["lease"].(*types.AttributeValueMemberM).Value
	if str(t, lease, "holder") != fmt.Sprintf("exec-%d", winner) || num(t, got, "epoch") != "6" {
		t.Fatalf("after the race: holder %s epoch %s, want exec-%d and 6", str(t, lease, "holder"), num(t, got, "epoch"), winner)
	}
}
