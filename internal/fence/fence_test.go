package fence

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
)

const (
	instanceID = "i-0aaa1111"
	eniID      = "eni-0aaa1111"
	appSG      = "sg-0app"
	isoSG      = "sg-0isolation"
)

var node1 = cluster.Node{Name: "node1", InstanceID: instanceID, NetworkInterfaceID: eniID, PrivateIP: "10.0.1.10"}

var fast = []Option{WithPollInterval(time.Millisecond), WithVerifyTimeout(200 * time.Millisecond), WithRetry(time.Millisecond, 5)}

func fakeWithNode(state string) *fakeEC2 {
	f := newFakeEC2()
	f.instances[instanceID] = &fakeInstance{state: state}
	f.enis[eniID] = []string{appSG}
	f.groups[appSG], f.groups[isoSG] = true, true
	return f
}

func stopCfg() cluster.Fence { return cluster.Fence{Mode: cluster.FenceStop, StopTimeoutSeconds: 5} }

func TestStopRunningInstance(t *testing.T) {
	f := fakeWithNode(stateRunning)
	f.stopAfter = 3
	res, err := Fence(context.Background(), f, node1, stopCfg(), fast...)
	if err != nil {
		t.Fatalf("Fence: %v", err)
	}
	st := res.Stop
	if st == nil || st.InitialState != stateRunning || st.FinalState != stateStopped || st.StopRequests != 1 {
		t.Fatalf("stop result = %+v", st)
	}
	if st.Polls < 3 {
		t.Fatalf("polls = %d: returned before the instance was observed stopped", st.Polls)
	}
	if !f.instances[instanceID].forced {
		t.Fatal("StopInstances was not called with Force")
	}
	if res.Isolation != nil || f.calls("ModifyNetworkInterfaceAttribute") != 0 {
		t.Fatal("stop mode touched the network interface")
	}

	// A retry converges without another StopInstances.
	res, err = Fence(context.Background(), f, node1, stopCfg(), fast...)
	if err != nil || res.Stop.StopRequests != 0 || f.calls("StopInstances") != 1 {
		t.Fatalf("retry: err %v, result %+v, StopInstances calls %d", err, res.Stop, f.calls("StopInstances"))
	}
}

func TestStopAlreadyDown(t *testing.T) {
	for _, state := range []string{stateStopped, stateTerminated} {
		t.Run(state, func(t *testing.T) {
			f := fakeWithNode(state)
			res, err := Fence(context.Background(), f, node1, stopCfg(), fast...)
			if err != nil {
				t.Fatalf("Fence: %v", err)
			}
			if res.Stop.FinalState != state || f.calls("StopInstances") != 0 {
				t.Fatalf("result %+v, StopInstances calls %d", res.Stop, f.calls("StopInstances"))
			}
		})
	}
	t.Run("gone", func(t *testing.T) {
		f := newFakeEC2()
		res, err := Fence(context.Background(), f, node1, stopCfg(), fast...)
		if err != nil {
			t.Fatalf("Fence of unknown instance: %v", err)
		}
		if res.Stop.FinalState != stateTerminated || f.calls("StopInstances") != 0 {
			t.Fatalf("result %+v", res.Stop)
		}
	})
}

func TestStopForcesAGracefulStop(t *testing.T) {
	f := fakeWithNode(stateStopping)
	f.instances[instanceID].countdown = 1000 // a graceful stop that would hang
	res, err := Fence(context.Background(), f, node1, stopCfg(), fast...)
	if err != nil {
		t.Fatalf("Fence: %v", err)
	}
	if res.Stop.StopRequests != 1 || !f.instances[instanceID].forced || res.Stop.FinalState != stateStopped {
		t.Fatalf("result %+v", res.Stop)
	}
}

func TestStopTimesOut(t *testing.T) {
	f := fakeWithNode(stateRunning)
	f.stuck = true
	cfg := stopCfg()
	cfg.StopTimeoutSeconds = 1
	start := time.Now()
	res, err := Fence(context.Background(), f, node1, cfg, WithPollInterval(20*time.Millisecond))
	var to *ErrFenceTimeout
	if !errors.As(err, &to) {
		t.Fatalf("err = %v, want *ErrFenceTimeout", err)
	}
	if to.LastState != stateStopping || to.InstanceID != instanceID || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout error = %+v", to)
	}
	if took := time.Since(start); took < time.Second || took > 3*time.Second {
		t.Fatalf("gave up after %s, want about the 1s stop timeout", took)
	}
	if res.Stop == nil || res.Stop.FinalState != stateStopping {
		t.Fatalf("result %+v", res.Stop)
	}
}

func TestStopHonoursCallerContext(t *testing.T) {
	f := fakeWithNode(stateRunning)
	f.stuck = true
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Fence(ctx, f, node1, stopCfg(), fast...)
	var to *ErrFenceTimeout
	if !errors.As(err, &to) {
		t.Fatalf("err = %v, want *ErrFenceTimeout", err)
	}
}

