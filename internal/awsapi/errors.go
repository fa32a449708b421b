package awsapi

import (
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// ErrorCode returns the AWS error code of err ("InvalidRoute.NotFound",
// "Throttling", ...) or "" when err carries none.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// IsNotFound reports whether err says a resource does not exist.
func IsNotFound(err error) bool {
	code := ErrorCode(err)
	return strings.HasSuffix(code, ".NotFound") || strings.HasSuffix(code, "NotFound") ||
		code == "ResourceNotFoundException" || code == "NoSuchHostedZone" || code == "ExecutionDoesNotExist" ||
		code == "StateMachineDoesNotExist"
}

// IsThrottle reports whether err is AWS throttling.
func IsThrottle(err error) bool {
	switch ErrorCode(err) {
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
		"ProvisionedThroughputExceededException", "PriorRequestNotComplete", "RequestThrottled", "Throttled":
		return true
	}
	return false
}

// IsConditionalCheckFailed reports whether a DynamoDB conditional write was
// refused: a ConditionalCheckFailedException, or a cancelled transaction
// (TransactionCanceledException) one of whose items failed its condition.
func IsConditionalCheckFailed(err error) bool {
	if ErrorCode(err) == "ConditionalCheckFailedException" {
		return true
	}
	return slices.Contains(CancellationReasons(err), "ConditionalCheckFailed")
}

// IsTransactionConflict reports whether a DynamoDB write lost to a
// transaction in progress on its item, which retrying resolves: a single
// write refused with TransactionConflictException (the SDK does not retry
// it), or a transaction cancelled only for conflicts (reason
// TransactionConflict).
func IsTransactionConflict(err error) bool {
	if ErrorCode(err) == "TransactionConflictException" {
		return true
	}
	reasons := CancellationReasons(err)
	for _, r := range reasons {
		if r != "None" && r != "TransactionConflict" {
			return false // another cause, which a retry would meet again
		}
	}
	return slices.Contains(reasons, "TransactionConflict")
}

// CancellationReasons returns the codes of a cancelled DynamoDB
// transaction's items, in item order ("None" for an item that was not the
// cause), or nil when err is no TransactionCanceledException.
func CancellationReasons(err error) []string {
	var tc *dbtypes.TransactionCanceledException
	if !errors.As(err, &tc) {
		return nil
	}
	out := make([]string, len(tc.CancellationReasons))
	for i, r := range tc.CancellationReasons {
		out[i] = aws.ToString(r.Code)
	}
	return out
}

// IsAlreadyExists reports whether err says the thing to create exists already.
func IsAlreadyExists(err error) bool {
	code := ErrorCode(err)
	return strings.Contains(code, "AlreadyExists") || code == "RouteAlreadyExists"
}

// IsTransient reports whether err is a server-side or connection failure
// worth retrying: an HTTP 5xx from the service, or a connection that failed
// or closed without an answer.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorFault() == smithy.FaultServer
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}
