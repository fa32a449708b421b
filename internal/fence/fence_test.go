package fence_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/fence"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
)

// seeds replays the eventually consistent tests under several seeds.
var seeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8}

// wantHardStops fails unless every StopInstances the emulator saw for id
// used Force and SkipOsShutdown, and there was at least one.
func wantHardStops(t *testing.T, l *local, id string) {
	t.Helper()
	reqs := l.ec2.StopRequests(id)
	if len(reqs) == 0 {
		t.Fatal("no StopInstances reached the emulator")
	}
	for _, r := range reqs {
		if !r.Force || !r.SkipOsShutdown {
			t.Fatalf("stop request %+v: want Force and SkipOsShutdown", r)
		}
	}
}

// wantConfirmedSequence checks the observation log of a confirmed stop:
// it ends with needed counted "down" observations, all after an accepted
// stop, then the failing probe.
func wantConfirmedSequence(t *testing.T, st *fence.StopResult, needed int) {
	t.Helper()
	obs := st.Observations
	if !st.Confirmed || !st.StopAccepted || st.Consecutive < needed || st.ProbeError == "" {
		t.Fatalf("stop result %+v: want confirmed after an accepted stop and %d observations", st, needed)
	}
	if len(obs) < needed+1 || obs[len(obs)-1].Kind != fence.ObservedProbeFailed {
		t.Fatalf("observations %+v: want a failing probe last", obs)
	}
	for i, o := range obs[len(obs)-1-needed : len(obs)-1] {
		if o.Kind != fence.ObservedDown || o.Consecutive != i+1 {
			t.Fatalf("observation %d before the probe is %+v, want down #%d", needed-i, o, i+1)
		}
	}
	if st.DroppedObservations == 0 && !slices.ContainsFunc(obs, func(o fence.Observation) bool { return o.Kind == fence.ObservedStopAccepted }) {
		t.Fatalf("observations %+v show no accepted stop", obs)
	}
}

// TestHardStopUnderEventualConsistency is the issue's "spurious NotFound
// and stale reads injected while fencing: no promotion until truly
// fenced", at the unit level: with EC2 answering stale states and
// spurious NotFound, HardStop confirms only when the instance is truly
// down, after N consistent observations and a failing probe.
func TestHardStopUnderEventualConsistency(t *testing.T) {
	notProof := 0
	for _, seed := range seeds {
		l := newLocal(t, eventual(seed))
		p := &truthProbe{l: l, id: localNode1.InstanceID}
		res, err := fence.HardStop(testCtx(t), l.api, localNode1, stopCfg(), p.probe, fast()...)
		if err != nil {
			t.Fatalf("seed %d: HardStop: %v", seed, err)
		}
		if got := l.ec2.InstanceState(localNode1.InstanceID); got != ec2sim.StateStopping && got != ec2sim.StateStopped {
			t.Fatalf("seed %d: confirmed while the instance is %s", seed, got)
		}
		calls := p.calls()
		if last := calls[len(calls)-1]; last != ec2sim.StateStopping && last != ec2sim.StateStopped {
			t.Fatalf("seed %d: the confirming probe ran while the instance was %s", seed, last)
		}
		wantHardStops(t, l, localNode1.InstanceID)
		wantConfirmedSequence(t, res.Stop, 3)
		if l.ec2.InstanceState(node2ID) != ec2sim.StateRunning {
			t.Fatalf("seed %d: the standby was touched", seed)
		}
		notProof += res.Stop.NotProof
	}
	if notProof == 0 {
		t.Fatal("no spurious NotFound reached the fence in any run: the test did not test it")
	}
}

// TestNotFoundWhileRunningIsNotAFence: the instance was just restarted, so
// EC2 answers stale "stopped" and spurious NotFound, and every stop is
// throttled: the instance really runs. The fence must not be confirmed.
func TestNotFoundWhileRunningIsNotAFence(t *testing.T) {
	l := newLocal(t, ec2sim.Consistency{})
	if err := l.ec2.SetInstanceState(localNode1.InstanceID, ec2sim.StateStopped); err != nil {
		t.Fatal(err)
	}
	// Every read for the next hour may still show it stopped.
	if err := l.ec2.SetConsistency(ec2sim.Consistency{StaleFor: time.Hour, SpuriousNotFound: 0.5, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	if err := l.ec2.SetInstanceState(localNode1.InstanceID, ec2sim.StateRunning); err != nil {
		t.Fatal(err)
	}
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "StopInstances", ErrorRate: 1, Error: throttle()})
	p := &truthProbe{l: l, id: localNode1.InstanceID}
	cfg := stopCfg()
	cfg.StopTimeoutSeconds = 1
	res, err := fence.HardStop(testCtx(t), l.api, localNode1, cfg, p.probe, fast()...)
	var to *fence.ErrFenceTimeout
	if !errors.As(err, &to) {
		t.Fatalf("err = %v, want *ErrFenceTimeout", err)
	}
	if to.StopAccepted || to.NotProof == 0 || !awsapi.IsThrottle(to.Err) {
		t.Fatalf("timeout %+v: want no accepted stop, NotFound answers seen, throttling as the cause", to)
	}
	if l.ec2.InstanceState(localNode1.InstanceID) != ec2sim.StateRunning {
		t.Fatal("the instance is not running: the test did not test the case")
	}
	st := res.Stop
	if st.Confirmed || st.Consecutive != 0 || len(p.calls()) != 0 {
		t.Fatalf("stop %+v, probe calls %v: counted observations of a running instance", st, p.calls())
	}
	if !slices.ContainsFunc(st.Observations, func(o fence.Observation) bool { return o.Kind == fence.ObservedDownBeforeStop }) {
		t.Fatalf("observations %+v: want the stale stopped view seen and not counted", st.Observations)
	}
}

