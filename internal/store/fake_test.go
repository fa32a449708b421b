package store

import (
	"context"
	"errors"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// fakeDynamoDB is a test-only, in-memory DynamoDB table keyed by "cluster".
// It evaluates exactly the condition expressions the store writes and
// refuses any other with a ValidationException, as DynamoDB refuses what it
// cannot parse.
type fakeDynamoDB struct {
	mu    sync.Mutex
	table string
	items map[string]item

	// failPut, when set, is returned by PutItem instead of writing.
	failPut error
	// beforePut runs (unlocked) before each PutItem evaluates its condition.
	beforePut func()
	puts      int
}

var _ awsapi.DynamoDBAPI = (*fakeDynamoDB)(nil)

func newFakeDynamoDB(table string) *fakeDynamoDB {
	return &fakeDynamoDB{table: table, items: map[string]item{}}
}

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func (f *fakeDynamoDB) checkTable(name *string) error {
	if name == nil || *name != f.table {
		return apiErr("ResourceNotFoundException", "Requested resource not found")
	}
	return nil
}

func keyOf(k item) (string, error) {
	s, ok := k[attrCluster].(*types.AttributeValueMemberS)
	if !ok {
		return "", apiErr("ValidationException", "The provided key element does not match the schema")
	}
	return s.Value, nil
}

func (f *fakeDynamoDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := f.checkTable(in.TableName); err != nil {
		return nil, err
	}
	k, err := keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.items[k]
	if !ok {
		return &dynamodb.GetItemOutput{}, nil
	}
	return &dynamodb.GetItemOutput{Item: maps.Clone(it)}, nil
}

func (f *fakeDynamoDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := f.checkTable(in.TableName); err != nil {
		return nil, err
	}
	if f.beforePut != nil {
		f.beforePut()
	}
	k, err := keyOf(in.Item)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.failPut != nil {
		return nil, f.failPut
	}
	cur, exists := f.items[k]
	cond := ""
	if in.ConditionExpression != nil {
		cond = *in.ConditionExpression
	}
	switch cond {
	case "":
	case "attribute_not_exists(#c)":
		if in.ExpressionAttributeNames["#c"] != attrCluster {
			return nil, apiErr("ValidationException", "unexpected attribute name")
		}
		if exists {
			return nil, apiErr("ConditionalCheckFailedException", "The conditional request failed")
		}
	case "#v = :v":
		want, ok := in.ExpressionAttributeValues[":v"].(*types.AttributeValueMemberN)
		if !ok || in.ExpressionAttributeNames["#v"] != attrVersion {
			return nil, apiErr("ValidationException", "unexpected expression attributes")
		}
		have, ok := cur[attrVersion].(*types.AttributeValueMemberN)
		if !exists || !ok || have.Value != want.Value {
			return nil, apiErr("ConditionalCheckFailedException", "The conditional request failed")
		}
	default:
		return nil, apiErr("ValidationException", "fake does not understand condition "+cond)
	}
	f.items[k] = maps.Clone(in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

var errUnimplemented = errors.New("fakeDynamoDB: operation not implemented")

func (f *fakeDynamoDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeDynamoDB) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeDynamoDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errUnimplemented
}
