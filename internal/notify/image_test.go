package notify

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/internal/store"
)

// image is rec's record item as a stream record's image: the store's item
// in DynamoDB JSON, decoded by aws-lambda-go as the Lambda runtime does.
func image(t *testing.T, rec store.Record) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	return lambdaImage(t, store.EncodeRecord(rec))
}

// historyImage is rec's history item as a stream record's image.
func historyImage(t *testing.T, rec store.Record) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	return lambdaImage(t, store.EncodeHistory(rec))
}

func lambdaImage(t *testing.T, it map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	raw, err := json.Marshal(dynamoJSON(&types.AttributeValueMemberM{Value: it}).(map[string]any)["M"])
	if err != nil {
		t.Fatal(err)
	}
	var img map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal(raw, &img); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return img
}

func dynamoJSON(av types.AttributeValue) any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = dynamoJSON(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		m := map[string]any{}
		for k, e := range v.Value {
			m[k] = dynamoJSON(e)
		}
		return map[string]any{"M": m}
	}
	panic(fmt.Sprintf("attribute type %T not used by the store", av))
}

func TestImageRoundTrip(t *testing.T) {
	rec := store.Record{Cluster: "orders", Epoch: 7, Primary: "node2", Version: 40, UpdatedAt: t0,
		PrimaryLease: &store.PrimaryLease{Node: "node2", Term: 7, Renewed: t0, Expires: t0.Add(10 * time.Second), LSN: 1 << 40},
		Standby:      &store.StandbyState{Node: "node1", Reason: "former primary", Changed: t0},
		Pause:        &store.Pause{By: "alice", Reason: "kernel", Since: t0},
		History:      []store.HistoryEntry{failoverEntry()}}
	got, err := decodeImage(image(t, rec))
	if err != nil {
		t.Fatal(err)
	}
	want := rec
	want.History = nil // the record item holds no history
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("record item round trip:\n got %+v\nwant %+v", got, want)
	}
	got, err = decodeImage(historyImage(t, rec))
	if err != nil {
		t.Fatal(err)
	}
	want = store.Record{Cluster: "orders", Epoch: 7, Primary: "node2", Version: 40, History: rec.History}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history item round trip:\n got %+v\nwant %+v", got, want)
	}
}
