package backoff_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/backoff"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
)

// newEC2 serves an empty EC2 emulator over HTTP and returns it with the
// real SDK client for it. The SDK's own retries are off, so every call the
// log shows was made by backoff.Retry.
func newEC2(t *testing.T) (*localaws.Server, awsapi.EC2API) {
	t.Helper()
	srv := localaws.NewServer()
	srv.Register(ec2sim.New(nil))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	opts := append(awsall.LocalConfig(hs.URL, "us-east-1", "backoff-test"),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
	clients, err := awsall.NewClients(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, clients.EC2
}

// TestRetryRealSDKErrors checks which errors of the real SDK, as the
// emulator answers them over HTTP, are retried.
func TestRetryRealSDKErrors(t *testing.T) {
	cases := []struct {
		name      string
		fault     *localaws.APIError
		wantCalls int // of 3 allowed, with 2 failing
		wantErr   bool
	}{
		{"internal error", localaws.InternalError(), 3, false},
		{"request limit", localaws.Errorf(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded."), 3, false},
		{"unknown 502", localaws.Errorf(http.StatusBadGateway, "BadGateway", "upstream failed"), 3, false},
		{"unauthorized", localaws.Errorf(http.StatusForbidden, "UnauthorizedOperation", "You are not authorized."), 1, true},
		{"invalid parameter", localaws.BadRequest("InvalidParameterValue", "bad value"), 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, api := newEC2(t)
			srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "DescribeInstances", FailNext: 2, Error: c.fault})
			p := backoff.Policy{Initial: time.Millisecond, Max: 4 * time.Millisecond, Attempts: 3}
			err := backoff.Retry(context.Background(), p, func(ctx context.Context) error {
				_, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
				return err
			})
			if calls := len(srv.Calls()); calls != c.wantCalls {
				t.Errorf("%d DescribeInstances calls, want %d", calls, c.wantCalls)
			}
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v, want error: %v", err, c.wantErr)
			}
			if err != nil && awsapi.ErrorCode(err) != c.fault.Code {
				t.Errorf("error code %q, want %q", awsapi.ErrorCode(err), c.fault.Code)
			}
		})
	}
}

// TestRetryGivesUpWhenAttemptsRunOut keeps failing every call.
func TestRetryGivesUpWhenAttemptsRunOut(t *testing.T) {
	srv, api := newEC2(t)
	srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "DescribeInstances", ErrorRate: 1})
	p := backoff.Policy{Initial: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 4}
	err := backoff.Retry(context.Background(), p, func(ctx context.Context) error {
		_, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		return err
	})
	var failed int
	for _, c := range srv.Calls() {
		if c.ErrorCode == "InternalError" {
			failed++
		}
	}
	if failed != 4 || awsapi.ErrorCode(err) != "InternalError" {
		t.Fatalf("%d failed calls, err %v; want 4 ending in InternalError", failed, err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatalf("err %v mentions a cancellation that did not happen", err)
	}
}
