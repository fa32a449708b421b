package ddbsim_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/internal/localaws"
)

func TestCreateDescribeDeleteTable(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	out, err := st.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("history"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("cluster"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("seq"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("cluster"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("seq"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	d := out.TableDescription
	if d.TableStatus != types.TableStatusActive || aws.ToString(d.TableArn) != "arn:aws:dynamodb:us-east-1:123456789012:table/history" {
		t.Fatalf("unexpected description: status %s arn %s", d.TableStatus, aws.ToString(d.TableArn))
	}
	if d.CreationDateTime == nil || d.CreationDateTime.Before(before) {
		t.Fatalf("CreationDateTime %v is not the creation time", d.CreationDateTime)
	}
	if len(d.KeySchema) != 2 || aws.ToString(d.KeySchema[1].AttributeName) != "seq" || d.KeySchema[1].KeyType != types.KeyTypeRange {
		t.Fatalf("key schema not echoed: %+v", d.KeySchema)
	}

	_, err = st.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("history"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("cluster"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("cluster"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	apiError(t, err, "ResourceInUseException", "Table already exists: history")

	_, err = st.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("other"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	apiError(t, err, "ValidationException", "ReadCapacityUnits and WriteCapacityUnits must both be specified")

	_, err = st.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("other"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	apiError(t, err, "ValidationException", "not defined in AttributeDefinitions")

	desc, err := st.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("history")})
	if err != nil || aws.ToString(desc.Table.TableName) != "history" {
		t.Fatalf("DescribeTable: %v %+v", err, desc)
	}
	list, err := st.client.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || !reflect.DeepEqual(list.TableNames, []string{"history"}) {
		t.Fatalf("ListTables: %v %v", err, list)
	}
	if _, err := st.client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("history")}); err != nil {
		t.Fatalf("DeleteTable: %v", err)
	}
	_, err = st.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("history")})
	apiError(t, err, "ResourceNotFoundException", "Requested resource not found")
}

func TestUnknownTableIsResourceNotFound(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	_, err := st.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nope"), Key: key("a")})
	apiError(t, err, "ResourceNotFoundException", "Requested resource not found")
	_, err = st.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("nope"), Item: key("a")})
	apiError(t, err, "ResourceNotFoundException", "Requested resource not found")
	_, err = st.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("nope"), Key: key("a")})
	apiError(t, err, "ResourceNotFoundException", "Requested resource not found")
	_, err = st.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("nope"), Key: key("a")})
	apiError(t, err, "ResourceNotFoundException", "Requested resource not found")
	_, err = st.client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("nope"), KeyConditionExpression: aws.String("id = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": s("a")}})
	apiError(t, err, "ResourceNotFoundException", "Requested resource not found")
}

func TestEveryAttributeTypeRoundTrips(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	it := map[string]types.AttributeValue{
		"id":      s("pg-main"),
		"text":    s(""),
		"epoch":   n("0042.50"),
		"big":     n("1e3"),
		"blob":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"ok":      b(true),
		"nothing": &types.AttributeValueMemberNULL{Value: true},
		"doc":     m(map[string]types.AttributeValue{"inner": l(s("x"), n("1"), m(map[string]types.AttributeValue{}))}),
		"empty":   l(),
		"tags":    ss("a", "b"),
		"ports":   ns("5432", "6432"),
		"blobs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
	}
	st.put(t, "clusters", it)
	got := st.get(t, "clusters", key("pg-main"))
	want := make(map[string]types.AttributeValue, len(it))
	for k, v := range it {
		want[k] = v
	}
	// DynamoDB returns numbers in canonical form.
	want["epoch"], want["big"] = n("42.5"), n("1000")
	if render(got) != render(want) {
		t.Fatalf("round trip changed the item:\n got %s\nwant %s", render(got), render(want))
	}
	if missing := st.get(t, "clusters", key("absent")); missing != nil {
		t.Fatalf("GetItem of an absent key returned %v", missing)
	}
}