func TestStopRetriesThrottling(t *testing.T) {
	f := fakeWithNode(stateRunning)
	f.failNext["StopInstances"] = []error{apiErr("RequestLimitExceeded"), apiErr("RequestLimitExceeded")}
	f.failNext["DescribeInstances"] = []error{apiErr("RequestLimitExceeded")}
	res, err := Fence(context.Background(), f, node1, stopCfg(), fast...)
	if err != nil {
		t.Fatalf("Fence under throttling: %v", err)
	}
	if res.Stop.FinalState != stateStopped || res.Stop.StopRequests != 3 {
		t.Fatalf("result %+v, want stopped after 3 StopInstances", res.Stop)
	}
}

func TestStopPermanentErrorIsNotATimeout(t *testing.T) {
	f := fakeWithNode(stateRunning)
	f.failNext["StopInstances"] = []error{apiErr("UnauthorizedOperation")}
	_, err := Fence(context.Background(), f, node1, stopCfg(), fast...)
	var to *ErrFenceTimeout
	if err == nil || errors.As(err, &to) {
		t.Fatalf("err = %v, want the UnauthorizedOperation error", err)
	}
}

func TestIsolate(t *testing.T) {
	f := fakeWithNode(stateRunning)
	cfg := cluster.Fence{Mode: cluster.FenceIsolate, IsolationSecurityGroupID: isoSG}
	res, err := Fence(context.Background(), f, node1, cfg, fast...)
	if err != nil {
		t.Fatalf("Fence: %v", err)
	}
	iso := res.Isolation
	if iso == nil || !iso.Changed || !slices.Equal(iso.PreviousGroups, []string{appSG}) || !slices.Equal(iso.Groups, []string{isoSG}) {
		t.Fatalf("isolation = %+v", iso)
	}
	if res.Stop != nil || f.calls("StopInstances") != 0 {
		t.Fatal("isolate mode stopped the instance")
	}
	res, err = Fence(context.Background(), f, node1, cfg, fast...)
	if err != nil || res.Isolation.Changed || f.calls("ModifyNetworkInterfaceAttribute") != 1 {
		t.Fatalf("retry: err %v, isolation %+v, modify calls %d", err, res.Isolation, f.calls("ModifyNetworkInterfaceAttribute"))
	}
}

func TestIsolateRetriesThrottling(t *testing.T) {
	f := fakeWithNode(stateRunning)
	f.failNext["ModifyNetworkInterfaceAttribute"] = []error{apiErr("RequestLimitExceeded"), apiErr("RequestLimitExceeded")}
	res, err := Isolate(context.Background(), f, eniID, isoSG, fast...)
	if err != nil || !slices.Equal(res.Groups, []string{isoSG}) {
		t.Fatalf("err %v, result %+v", err, res)
	}
	if n := f.calls("ModifyNetworkInterfaceAttribute"); n != 3 {
		t.Fatalf("modify calls = %d, want 3", n)
	}
}

func TestIsolateNotObserved(t *testing.T) {
	f := fakeWithNode(stateRunning)
	f.ignoreModify = true
	_, err := Isolate(context.Background(), f, eniID, isoSG, fast...)
	var nc *ErrIsolationNotConfirmed
	if !errors.As(err, &nc) || !slices.Equal(nc.Groups, []string{appSG}) {
		t.Fatalf("err = %v, want *ErrIsolationNotConfirmed showing the old group", err)
	}
}

func TestIsolateInterfaceGone(t *testing.T) {
	f := newFakeEC2()
	res, err := Isolate(context.Background(), f, eniID, isoSG, fast...)
	if err != nil || !res.InterfaceGone || f.calls("ModifyNetworkInterfaceAttribute") != 0 {
		t.Fatalf("err %v, result %+v", err, res)
	}
}

func TestIsolateAndStopOrder(t *testing.T) {
	f := fakeWithNode(stateRunning)
	cfg := cluster.Fence{Mode: cluster.FenceIsolateAndStop, IsolationSecurityGroupID: isoSG, StopTimeoutSeconds: 5}
	res, err := Fence(context.Background(), f, node1, cfg, fast...)
	if err != nil {
		t.Fatalf("Fence: %v", err)
	}
	if res.Isolation == nil || res.Stop == nil || res.Stop.FinalState != stateStopped {
		t.Fatalf("result %+v", res)
	}
	modify := slices.Index(f.log, "ModifyNetworkInterfaceAttribute")
	stop := slices.Index(f.log, "StopInstances")
	if modify < 0 || stop < 0 || modify > stop {
		t.Fatalf("call order %v: want isolation before the stop", f.log)
	}
}

func TestIsolationFailureStopsTheSequence(t *testing.T) {
	f := fakeWithNode(stateRunning)
	cfg := cluster.Fence{Mode: cluster.FenceIsolateAndStop, IsolationSecurityGroupID: "sg-0missing", StopTimeoutSeconds: 5}
	_, err := Fence(context.Background(), f, node1, cfg, fast...)
	if err == nil || f.calls("StopInstances") != 0 {
		t.Fatalf("err %v, StopInstances calls %d", err, f.calls("StopInstances"))
	}
}

func TestUnknownModeTouchesNothing(t *testing.T) {
	f := fakeWithNode(stateRunning)
	_, err := Fence(context.Background(), f, node1, cluster.Fence{Mode: "pray"}, fast...)
	if err == nil || len(f.log) != 0 {
		t.Fatalf("err %v, calls %v", err, f.log)
	}
}
