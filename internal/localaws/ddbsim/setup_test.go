package ddbsim_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
)

// stack is one emulated DynamoDB behind a real HTTP server, with a real SDK
// client (no retries) pointed at it.
type stack struct {
	srv    *localaws.Server
	sim    *ddbsim.Service
	client *dynamodb.Client
}

func newStack(t *testing.T) *stack {
	t.Helper()
	sim := ddbsim.New(ddbsim.Options{})
	srv := localaws.NewServer()
	srv.Register(sim)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	opts := append(awsall.LocalConfig(hs.URL, "us-east-1", "AKIDDYNAMOTEST"), config.WithRetryMaxAttempts(1))
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatalf("loading SDK config: %v", err)
	}
	return &stack{srv: srv, sim: sim, client: dynamodb.NewFromConfig(cfg)}
}

// clusterTable creates a hash-only table "clusters" keyed by "id".
func (s *stack) clusterTable(t *testing.T) {
	t.Helper()
	if err := s.sim.CreateTable(ddbsim.TableSpec{Name: "clusters", HashKey: "id", HashKeyType: "S"}); err != nil {
		t.Fatalf("creating table: %v", err)
	}
}

func (s *stack) put(t *testing.T, table string, it map[string]types.AttributeValue) {
	t.Helper()
	if _, err := s.client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

func (s *stack) get(t *testing.T, table string, key map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := s.client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

// apiError asserts err is an AWS API error with the code, HTTP status 400
// and a message containing want.
func apiError(t *testing.T, err error, code, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got success", code)
	}
	if got := awsapi.ErrorCode(err); got != code {
		t.Fatalf("want error code %s, got %q (%v)", code, got, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	if re.HTTPStatusCode() != 400 {
		t.Fatalf("want HTTP 400 for %s, got %d", code, re.HTTPStatusCode())
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not mention %q", err, want)
	}
}

func s(v string) types.AttributeValue     { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue     { return &types.AttributeValueMemberN{Value: v} }
func b(v bool) types.AttributeValue       { return &types.AttributeValueMemberBOOL{Value: v} }
func ss(v ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: v} }
func ns(v ...string) types.AttributeValue { return &types.AttributeValueMemberNS{Value: v} }
func l(v ...types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberL{Value: v}
}
func m(v map[string]types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: v}
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": s(id)}
}

// num returns the N value of attribute name, failing when it is not a number.
func num(t *testing.T, it map[string]types.AttributeValue, name string) string {
	t.Helper()
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("attribute %s is %T, want N (item %v)", name, it[name], it)
	}
	return v.Value
}

// str returns the S value of attribute name, failing when it is not a string.
func str(t *testing.T, it map[string]types.AttributeValue, name string) string {
	t.Helper()
	v, ok := it[name].(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("attribute %s is %T, want S (item %v)", name, it[name], it)
	}
	return v.Value
}

// render writes an item in DynamoDB's JSON form, for failure messages.
func render(it map[string]types.AttributeValue) string {
	var b strings.Builder
	b.WriteString("{")
	for _, k := range slices.Sorted(maps.Keys(it)) {
		fmt.Fprintf(&b, "%s: %s, ", k, renderValue(it[k]))
	}
	b.WriteString("}")
	return b.String()
}

func renderValue(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("S %q", v.Value)
	case *types.AttributeValueMemberN:
		return "N " + v.Value
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B %x", v.Value)
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL %v", v.Value)
	case *types.AttributeValueMemberNULL:
		return fmt.Sprintf("NULL %v", v.Value)
	case *types.AttributeValueMemberSS:
		return fmt.Sprintf("SS %q", v.Value)
	case *types.AttributeValueMemberNS:
		return fmt.Sprintf("NS %v", v.Value)
	case *types.AttributeValueMemberBS:
		return fmt.Sprintf("BS %x", v.Value)
	case *types.AttributeValueMemberM:
		return "M " + render(v.Value)
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = renderValue(e)
		}
		return "L [" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("%T", v)
}
