package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	// beforePut runs (unlocked) before each PutItem or TransactWriteItems
	// evaluates its conditions.
	beforePut func()
	// puts counts PutItem and TransactWriteItems calls, transactions the
	// latter alone.
	puts, transactions int
	// reads lists the key of each GetItem, written each item a PutItem
	// or a transaction wrote, in order.
	reads   []string
	written []item
	// afterGet runs (unlocked) after each GetItem with the key read.
	afterGet func(key string)
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
	f.reads = append(f.reads, k)
	it, ok := f.items[k]
	it = maps.Clone(it)
	f.mu.Unlock()
	if f.afterGet != nil {
		f.afterGet(k)
	}
	if !ok {
		return &dynamodb.GetItemOutput{}, nil
	}
	return &dynamodb.GetItemOutput{Item: it}, nil
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
	ok, err := f.holds(k, in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apiErr("ConditionalCheckFailedException", "The conditional request failed")
	}
	f.items[k] = maps.Clone(in.Item)
	f.written = append(f.written, maps.Clone(in.Item))
	return &dynamodb.PutItemOutput{}, nil
}

// TransactWriteItems applies Puts all or nothing, each with a condition
// holds understands; a failed one cancels the transaction with one reason
// per item, as DynamoDB does. It counts as a put (puts, failPut,
// beforePut).
func (f *fakeDynamoDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f.beforePut != nil {
		f.beforePut()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	f.transactions++
	if f.failPut != nil {
		return nil, f.failPut
	}
	keys := make([]string, len(in.TransactItems))
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	canceled := false
	for i, ti := range in.TransactItems {
		p := ti.Put
		if p == nil {
			return nil, apiErr("ValidationException", "fake supports only Put in transactions")
		}
		if err := f.checkTable(p.TableName); err != nil {
			return nil, err
		}
		k, err := keyOf(p.Item)
		if err != nil {
			return nil, err
		}
		if slices.Contains(keys[:i], k) {
			return nil, apiErr("ValidationException", "Transaction request cannot include multiple operations on one item")
		}
		keys[i] = k
		ok, err := f.holds(k, p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues)
		if err != nil {
			return nil, err
		}
		reasons[i].Code = aws.String("None")
		if !ok {
			reasons[i].Code, canceled = aws.String("ConditionalCheckFailed"), true
		}
	}
	if canceled {
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	for i, ti := range in.TransactItems {
		f.items[keys[i]] = maps.Clone(ti.Put.Item)
		f.written = append(f.written, maps.Clone(ti.Put.Item))
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// holds evaluates one of the conditions the store writes against the item
// with key k. f.mu is held.
func (f *fakeDynamoDB) holds(k string, condition *string, names map[string]string, values map[string]types.AttributeValue) (bool, error) {
	cur, exists := f.items[k]
	cond := ""
	if condition != nil {
		cond = *condition
	}
	switch cond {
	case "":
		return true, nil
	case "attribute_not_exists(#c)":
		if names["#c"] != attrCluster {
			return false, apiErr("ValidationException", "unexpected attribute name")
		}
		return !exists, nil
	case "#v = :v":
		want, ok := values[":v"].(*types.AttributeValueMemberN)
		if !ok || names["#v"] != attrVersion {
			return false, apiErr("ValidationException", "unexpected expression attributes")
		}
		have, ok := cur[attrVersion].(*types.AttributeValueMemberN)
		return exists && ok && have.Value == want.Value, nil
	default:
		return false, apiErr("ValidationException", "fake does not understand condition "+cond)
	}
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
