package ddbsim_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
)

// historyTable holds seq 1..12 for cluster "a" (kind "failover" on even
// seq, "check" on odd) and seq 1..3 for cluster "b"; sort keys "e#<seq>".
func historyTable(t *testing.T) *stack {
	t.Helper()
	st := newStack(t)
	if err := st.sim.CreateTable(ddbsim.TableSpec{Name: "history", HashKey: "pk", HashKeyType: "S", RangeKey: "seq", RangeKeyType: "N"}); err != nil {
		t.Fatalf("creating table: %v", err)
	}
	for i := 1; i <= 12; i++ {
		kind := "check"
		if i%2 == 0 {
			kind = "failover"
		}
		st.put(t, "history", map[string]types.AttributeValue{"pk": s("a"), "seq": n(fmt.Sprint(i)), "kind": s(kind), "sk": s(fmt.Sprintf("e#%02d", i))})
	}
	for i := 1; i <= 3; i++ {
		st.put(t, "history", map[string]types.AttributeValue{"pk": s("b"), "seq": n(fmt.Sprint(i)), "kind": s("check")})
	}
	return st
}

func seqs(t *testing.T, items []map[string]types.AttributeValue) []string {
	t.Helper()
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = num(t, it, "seq")
	}
	return out
}

func TestQueryKeyConditions(t *testing.T) {
	st := historyTable(t)
	cases := []struct {
		expr    string
		values  map[string]types.AttributeValue
		forward bool
		want    []string
	}{
		{"pk = :a", map[string]types.AttributeValue{":a": s("b")}, true, []string{"1", "2", "3"}},
		{"pk = :a AND seq > :n", map[string]types.AttributeValue{":a": s("a"), ":n": n("9")}, true, []string{"10", "11", "12"}},
		{"pk = :a AND seq <= :n", map[string]types.AttributeValue{":a": s("a"), ":n": n("2")}, true, []string{"1", "2"}},
		{"seq BETWEEN :lo AND :hi AND pk = :a", map[string]types.AttributeValue{":a": s("a"), ":lo": n("4"), ":hi": n("6")}, true, []string{"4", "5", "6"}},
		{"(pk = :a) AND (seq = :n)", map[string]types.AttributeValue{":a": s("a"), ":n": n("7")}, true, []string{"7"}},
		{"pk = :a AND seq >= :n", map[string]types.AttributeValue{":a": s("a"), ":n": n("10")}, false, []string{"12", "11", "10"}},
		{"pk = :a", map[string]types.AttributeValue{":a": s("zzz")}, true, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			out, err := st.client.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String("history"),
				KeyConditionExpression: aws.String(tc.expr), ExpressionAttributeValues: tc.values, ScanIndexForward: aws.Bool(tc.forward)})
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if got := seqs(t, out.Items); !slices.Equal(got, tc.want) || int(out.Count) != len(tc.want) {
				t.Fatalf("got %v (count %d), want %v", got, out.Count, tc.want)
			}
		})
	}
}

func TestQueryBeginsWithOnStringRangeKey(t *testing.T) {
	st := newStack(t)
	if err := st.sim.CreateTable(ddbsim.TableSpec{Name: "events", HashKey: "pk", HashKeyType: "S", RangeKey: "sk", RangeKeyType: "S"}); err != nil {
		t.Fatalf("creating table: %v", err)
	}
	for _, sk := range []string{"lease#1", "event#2", "event#1", "eventual"} {
		st.put(t, "events", map[string]types.AttributeValue{"pk": s("a"), "sk": s(sk)})
	}
	out, err := st.client.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String("events"),
		KeyConditionExpression:    aws.String("pk = :a AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("a"), ":p": s("event#")}})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, str(t, it, "sk"))
	}
	if !slices.Equal(got, []string{"event#1", "event#2"}) {
		t.Fatalf("begins_with: got %v", got)
	}
}

func TestQueryPaginationAndFilter(t *testing.T) {
	st := historyTable(t)
	ctx := context.Background()
	for _, forward := range []bool{true, false} {
		var all []string
		var start map[string]types.AttributeValue
		pages := 0
		for {
			out, err := st.client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("history"),
				KeyConditionExpression: aws.String("pk = :a"), FilterExpression: aws.String("kind = :k"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("a"), ":k": s("failover")},
				Limit:                     aws.Int32(5), ExclusiveStartKey: start, ScanIndexForward: aws.Bool(forward)})
			if err != nil {
				t.Fatalf("Query page %d: %v", pages, err)
			}
			pages++
			if out.ScannedCount > 5 || out.Count > out.ScannedCount {
				t.Fatalf("page %d: scanned %d count %d with Limit 5", pages, out.ScannedCount, out.Count)
			}
			all = append(all, seqs(t, out.Items)...)
			if out.LastEvaluatedKey == nil {
				break
			}
			if pages > 5 {
				t.Fatalf("pagination does not end")
			}
			start = out.LastEvaluatedKey
		}
		want := []string{"2", "4", "6", "8", "10", "12"}
		if !forward {
			slices.Reverse(want)
		}
		if !slices.Equal(all, want) || pages != 3 {
			t.Fatalf("forward=%v: got %v in %d pages, want %v in 3", forward, all, pages, want)
		}
	}
	out, err := st.client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("history"), Select: types.SelectCount,
		KeyConditionExpression: aws.String("pk = :a"), ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("a")}})
	if err != nil || out.Count != 12 || out.Items != nil {
		t.Fatalf("Select COUNT: %v count %d items %v", err, out.Count, out.Items)
	}
}

func TestQueryErrors(t *testing.T) {
	st := historyTable(t)
	cases := []struct {
		expr, filter string
		values       map[string]types.AttributeValue
		want         string
	}{
		{"seq = :n", "", map[string]types.AttributeValue{":n": n("1")}, "Query condition missed key schema element: pk"},
		{"pk = :a OR seq = :n", "", map[string]types.AttributeValue{":a": s("a"), ":n": n("1")}, "Invalid operator used in KeyConditionExpression: OR"},
		{"pk > :a", "", map[string]types.AttributeValue{":a": s("a")}, "Query key condition not supported"},
		{"pk = :a AND kind = :a", "", map[string]types.AttributeValue{":a": s("a")}, "Query condition missed key schema element"},
		{"pk = :n", "", map[string]types.AttributeValue{":n": n("1")}, "Condition parameter type does not match schema type"},
		{"pk = :a", "seq > :n", map[string]types.AttributeValue{":a": s("a"), ":n": n("1")}, "Filter Expression can only contain non-primary key attributes: Primary key attribute: seq"},
	}
	for _, tc := range cases {
		t.Run(tc.expr+" "+tc.filter, func(t *testing.T) {
			in := &dynamodb.QueryInput{TableName: aws.String("history"), KeyConditionExpression: aws.String(tc.expr), ExpressionAttributeValues: tc.values}
			if tc.filter != "" {
				in.FilterExpression = aws.String(tc.filter)
			}
			_, err := st.client.Query(context.Background(), in)
			apiError(t, err, "ValidationException", tc.want)
		})
	}
	_, err := st.client.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String("history"),
		KeyConditionExpression: aws.String("pk = :a"), ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("a")},
		ExclusiveStartKey: map[string]types.AttributeValue{"pk": s("a")}})
	apiError(t, err, "ValidationException", "The provided starting key is invalid")
}
