package fence_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/fence"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
)

const (
	localSG  = "sg-0db00000000000001"
	localIso = "sg-0150000000000000a"
)

var localNode1 = cluster.Node{Name: "node1", InstanceID: "i-0a00000000000001a",
	NetworkInterfaceID: "eni-0a00000000000001a", PrivateIP: "10.0.2.10"}

var fastOpts = []fence.Option{fence.WithPollInterval(10 * time.Millisecond), fence.WithRetry(5*time.Millisecond, 5)}

type local struct {
	srv *localaws.Server
	ec2 *ec2sim.Service
	api awsapi.EC2API
}

// newLocal serves testdata/pair.yaml from the EC2 emulator over HTTP and
// returns the real SDK client for it, with quick SDK retry backoff.
func newLocal(t *testing.T) *local {
	t.Helper()
	topo, err := localaws.LoadTopology("testdata/pair.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc := ec2sim.New(topo)
	svc.SetStopDelay(150 * time.Millisecond)
	srv := localaws.NewServer()
	srv.Register(svc)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	opts := append(awsapi.LocalConfig(hs.URL, "us-east-1", "fence-test"), config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 2 * time.Millisecond, nil })
		})
	}))
	clients, err := awsapi.NewClients(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &local{srv: srv, ec2: svc, api: clients.EC2}
}

// ops lists the operations of the call log, and how many failed with code.
func (l *local) ops(code string) (ops []string, failed int) {
	for _, c := range l.srv.Calls() {
		ops = append(ops, c.Operation)
		if c.ErrorCode == code {
			failed++
		}
	}
	return ops, failed
}

func count(ops []string, op string) int {
	n := 0
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLocalStopLifecycle(t *testing.T) {
	l := newLocal(t)
	cfg := cluster.Fence{Mode: cluster.FenceStop, StopTimeoutSeconds: 10}
	res, err := fence.Fence(testCtx(t), l.api, localNode1, cfg, fastOpts...)
	if err != nil {
		t.Fatalf("Fence: %v", err)
	}
	if got := l.ec2.InstanceState(localNode1.InstanceID); got != ec2sim.StateStopped {
		t.Fatalf("instance is %s after Fence returned", got)
	}
	st := res.Stop
	if st.InitialState != "running" || st.FinalState != "stopped" || st.StopRequests != 1 || st.Polls < 3 {
		t.Fatalf("stop result %+v", st)
	}
	if res.DurationMs < 150 {
		t.Fatalf("fencing took %dms, less than the emulator's stop delay", res.DurationMs)
	}
	if other := l.ec2.InstanceState("i-0c00000000000002c"); other != ec2sim.StateRunning {
		t.Fatalf("the standby is %s", other)
	}

	l.srv.ResetCalls()
	if _, err := fence.Fence(testCtx(t), l.api, localNode1, cfg, fastOpts...); err != nil {
		t.Fatalf("retried Fence: %v", err)
	}
	if ops, _ := l.ops(""); !slices.Equal(ops, []string{"DescribeInstances"}) {
		t.Fatalf("retried Fence made calls %v, want one DescribeInstances", ops)
	}
}

func TestLocalIsolateThenStop(t *testing.T) {
	l := newLocal(t)
	cfg := cluster.Fence{Mode: cluster.FenceIsolateAndStop, IsolationSecurityGroupID: localIso, StopTimeoutSeconds: 10}
	res, err := fence.Fence(testCtx(t), l.api, localNode1, cfg, fastOpts...)
	if err != nil {
		t.Fatalf("Fence: %v", err)
	}
	if got := l.ec2.SecurityGroups(localNode1.NetworkInterfaceID); !slices.Equal(got, []string{localIso}) {
		t.Fatalf("groups after isolation %v", got)
	}
	if !slices.Equal(res.Isolation.PreviousGroups, []string{localSG}) || l.ec2.InstanceState(localNode1.InstanceID) != "stopped" {
		t.Fatalf("result %+v / %+v", res.Isolation, res.Stop)
	}
	ops, _ := l.ops("")
	if m, s := slices.Index(ops, "ModifyNetworkInterfaceAttribute"), slices.Index(ops, "StopInstances"); m < 0 || s < m {
		t.Fatalf("call order %v: want isolation before the stop", ops)
	}
}

func TestLocalStopTimeout(t *testing.T) {
	l := newLocal(t)
	l.ec2.SetStopDelay(time.Hour)
	ctx, cancel := context.WithTimeout(testCtx(t), 300*time.Millisecond)
	defer cancel()
	_, err := fence.Fence(ctx, l.api, localNode1, cluster.Fence{Mode: cluster.FenceStop, StopTimeoutSeconds: 10}, fastOpts...)
	var to *fence.ErrFenceTimeout
	if !errors.As(err, &to) || to.LastState != "stopping" {
		t.Fatalf("err = %v, want *ErrFenceTimeout in state stopping", err)
	}
}

func TestLocalUnknownInstanceCountsAsTerminated(t *testing.T) {
	l := newLocal(t)
	gone := localNode1
	gone.InstanceID = "i-0123456789abcdef0"
	res, err := fence.Fence(testCtx(t), l.api, gone, cluster.Fence{Mode: cluster.FenceStop, StopTimeoutSeconds: 10}, fastOpts...)
	if err != nil || res.Stop.FinalState != "terminated" {
		t.Fatalf("err %v, result %+v", err, res.Stop)
	}
	if ops, _ := l.ops(""); count(ops, "StopInstances") != 0 {
		t.Fatalf("calls %v", ops)
	}
}

func TestLocalThrottledStopConverges(t *testing.T) {
	l := newLocal(t)
	throttle := &localaws.APIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded.", HTTPStatus: http.StatusServiceUnavailable}
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "StopInstances", FailNext: 5, Error: throttle})
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "ModifyNetworkInterfaceAttribute", FailNext: 5, Error: throttle})
	cfg := cluster.Fence{Mode: cluster.FenceIsolateAndStop, IsolationSecurityGroupID: localIso, StopTimeoutSeconds: 10}
	if _, err := fence.Fence(testCtx(t), l.api, localNode1, cfg, fastOpts...); err != nil {
		t.Fatalf("Fence under throttling: %v", err)
	}
	if l.ec2.InstanceState(localNode1.InstanceID) != "stopped" || !slices.Equal(l.ec2.SecurityGroups(localNode1.NetworkInterfaceID), []string{localIso}) {
		t.Fatal("not fenced")
	}
	if _, throttled := l.ops("RequestLimitExceeded"); throttled != 10 {
		t.Fatalf("%d calls throttled, want the 10 injected", throttled)
	}
}
