package sfnsim_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
)

const roleArn = "arn:aws:iam::123456789012:role/switchyard-failover"

// stack is one emulated Step Functions behind a real HTTP server, with a
// real SDK client (no retries) pointed at it. Sleep is compressed: it
// records what it was asked to wait and returns at once.
type stack struct {
	srv    *localaws.Server
	sim    *sfnsim.Service
	client *sfn.Client

	mu     sync.Mutex
	sleeps []time.Duration
}

// newStack builds a stack whose tasks are the given functions by resource.
// adjust may change the options before the Service is built.
func newStack(t *testing.T, tasks map[string]asl.TaskFunc, adjust ...func(*sfnsim.Options)) *stack {
	t.Helper()
	st := &stack{}
	opts := sfnsim.Options{
		Tasks: func(resource string) (asl.TaskFunc, bool) {
			fn, ok := tasks[resource]
			return fn, ok
		},
		Sleep: func(ctx context.Context, d time.Duration) error {
			st.mu.Lock()
			st.sleeps = append(st.sleeps, d)
			st.mu.Unlock()
			return ctx.Err()
		},
	}
	for _, fn := range adjust {
		fn(&opts)
	}
	st.sim = sfnsim.New(opts)
	t.Cleanup(st.sim.Close)
	st.srv = localaws.NewServer()
	st.srv.Register(st.sim)
	hs := httptest.NewServer(st.srv)
	t.Cleanup(hs.Close)
	cfgOpts := append(awsall.LocalConfig(hs.URL, "us-east-1", "AKIDSTATESTEST"), config.WithRetryMaxAttempts(1))
	cfg, err := config.LoadDefaultConfig(context.Background(), cfgOpts...)
	if err != nil {
		t.Fatalf("loading SDK config: %v", err)
	}
	st.client = sfn.NewFromConfig(cfg)
	return st
}

func (st *stack) sleepsSoFar() []time.Duration {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]time.Duration(nil), st.sleeps...)
}

func (st *stack) createMachine(t *testing.T, name, definition string) string {
	t.Helper()
	out, err := st.client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String(roleArn)})
	if err != nil {
		t.Fatalf("CreateStateMachine %s: %v", name, err)
	}
	return aws.ToString(out.StateMachineArn)
}

func (st *stack) start(t *testing.T, machineArn, name, input string) *sfn.StartExecutionOutput {
	t.Helper()
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(machineArn), Input: aws.String(input)}
	if name != "" {
		in.Name = aws.String(name)
	}
	out, err := st.client.StartExecution(context.Background(), in)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	return out
}

// waitDone polls DescribeExecution until the execution leaves RUNNING.
func (st *stack) waitDone(t *testing.T, executionArn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		// The client's own retries are off (see newStack), so a poll that
		// fails in transport (a loaded machine, a large answer) is polled
		// again; only the deadline ends the wait.
		out, err := st.client.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionArn)})
		if err == nil && out.Status != types.ExecutionStatusRunning {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s not ended after 10s (last DescribeExecution error: %v)", executionArn, err)
		}
		<-tick.C
	}
}

// history reads the whole history with the given page size.
func (st *stack) history(t *testing.T, executionArn string, pageSize int32, reverse bool) []types.HistoryEvent {
	t.Helper()
	var all []types.HistoryEvent
	var token *string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("history pagination does not end")
		}
		out, err := st.client.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{
			ExecutionArn: aws.String(executionArn), MaxResults: pageSize, ReverseOrder: reverse, NextToken: token})
		if err != nil {
			t.Fatalf("GetExecutionHistory: %v", err)
		}
		all = append(all, out.Events...)
		if out.NextToken == nil {
			return all
		}
		token = out.NextToken
	}
}

func eventTypes(events []types.HistoryEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e.Type)
	}
	return out
}

// apiError asserts err is an AWS API error with the code, HTTP 400 and a
// message containing want.
func apiError(t *testing.T, err error, code, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got success", code)
	}
	if got := awsapi.ErrorCode(err); got != code {
		t.Fatalf("want error code %s, got %q (%v)", code, got, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("want HTTP 400 for %s, got %v", code, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not mention %q", err, want)
	}
}
