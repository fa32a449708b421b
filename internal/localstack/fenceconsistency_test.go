package localstack_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
	"github.com/switchyard/switchyard/internal/localstack"
)

// TestFenceUnderEventualConsistency breaks invariant 1 through EC2's
// eventual consistency: node1 dies, and while the failover fences it
// EC2's Describe answers lag by up to 4 s and, for an instance changed
// that recently, most of them spuriously say InvalidInstanceID.NotFound (a
// fence that took NotFound for "terminated" would promote at once, while
// the instance still runs). No promotion may happen before node1's
// instance is really stopped (the emulator's true state, not what
// Describe says) or its primary lease has expired plus the clock margin.
func TestFenceUnderEventualConsistency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startStack(t, localstack.Options{})
	m := startDualMonitor(t, s)
	node1 := s.Nodes["node1"]
	if err := s.Crash("node1"); err != nil { // its agent dies with it: no renewal after this
		t.Fatal(err)
	}
	rec := clusterRecord(t, s)
	if rec.PrimaryLease == nil || rec.PrimaryLease.Node != "node1" {
		t.Fatalf("record: %+v", rec)
	}
	leaseFence := s.Config.EarliestPromotion(rec.PrimaryLease.Expires)
	if err := s.EC2.SetConsistency(ec2sim.Consistency{StaleFor: 4 * time.Second, SpuriousNotFound: 0.8, Seed: 7}); err != nil {
		t.Fatal(err)
	}

	// The truth, polled: the first time the emulator's own state says
	// node1's instance is stopped (no earlier than the real stop).
	var mu sync.Mutex
	var stoppedSeen time.Time
	pollCtx, stopPolling := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for pollCtx.Err() == nil {
			if s.EC2.InstanceState(node1.Instance.ID) == "stopped" {
				mu.Lock()
				stoppedSeen = time.Now()
				mu.Unlock()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	arn := startExecution(t, s, "fence-consistency", readEvent(t, s, "manual-failover.json"))
	out := requireSucceeded(t, s, arn)
	// pg_promote runs only after the Promote step's grant in the record, so
	// the grant call's arrival is a lower bound of the promotion.
	promotedNoEarlier := grantCallTime(t, s)
	waitFor(t, 30*time.Second, "node1's instance to be stopped", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !stoppedSeen.IsZero()
	})
	stopPolling()
	<-polled
	if standbyInRecovery(t, s) {
		t.Fatal("the failover succeeded but node2 is still in recovery")
	}

	notFound, describes := 0, 0
	for _, c := range s.Server.Calls() {
		if c.AccessKeyID == "FenceFunction" && c.Service == "ec2" && (c.Operation == "DescribeInstances" || c.Operation == "DescribeInstanceStatus") {
			describes++
			if c.ErrorCode == "InvalidInstanceID.NotFound" {
				notFound++
			}
		}
	}
	if out.Fence != nil {
		t.Logf("fence: %s", out.Fence.Summary)
	}
	t.Logf("the Fence step made %d Describe calls, %d answered InvalidInstanceID.NotFound", describes, notFound)
	t.Logf("node1's instance really stopped by %s; lease fence from %s; promotion no earlier than %s",
		stoppedSeen.Format(time.RFC3339Nano), leaseFence.Format(time.RFC3339Nano), promotedNoEarlier.Format(time.RFC3339Nano))
	if !promotedNoEarlier.After(stoppedSeen) && !promotedNoEarlier.After(leaseFence) {
		t.Errorf("node2 may have been promoted at %s, before node1's instance was seen stopped (%s) and before its lease expired plus margin (%s)",
			promotedNoEarlier.Format(time.RFC3339Nano), stoppedSeen.Format(time.RFC3339Nano), leaseFence.Format(time.RFC3339Nano))
	}
	if st := s.EC2.InstanceState(node1.Instance.ID); st != "stopping" && st != "stopped" {
		t.Errorf("node1's instance is %s, want stopping or stopped", st)
	}
	reportFault(t, m, faultRow{Case: "EC2 eventually consistent during Fence (stale, spurious NotFound)", Expected: "no promotion before node1 is really stopped or its lease expired",
		Observed: fmt.Sprintf("%d of %d Describe calls NotFound; promotion after the real stop", notFound, describes)})
}
