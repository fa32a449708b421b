package ec2sim_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// stateLog records the hook calls of a Service.
type stateLog struct {
	mu     sync.Mutex
	events []string
}

func (l *stateLog) record(id, state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, id+"="+state)
}

func (l *stateLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func TestStopAndStartLifecycle(t *testing.T) {
	h := newHarness(t)
	h.ec2.SetStopDelay(50 * time.Millisecond)
	h.ec2.SetStartDelay(50 * time.Millisecond)
	log := &stateLog{}
	h.ec2.OnInstanceState(log.record)

	stop := must[*ec2.StopInstancesOutput](t)(h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{
		InstanceIds: []string{refNode1}, Force: aws.Bool(true)}))
	if len(stop.StoppingInstances) != 1 {
		t.Fatalf("StopInstances returned %d changes", len(stop.StoppingInstances))
	}
	ch := stop.StoppingInstances[0]
	if aws.ToString(ch.InstanceId) != refNode1 || ch.PreviousState.Name != ec2types.InstanceStateNameRunning ||
		ch.CurrentState.Name != ec2types.InstanceStateNameStopping || aws.ToInt32(ch.CurrentState.Code) != 64 {
		t.Fatalf("stop change = %s: %s -> %s", aws.ToString(ch.InstanceId), ch.PreviousState.Name, ch.CurrentState.Name)
	}
	eventually(t, 5*time.Second, "node1 stopped", func() bool { return h.ec2.InstanceState(refNode1) == "stopped" })
	out := must[*ec2.DescribeInstancesOutput](t)(h.client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{refNode1}}))
	in := out.Reservations[0].Instances[0]
	if in.State.Name != ec2types.InstanceStateNameStopped || aws.ToInt32(in.State.Code) != 80 || in.StateReason == nil {
		t.Errorf("described stopped instance: state %+v reason %+v", in.State, in.StateReason)
	}
	if got := h.ec2.InstanceState(refNode2); got != "running" {
		t.Errorf("node2 is %s, want untouched running", got)
	}

	// Stopping a stopped instance succeeds and changes nothing.
	again := must[*ec2.StopInstancesOutput](t)(h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1}}))
	if c := again.StoppingInstances[0]; c.PreviousState.Name != ec2types.InstanceStateNameStopped || c.CurrentState.Name != ec2types.InstanceStateNameStopped {
		t.Errorf("second stop: %s -> %s", c.PreviousState.Name, c.CurrentState.Name)
	}

	start := must[*ec2.StartInstancesOutput](t)(h.client.StartInstances(ctx(t), &ec2.StartInstancesInput{InstanceIds: []string{refNode1}}))
	if c := start.StartingInstances[0]; c.PreviousState.Name != ec2types.InstanceStateNameStopped || c.CurrentState.Name != ec2types.InstanceStateNamePending {
		t.Errorf("start: %s -> %s", c.PreviousState.Name, c.CurrentState.Name)
	}
	eventually(t, 5*time.Second, "node1 running again", func() bool { return h.ec2.InstanceState(refNode1) == "running" })

	want := []string{refNode1 + "=stopping", refNode1 + "=stopped", refNode1 + "=pending", refNode1 + "=running"}
	eventually(t, 5*time.Second, "all hook calls", func() bool { return len(log.snapshot()) >= len(want) })
	if got := log.snapshot(); !slices.Equal(got, want) {
		t.Errorf("hook calls = %v, want %v", got, want)
	}
}

func TestIncorrectInstanceState(t *testing.T) {
	h := newHarness(t)
	h.ec2.SetStopDelay(time.Hour) // node1 stays "stopping" for the test
	h.ec2.SetStartDelay(time.Hour)
	_ = must[*ec2.StopInstancesOutput](t)(h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1}}))
	_, err := h.client.StartInstances(ctx(t), &ec2.StartInstancesInput{InstanceIds: []string{refNode1}})
	wantCode(t, err, "IncorrectInstanceState", 400)

	// Stopping a stopping instance is accepted.
	again := must[*ec2.StopInstancesOutput](t)(h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1}}))
	if c := again.StoppingInstances[0]; c.CurrentState.Name != ec2types.InstanceStateNameStopping {
		t.Errorf("stop while stopping: current %s", c.CurrentState.Name)
	}

	if err := h.ec2.SetInstanceState(refNode2, "stopped"); err != nil {
		t.Fatal(err)
	}
	_ = must[*ec2.StartInstancesOutput](t)(h.client.StartInstances(ctx(t), &ec2.StartInstancesInput{InstanceIds: []string{refNode2}}))
	_, err = h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode2}})
	wantCode(t, err, "IncorrectInstanceState", 400)

	// One bad instance fails the whole call: nothing changes.
	if err := h.ec2.SetInstanceState(refNode1, "running"); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1, refNode2}})
	wantCode(t, err, "IncorrectInstanceState", 400)
	if got := h.ec2.InstanceState(refNode1); got != "running" {
		t.Errorf("node1 is %s after a failed batch stop, want running", got)
	}
	_, err = h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1, "i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound", 400)
	_, err = h.client.StartInstances(ctx(t), &ec2.StartInstancesInput{InstanceIds: []string{"bogus"}})
	wantCode(t, err, "InvalidInstanceID.Malformed", 400)
	if got := h.ec2.InstanceState(refNode1); got != "running" {
		t.Errorf("node1 is %s after failed calls, want running", got)
	}
}

