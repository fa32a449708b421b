package localstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/store"
)

// TestBrokenMonitoringPathDoesNotFailOver breaks invariant 2 on purpose:
// node1's probe loses its path to CloudWatch (as with a NAT gateway down),
// so its heartbeats stop and the alarm fires although PostgreSQL is fine.
// The execution must find the primary healthy from inside the VPC, change
// nothing, and re-arm the alarm.
func TestBrokenMonitoringPathDoesNotFailOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := localstack.Start(ctx, localstack.Options{Logf: t.Logf,
		StateMachineSleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WaitSteady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	m := prepareWriting(t, s)
	w := s.StartWriter(s.ClientOverlay.Addr(), 50*time.Millisecond)
	defer w.Stop()
	s.Server.Faults().Add(localaws.Fault{Service: "monitoring", AccessKeyID: "probe-node1", Partition: true})

	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var finished []string
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for len(finished) == 0 {
		select {
		case <-wctx.Done():
			t.Fatal("no execution finished within 3 minutes of the monitoring path breaking")
		case <-tick.C:
		}
		for _, e := range s.SFN.Executions(s.StateMachineARN) {
			if e.Status == "RUNNING" {
				continue
			}
			finished = append(finished, e.ARN)
			if e.Status != "SUCCEEDED" {
				t.Fatalf("execution %s: %s %s", e.Status, e.Error, e.Cause)
			}
		}
	}
	// The re-armed alarm fires again while node1's heartbeats stay cut off
	// (the test's Wait states take no time), and each new execution takes
	// the lock: stop the triggers and let the executions end before
	// reading what they left.
	quiesce(t, s)
	for _, e := range s.SFN.Executions(s.StateMachineARN) {
		if e.Status != "SUCCEEDED" {
			t.Errorf("execution %s: %s %s %s", e.Name, e.Status, e.Error, e.Cause)
		}
	}
	node1 := s.Nodes["node1"]
	if st := s.EC2.InstanceState(node1.Instance.ID); st != "running" {
		t.Errorf("node1's instance is %s: a false alarm fenced the healthy primary", st)
	}
	if n, err := s.RoutedNode(); err != nil || n != "node1" {
		t.Errorf("overlay routed to %s (%v), want node1", n, err)
	}
	rec, err := store.New(s.Client("test").DynamoDB, s.Config.Table).Get(ctx, s.Config.Name)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Primary != "node1" || rec.Lock != nil || len(rec.History) == 0 || rec.History[len(rec.History)-1].Outcome != store.OutcomeNotNeeded {
		t.Errorf("record: primary %s, lease %+v, history %+v; want node1, no lease, last outcome %s", rec.Primary, rec.Lock, rec.History, store.OutcomeNotNeeded)
	}
	rearmed := false
	for _, c := range s.Server.Calls() {
		if c.AccessKeyID == "RearmFunction" && c.Operation == "SetAlarmState" && c.ErrorCode == "" {
			rearmed = true
		}
		if c.Service == "ec2" && (c.Operation == "StopInstances" || c.Operation == "ReplaceRoute" || c.Operation == "ModifyNetworkInterfaceAttribute") {
			t.Errorf("%s called %s during a false alarm", c.AccessKeyID, c.Operation)
		}
	}
	if !rearmed {
		t.Error("the alarm was not re-armed after the false alarm")
	}
	assertCallsAllowed(t, s)
	if st := w.Stop(); st.Outage > 0 {
		t.Errorf("clients saw a %s write outage during a false alarm", st.Outage)
	}
	acked, lost := writerOutcome(t, s, w, "node1")
	reportFault(t, m, faultRow{Case: "primary cut off from CloudWatch only (false alarm)", Expected: "alarm fires; no failover needed; re-armed; no outage",
		Observed: "execution SUCCEEDED not-needed; node1 routed; alarm re-armed", Acked: acked, Lost: lost})
}