// TestProbeThatAnswersVetoes: the instance is really stopping, Describe
// agrees, but the old PostgreSQL still answers: not confirmed.
func TestProbeThatAnswersVetoes(t *testing.T) {
	l := newLocal(t, eventual(21))
	answers := func(context.Context) error { return nil }
	cfg := stopCfg()
	cfg.StopTimeoutSeconds = 1
	res, err := fence.HardStop(testCtx(t), l.api, localNode1, cfg, answers, fast()...)
	var to *fence.ErrFenceTimeout
	if !errors.As(err, &to) || to.ProbeAnswered == 0 || !to.StopAccepted || to.Consecutive < 3 {
		t.Fatalf("err = %v, want *ErrFenceTimeout after the probe answered with 3 observations", err)
	}
	if res.Stop.Confirmed || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop %+v", res.Stop)
	}
	if got := l.ec2.InstanceState(localNode1.InstanceID); got != ec2sim.StateStopped {
		t.Fatalf("instance %s: the stop itself should have gone through", got)
	}
}

func TestThrottlingIsRetriedAndConverges(t *testing.T) {
	l := newLocal(t, eventual(31))
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "StopInstances", FailNext: 6, Error: throttle()})
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "DescribeInstances", FailNext: 6, Error: throttle()})
	l.srv.SetBucket(localaws.BucketEC2NonMutating, 20, 50)
	p := &truthProbe{l: l, id: localNode1.InstanceID}
	res, err := fence.HardStop(testCtx(t), l.api, localNode1, stopCfg(), p.probe, fast()...)
	if err != nil {
		t.Fatalf("HardStop under throttling: %v", err)
	}
	wantConfirmedSequence(t, res.Stop, 3)
	wantHardStops(t, l, localNode1.InstanceID)
	if _, throttled := l.ops("RequestLimitExceeded"); throttled < 12 {
		t.Fatalf("%d calls throttled, want at least the 12 injected", throttled)
	}
}

func TestPermanentErrorIsNotATimeout(t *testing.T) {
	l := newLocal(t, eventual(41))
	denied := &localaws.APIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation.", HTTPStatus: 403}
	l.srv.Faults().Add(localaws.Fault{Service: "ec2", Operation: "StopInstances", FailNext: 1, Error: denied})
	p := &truthProbe{l: l, id: localNode1.InstanceID}
	_, err := fence.HardStop(testCtx(t), l.api, localNode1, stopCfg(), p.probe, fast()...)
	var to *fence.ErrFenceTimeout
	if err == nil || errors.As(err, &to) || awsapi.ErrorCode(err) != "UnauthorizedOperation" {
		t.Fatalf("err = %v, want the UnauthorizedOperation error", err)
	}
}

func TestUnknownInstanceIsNeverFenced(t *testing.T) {
	l := newLocal(t, ec2sim.Consistency{})
	gone := localNode1
	gone.InstanceID = "i-0123456789abcdef0"
	cfg := stopCfg()
	cfg.StopTimeoutSeconds = 1
	res, err := fence.HardStop(testCtx(t), l.api, gone, cfg, func(context.Context) error { return errors.New("refused") }, fast()...)
	var to *fence.ErrFenceTimeout
	if !errors.As(err, &to) || to.NotProof == 0 || res.Stop.Confirmed {
		t.Fatalf("err = %v, result %+v: NotFound must never confirm", err, res.Stop)
	}
}

func TestCallerContextBoundsTheWait(t *testing.T) {
	l := newLocal(t, eventual(51))
	ctx, cancel := context.WithTimeout(testCtx(t), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := fence.HardStop(ctx, l.api, localNode1, stopCfg(), func(context.Context) error { return nil }, fast()...)
	var to *fence.ErrFenceTimeout
	if !errors.As(err, &to) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want *ErrFenceTimeout from the caller's deadline", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("gave up after %s, want about the caller's 300ms", took)
	}
}

func TestRetryAfterSuccessConverges(t *testing.T) {
	l := newLocal(t, eventual(61))
	p := &truthProbe{l: l, id: localNode1.InstanceID}
	for i := range 2 {
		res, err := fence.HardStop(testCtx(t), l.api, localNode1, stopCfg(), p.probe, fast()...)
		if err != nil {
			t.Fatalf("HardStop #%d: %v", i+1, err)
		}
		wantConfirmedSequence(t, res.Stop, 3)
	}
	wantHardStops(t, l, localNode1.InstanceID)
}