// SetInstanceState cancels a transition in flight: a crash while stopping
// must not be overwritten by the delayed "stopped".
func TestSetInstanceStateCancelsTransition(t *testing.T) {
	h := newHarness(t)
	h.ec2.SetStopDelay(20 * time.Millisecond)
	log := &stateLog{}
	h.ec2.OnInstanceState(log.record)
	_ = must[*ec2.StopInstancesOutput](t)(h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1}}))
	if err := h.ec2.SetInstanceState(refNode1, "terminated"); err != nil {
		t.Fatal(err)
	}
	// Let a stale timer fire if one were still armed: stop node2 with the
	// same delay and wait for it; node1's timer was armed earlier.
	_ = must[*ec2.StopInstancesOutput](t)(h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode2}}))
	eventually(t, 5*time.Second, "node2 stopped", func() bool { return h.ec2.InstanceState(refNode2) == "stopped" })
	if got := h.ec2.InstanceState(refNode1); got != "terminated" {
		t.Fatalf("node1 is %s, want terminated (the delayed stop must be cancelled)", got)
	}
	for _, ev := range log.snapshot() {
		if ev == refNode1+"=stopped" {
			t.Errorf("hook saw %s after the transition was cancelled", ev)
		}
	}
	if err := h.ec2.SetInstanceState(refNode1, "exploded"); err == nil {
		t.Error("SetInstanceState accepted an unknown state")
	}
	if err := h.ec2.SetInstanceState("i-0123456789abcdef0", "running"); err == nil {
		t.Error("SetInstanceState accepted an unknown instance")
	}
}

// A hook may call back into the service (the local stack does when it
// fences a node) without deadlocking, and its own change is delivered too.
func TestHookMayCallService(t *testing.T) {
	h := newHarness(t)
	h.ec2.SetStopDelay(0)
	log := &stateLog{}
	h.ec2.OnInstanceState(func(id, state string) {
		log.record(id, state)
		if id == refNode1 && state == "stopped" {
			_ = h.ec2.SetInstanceState(refNode2, "stopped")
		}
	})
	_ = must[*ec2.StopInstancesOutput](t)(h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1}}))
	want := []string{refNode1 + "=stopping", refNode1 + "=stopped", refNode2 + "=stopped"}
	eventually(t, 5*time.Second, "three hook calls", func() bool { return len(log.snapshot()) >= 3 })
	if got := log.snapshot(); !slices.Equal(got, want) {
		t.Errorf("hook calls = %v, want %v", got, want)
	}
}

func TestStopRecordsForceAndSkipOsShutdown(t *testing.T) {
	h := newHarness(t)
	h.ec2.SetStopDelay(time.Hour)
	log := &stateLog{}
	h.ec2.OnInstanceState(log.record)

	must[*ec2.StopInstancesOutput](t)(h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{
		InstanceIds: []string{refNode1}, Force: aws.Bool(true), SkipOsShutdown: aws.Bool(true)}))
	// No OS shutdown to wait for: the hooks hear "stopping" at once.
	eventually(t, 5*time.Second, "the stopping hook", func() bool {
		return slices.Contains(log.snapshot(), refNode1+"=stopping")
	})
	must[*ec2.StopInstancesOutput](t)(h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode1}}))

	reqs := h.ec2.StopRequests(refNode1)
	if len(reqs) != 2 {
		t.Fatalf("stop requests %+v, want 2", reqs)
	}
	if !reqs[0].Force || !reqs[0].SkipOsShutdown || reqs[0].PreviousState != "running" {
		t.Errorf("first stop %+v, want Force and SkipOsShutdown from running", reqs[0])
	}
	if reqs[1].Force || reqs[1].SkipOsShutdown || reqs[1].PreviousState != "stopping" {
		t.Errorf("second stop %+v, want a plain stop from stopping", reqs[1])
	}
	if h.ec2.StopRequests(refNode2) != nil || h.ec2.StopRequests("i-0123456789abcdef0") != nil {
		t.Error("stop requests recorded for instances nobody stopped")
	}

	_, err := h.client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{refNode2}, Hibernate: aws.Bool(true)})
	wantCode(t, err, "UnsupportedHibernationConfiguration", 400)
	if got := h.ec2.InstanceState(refNode2); got != "running" || h.ec2.StopRequests(refNode2) != nil {
		t.Errorf("a refused hibernation changed node2: %s, %+v", got, h.ec2.StopRequests(refNode2))
	}
}

// A state change is visible to readers before its hooks have run;
// WaitStateHooks returns only once they have.
func TestWaitStateHooksWaitsForDelivery(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	var heard sync.WaitGroup
	heard.Add(1)
	var delivered []string
	h.ec2.OnInstanceState(func(id, state string) {
		heard.Done()
		<-release // a slow hypervisor
		delivered = append(delivered, id+"="+state)
	})
	go func() { _ = h.ec2.SetInstanceState(refNode1, "stopped") }()
	heard.Wait() // the hook is running, the state already set
	if got := h.ec2.InstanceState(refNode1); got != "stopped" {
		t.Fatalf("state %s while its hook runs, want stopped", got)
	}
	done := make(chan struct{})
	go func() { h.ec2.WaitStateHooks(); close(done) }()
	select {
	case <-done:
		t.Fatal("WaitStateHooks returned while a hook was still running")
	case <-time.After(50 * time.Millisecond): // observation window
	}
	close(release)
	<-done
	if want := []string{refNode1 + "=stopped"}; !slices.Equal(delivered, want) {
		t.Errorf("delivered %v, want %v", delivered, want)
	}
}
