package ddbsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

func streamTable(t *testing.T, s *stack, view types.StreamViewType) string {
	t.Helper()
	out, err := s.client.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String("clusters"), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: view},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

func TestStreamRecordsEveryChangeInOrder(t *testing.T) {
	s := newStack(t)
	arn := streamTable(t, s, types.StreamViewTypeNewAndOldImages)
	if !strings.HasPrefix(arn, "arn:aws:dynamodb:us-east-1:123456789012:table/clusters/stream/") {
		t.Fatalf("LatestStreamArn %q", arn)
	}
	r, err := s.sim.Stream("clusters")
	if err != nil || r.Arn() != arn {
		t.Fatalf("Stream: %v, arn %q want %q", err, r.Arn(), arn)
	}
	from := r.Latest()
	ctx := context.Background()
	key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "orders"}}
	s.put(t, "clusters", map[string]types.AttributeValue{"id": key["id"], "v": &types.AttributeValueMemberN{Value: "1"}})
	update := func(v string) {
		t.Helper()
		if _, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("clusters"), Key: key,
			UpdateExpression:          aws.String("SET v = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: v}}}); err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
	}
	update("1") // no change: no record, as in DynamoDB
	update("2")
	if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("clusters"), Key: key}); err != nil {
		t.Fatal(err)
	}
	recs, changed := r.Read(from, 10)
	var got []string
	var prev string
	for _, rec := range recs {
		var e events.DynamoDBEventRecord
		if err := json.Unmarshal(rec.JSON, &e); err != nil {
			t.Fatalf("record %s does not decode as Lambda's event record: %v", rec.JSON, err)
		}
		if e.Change.SequenceNumber <= prev {
			t.Fatalf("sequence numbers out of order: %s after %s", e.Change.SequenceNumber, prev)
		}
		prev = e.Change.SequenceNumber
		old, cur := "-", "-"
		if v, ok := e.Change.OldImage["v"]; ok {
			old = v.Number()
		}
		if v, ok := e.Change.NewImage["v"]; ok {
			cur = v.Number()
		}
		got = append(got, e.EventName+" "+old+"→"+cur+" "+e.Change.Keys["id"].String())
	}
	want := []string{"INSERT -→1 orders", "MODIFY 1→2 orders", "REMOVE 2→- orders"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("records %v, want %v", got, want)
	}
	select {
	case <-changed:
		t.Fatal("the change channel is closed with no newer record")
	default:
	}
	s.put(t, "clusters", map[string]types.AttributeValue{"id": key["id"]})
	select {
	case <-changed:
	default:
		t.Fatal("a new record did not close the change channel")
	}
}

func TestStreamViewTypeShapesTheRecord(t *testing.T) {
	s := newStack(t)
	streamTable(t, s, types.StreamViewTypeKeysOnly)
	r, _ := s.sim.Stream("clusters")
	s.put(t, "clusters", map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}, "v": &types.AttributeValueMemberN{Value: "1"}})
	recs, _ := r.Read(0, 10)
	if len(recs) != 1 || strings.Contains(string(recs[0].JSON), "NewImage") || !strings.Contains(string(recs[0].JSON), `"Keys"`) {
		t.Fatalf("KEYS_ONLY record: %s", recs[0].JSON)
	}
}

func TestStreamSpecificationErrors(t *testing.T) {
	s := newStack(t)
	_, err := s.client.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String("clusters"), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true)},
	})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" || !strings.Contains(apiErr.ErrorMessage(), "StreamViewType") {
		t.Fatalf("stream without a view type: %v", err)
	}
	if _, err := s.sim.Stream("clusters"); err == nil {
		t.Fatal("a table that was not created has a stream")
	}
	s.clusterTable(t)
	if _, err := s.sim.Stream("clusters"); err == nil || !strings.Contains(err.Error(), "has no stream") {
		t.Fatalf("table without a stream: %v", err)
	}
}