func TestIsolateAndStop(t *testing.T) {
	l := newLocal(t, eventual(71))
	p := &truthProbe{l: l, id: localNode1.InstanceID}
	cfg := stopCfg()
	cfg.Mode, cfg.IsolationSecurityGroupID = cluster.FenceIsolateAndStop, localIso
	res, err := fence.HardStop(testCtx(t), l.api, localNode1, cfg, p.probe, fast()...)
	if err != nil {
		t.Fatalf("HardStop: %v", err)
	}
	if got := l.ec2.SecurityGroups(localNode1.NetworkInterfaceID); !slices.Equal(got, []string{localIso}) {
		t.Fatalf("groups after isolation %v", got)
	}
	if res.Isolation == nil || !res.Isolation.Changed || res.Isolation.Error != "" {
		t.Fatalf("isolation %+v", res.Isolation)
	}
	wantConfirmedSequence(t, res.Stop, 3)
	ops, _ := l.ops("")
	if m, s := slices.Index(ops, "ModifyNetworkInterfaceAttribute"), slices.Index(ops, "StopInstances"); m < 0 || s < m {
		t.Fatalf("call order %v: want isolation before the stop", ops)
	}
}

func TestFailedIsolationDoesNotBlockTheStop(t *testing.T) {
	l := newLocal(t, eventual(81))
	p := &truthProbe{l: l, id: localNode1.InstanceID}
	cfg := stopCfg()
	cfg.Mode, cfg.IsolationSecurityGroupID = cluster.FenceIsolateAndStop, "sg-0missing0000000000"
	res, err := fence.HardStop(testCtx(t), l.api, localNode1, cfg, p.probe, fast()...)
	if err != nil {
		t.Fatalf("HardStop: %v", err)
	}
	if res.Isolation == nil || res.Isolation.Changed || res.Isolation.Error == "" {
		t.Fatalf("isolation %+v: want the failure recorded", res.Isolation)
	}
	if got := l.ec2.SecurityGroups(localNode1.NetworkInterfaceID); !slices.Equal(got, []string{localSG}) {
		t.Fatalf("groups %v", got)
	}
	wantConfirmedSequence(t, res.Stop, 3)
}

func TestRefusedBeforeAnyCall(t *testing.T) {
	refuse := func(context.Context) error { return errors.New("refused") }
	cases := []struct {
		name  string
		cfg   cluster.Fence
		probe fence.Probe
		want  error
	}{
		{"isolate alone", cluster.Fence{Mode: "isolate", IsolationSecurityGroupID: localIso}, refuse, fence.ErrNotAFence},
		{"no probe", stopCfg(), nil, fence.ErrNoProbe},
		{"unknown mode", cluster.Fence{Mode: "pray"}, refuse, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLocal(t, ec2sim.Consistency{})
			_, err := fence.HardStop(testCtx(t), l.api, localNode1, c.cfg, c.probe, fast()...)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if ops, _ := l.ops(""); len(ops) != 0 {
				t.Fatalf("calls %v, want none", ops)
			}
		})
	}
}

// TestFenceProbesThePostgresAddress: Fence, the entry point the Fence step
// has always called, probes node.PostgresAddr. The fake server stops
// answering when the instance starts stopping, as the local stack's
// PostgreSQL does.
func TestFenceProbesThePostgresAddress(t *testing.T) {
	l := newLocal(t, eventual(91))
	pg := newFakePostgres(t)
	l.ec2.OnInstanceState(func(id, state string) {
		if id == localNode1.InstanceID && state == ec2sim.StateStopping {
			pg.shutdown()
		}
	})
	node := localNode1
	node.PostgresAddr = pg.addr()
	if err := fence.PostgresProbe(node.PostgresAddr)(testCtx(t)); err != nil {
		t.Fatalf("the old primary does not answer before the fence: %v", err)
	}
	res, err := fence.Fence(testCtx(t), l.api, node, stopCfg(), fast()...)
	if err != nil {
		t.Fatalf("Fence: %v", err)
	}
	wantConfirmedSequence(t, res.Stop, 3)
	wantHardStops(t, l, node.InstanceID)

	// Without an address there is nothing to probe: refused.
	node.PostgresAddr = ""
	if _, err := fence.Fence(testCtx(t), l.api, node, stopCfg(), fast()...); !errors.Is(err, fence.ErrNoProbe) {
		t.Fatalf("err = %v, want ErrNoProbe", err)
	}
}

func TestIsolateWaitsOutStaleReads(t *testing.T) {
	l := newLocal(t, eventual(101))
	res, err := fence.Isolate(testCtx(t), l.api, localNode1.NetworkInterfaceID, localIso,
		fast(fence.WithVerifyTimeout(5*time.Second))...)
	if err != nil || !slices.Equal(res.Groups, []string{localIso}) || !res.Changed {
		t.Fatalf("err %v, result %+v", err, res)
	}
	_, err = fence.Isolate(testCtx(t), l.api, "eni-0123456789abcdef0", localIso, fast(fence.WithVerifyTimeout(50*time.Millisecond))...)
	if err == nil {
		t.Fatal("isolating an interface EC2 does not know succeeded: NotFound is not isolation")
	}
}
