package samtemplate

import (
	"strings"
	"testing"
)

// A node agent's rejoin writes its cluster's record item and history item
// in one DynamoDB transaction: IAM authorizes each item as a PutItem with
// the item's key, and the node agent policy allows exactly its cluster's
// two items.
func TestTransactionItemsAreAuthorizedOneByOne(t *testing.T) {
	run := loadRun(t, "manual-failover.json")
	app, err := Load(realTemplate, run.Params)
	if err != nil {
		t.Fatal(err)
	}
	table := "arn:aws:dynamodb:us-east-1:123456789012:table/switchyard-demo"
	item := func(op, key string) CallItem {
		return CallItem{Operation: op, ARNs: []string{table}, Context: map[string][]string{"dynamodb:LeadingKeys": {key}}}
	}
	check := func(principal string, items ...CallItem) []string {
		var denied []string
		keys := map[string][]string{}
		for _, it := range items {
			keys["dynamodb:LeadingKeys"] = append(keys["dynamodb:LeadingKeys"], it.Context["dynamodb:LeadingKeys"]...)
		}
		reqs := CallRequests(principal, "dynamodb", "TransactWriteItems", []string{table}, keys, items)
		if len(reqs) != len(items) {
			t.Fatalf("%d requests for %d items", len(reqs), len(items))
		}
		for _, r := range reqs {
			if err := app.Authorize(r); err != nil {
				denied = append(denied, err.Error())
			}
		}
		return denied
	}
	if d := check("NodeAgentPolicy", item("PutItem", "demo"), item("PutItem", "demo#history")); len(d) > 0 {
		t.Errorf("the agent's rejoin transaction is denied: %s", strings.Join(d, "; "))
	}
	if d := check("RecordFunction", item("PutItem", "demo"), item("PutItem", "demo#history")); len(d) > 0 {
		t.Errorf("the record function's commit transaction is denied: %s", strings.Join(d, "; "))
	}
	if d := check("NodeAgentPolicy", item("PutItem", "demo"), item("PutItem", "other#history")); len(d) != 1 ||
		!strings.Contains(d[0], "dynamodb:PutItem") || !strings.Contains(d[0], "other#history") {
		t.Errorf("another cluster's history item: denials %q, want the one item", d)
	}
	if d := check("NodeAgentPolicy", item("PutItem", "demo"), item("DeleteItem", "demo#history")); len(d) != 1 ||
		!strings.Contains(d[0], "dynamodb:DeleteItem") {
		t.Errorf("a delete in the transaction: denials %q, want the DeleteItem", d)
	}
	// Without the history key in the policy, the rejoin's history item is
	// denied.
	narrow, err := Load(realVariant(t, `[!Ref ClusterName, !Sub "${ClusterName}#history"]`, `[!Ref ClusterName]`), run.Params)
	if err != nil {
		t.Fatal(err)
	}
	err = narrow.Authorize(CallRequests("NodeAgentPolicy", "dynamodb", "TransactWriteItems", nil, nil, []CallItem{item("PutItem", "demo#history")})[0])
	if err == nil || !strings.Contains(err.Error(), "demo#history") {
		t.Errorf("history item under the old policy: %v", err)
	}
}
