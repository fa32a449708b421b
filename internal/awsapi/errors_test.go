package awsapi

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

func canceled(codes ...string) error {
	e := &dbtypes.TransactionCanceledException{Message: aws.String("Transaction cancelled")}
	for _, c := range codes {
		e.CancellationReasons = append(e.CancellationReasons, dbtypes.CancellationReason{Code: aws.String(c)})
	}
	return fmt.Errorf("operation error DynamoDB: TransactWriteItems: %w", e)
}

// A cancelled transaction is a failed condition when one of its items
// failed its condition, a conflict when conflicts alone cancelled it.
func TestTransactionCancellationClasses(t *testing.T) {
	cases := []struct {
		err                 error
		condition, conflict bool
	}{
		{&smithy.GenericAPIError{Code: "ConditionalCheckFailedException"}, true, false},
		{&smithy.GenericAPIError{Code: "TransactionConflictException"}, false, true},
		{canceled("ConditionalCheckFailed", "None"), true, false},
		{canceled("None", "TransactionConflict"), false, true},
		{canceled("TransactionConflict", "ConditionalCheckFailed"), true, false},
		{canceled("None", "ValidationError"), false, false},
		{canceled("TransactionConflict", "ValidationError"), false, false},
		{canceled("TransactionConflict", "ThrottlingError"), false, false},
		{canceled("None", "None"), false, false},
		{&smithy.GenericAPIError{Code: "ValidationException"}, false, false},
	}
	for _, c := range cases {
		if got := IsConditionalCheckFailed(c.err); got != c.condition {
			t.Errorf("IsConditionalCheckFailed(%v) = %v", c.err, got)
		}
		if got := IsTransactionConflict(c.err); got != c.conflict {
			t.Errorf("IsTransactionConflict(%v) = %v", c.err, got)
		}
	}
	if got := CancellationReasons(canceled("None", "ConditionalCheckFailed")); fmt.Sprint(got) != "[None ConditionalCheckFailed]" {
		t.Errorf("CancellationReasons = %v", got)
	}
}