func TestItemValidation(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	ctx := context.Background()
	cases := []struct {
		name string
		item map[string]types.AttributeValue
		want string
	}{
		{"missing key", map[string]types.AttributeValue{"x": s("1")}, "Missing the key id in the item"},
		{"key type", map[string]types.AttributeValue{"id": n("1")}, "Type mismatch for key id expected: S actual: N"},
		{"empty key", map[string]types.AttributeValue{"id": s("")}, "cannot contain an empty string value"},
		{"bad number", map[string]types.AttributeValue{"id": s("a"), "n": n("12abc")}, "cannot be converted into a number"},
		{"empty set", map[string]types.AttributeValue{"id": s("a"), "n": ss()}, "may not be empty"},
		{"duplicate set", map[string]types.AttributeValue{"id": s("a"), "n": ss("x", "x")}, "contains duplicates"},
		{"null false", map[string]types.AttributeValue{"id": s("a"), "n": &types.AttributeValueMemberNULL{Value: false}}, "must have the value of true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("clusters"), Item: tc.item})
			apiError(t, err, "ValidationException", tc.want)
		})
	}
	_, err := st.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("clusters"),
		Key: map[string]types.AttributeValue{"id": s("a"), "extra": s("b")}})
	apiError(t, err, "ValidationException", "The provided key element does not match the schema")
}

func TestPutAndDeleteReturnOldItem(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	ctx := context.Background()
	st.put(t, "clusters", map[string]types.AttributeValue{"id": s("c"), "v": n("1")})
	out, err := st.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("clusters"),
		Item: map[string]types.AttributeValue{"id": s("c"), "v": n("2")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || num(t, out.Attributes, "v") != "1" {
		t.Fatalf("PutItem ALL_OLD: %v %v", err, out)
	}
	_, err = st.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("clusters"),
		Item: key("c"), ReturnValues: types.ReturnValueAllNew})
	apiError(t, err, "ValidationException", "ReturnValues can only be NONE or ALL_OLD")

	del, err := st.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("clusters"), Key: key("c"), ReturnValues: types.ReturnValueAllOld})
	if err != nil || num(t, del.Attributes, "v") != "2" {
		t.Fatalf("DeleteItem ALL_OLD: %v %v", err, del)
	}
	if got := st.get(t, "clusters", key("c")); got != nil {
		t.Fatalf("item survived DeleteItem: %v", got)
	}
	del, err = st.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("clusters"), Key: key("c"), ReturnValues: types.ReturnValueAllOld})
	if err != nil || del.Attributes != nil {
		t.Fatalf("deleting an absent item: %v %v", err, del.Attributes)
	}
}

func TestGetItemProjection(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	st.put(t, "clusters", map[string]types.AttributeValue{
		"id": s("c"), "status": s("ok"), "extra": s("x"),
		"doc": m(map[string]types.AttributeValue{"a": n("1"), "b": n("2"), "entries": l(s("l0"), s("l1"), s("l2"))}),
	})
	out, err := st.client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("clusters"), Key: key("c"),
		ProjectionExpression:     aws.String("#s, doc.b, doc.entries[2]"),
		ExpressionAttributeNames: map[string]string{"#s": "status"}})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	want := map[string]types.AttributeValue{"status": s("ok"),
		"doc": m(map[string]types.AttributeValue{"b": n("2"), "entries": l(s("l2"))})}
	if render(out.Item) != render(want) {
		t.Fatalf("projection: got %s want %s", render(out.Item), render(want))
	}
}

func TestThrottling(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	st.srv.SetBucket(localaws.BucketDynamoDB, 2, 0.001)
	ctx := context.Background()
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = st.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("clusters"), Key: key("c")})
	}
	apiError(t, err, "ThrottlingException", "Rate of requests exceeds")
}

func TestConditionalCheckFailedCarriesOldItem(t *testing.T) {
	st := newStack(t)
	st.clusterTable(t)
	ctx := context.Background()
	st.put(t, "clusters", map[string]types.AttributeValue{"id": s("c"), "epoch": n("7")})
	_, err := st.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("clusters"), Item: key("c"),
		ConditionExpression: aws.String("attribute_not_exists(id)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	apiError(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("want *types.ConditionalCheckFailedException, got %T", err)
	}
	if num(t, ccf.Item, "epoch") != "7" {
		t.Fatalf("old item not returned: %v", ccf.Item)
	}
	_, err = st.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("clusters"), Key: key("c"),
		ConditionExpression: aws.String("epoch = :e"), ExpressionAttributeValues: map[string]types.AttributeValue{":e": n("8")}})
	if !errors.As(err, &ccf) || ccf.Item != nil {
		t.Fatalf("want ConditionalCheckFailedException without item, got %v", err)
	}
	if st.get(t, "clusters", key("c")) == nil {
		t.Fatalf("a failed conditional delete removed the item")
	}
}
