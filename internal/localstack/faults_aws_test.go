package localstack_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localstack"
)

// mutatingSteps are the functions whose AWS calls change something.
var mutatingSteps = []string{"FenceFunction", "PromoteFunction", "RerouteFunction", "RecordFunction"}

// awsFault is one kind of AWS trouble, as faults for each service a
// mutating step calls.
type awsFault struct {
	name   string
	faults func(caller string) []localaws.Fault
}

// throttled and failing calls: more in a row than the SDK's three
// attempts, so the handler sees the error at least once.
var awsFaults = []awsFault{
	{"throttling", func(caller string) []localaws.Fault {
		return []localaws.Fault{
			{Service: "ec2", AccessKeyID: caller, FailNext: 4, Error: localaws.Errorf(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")},
			{Service: "dynamodb", AccessKeyID: caller, FailNext: 4, Error: localaws.Errorf(http.StatusBadRequest, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")},
			{Service: "route53", AccessKeyID: caller, FailNext: 4, Error: localaws.Errorf(http.StatusBadRequest, "Throttling", "Rate exceeded")},
			{Service: "secretsmanager", AccessKeyID: caller, FailNext: 4, Error: localaws.Errorf(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")},
		}
	}},
	{"5xx", func(caller string) []localaws.Fault {
		return []localaws.Fault{
			{Service: "ec2", AccessKeyID: caller, FailNext: 4, Error: localaws.Errorf(http.StatusServiceUnavailable, "Unavailable", "The server is overloaded and can't handle the request.")},
			{Service: "dynamodb", AccessKeyID: caller, FailNext: 4},
			{Service: "route53", AccessKeyID: caller, FailNext: 4},
			{Service: "secretsmanager", AccessKeyID: caller, FailNext: 4},
		}
	}},
	{"latency", func(caller string) []localaws.Fault {
		return []localaws.Fault{{AccessKeyID: caller, Latency: 700 * time.Millisecond}}
	}},
}

// TestFaultAWSDuringMutatingSteps: node1 dies and the failover runs while
// every call of Fence, Promote, Reroute and Record is throttled, fails
// with 5xx, or is slow. It must converge with exactly one promotion, or
// fail cleanly without promoting (lock released) so that the next trigger
// converges.
func TestFaultAWSDuringMutatingSteps(t *testing.T) {
	t.Parallel()
	for _, kind := range awsFaults {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			s := startFaultStack(t, localstack.Options{}, "Cleanup")
			if err := s.PrepareWriterTable(t.Context()); err != nil {
				t.Fatal(err)
			}
			m := startDualMonitor(t, s)
			w := s.StartWriter(s.ClientOverlay.Addr(), 50*time.Millisecond)
			ackedSince(t, w, 0, 20, 30*time.Second, "the first writes")
			var ids []int
			for _, caller := range mutatingSteps {
				for _, f := range kind.faults(caller) {
					ids = append(ids, s.Server.Faults().Add(f))
				}
			}
			if err := s.Crash("node1"); err != nil {
				t.Fatal(err)
			}
			manual := readEvent(t, s, "manual-failover.json")
			first := startExecution(t, s, "under-"+kind.name, manual)
			status := waitExecution(t, s, first)
			info, _ := s.SFN.Execution(first)
			observed := "first execution " + status
			if status != "SUCCEEDED" {
				observed += " " + info.Error
				t.Logf("first execution: %s %s: %s", status, info.Error, info.Cause)
				// Either the cleanup finishes a granted handover, or
				// nothing was promoted and the lock is free again.
				waitFor(t, 60*time.Second, "the cluster to settle after the failed execution", func() bool {
					rec := clusterRecord(t, s)
					return rec.Lock == nil && !rec.PrimaryLease.HandoverPending() && !anyRunning(s)
				})
				if rec := clusterRecord(t, s); rec.Primary != "node2" {
					if !standbyInRecovery(t, s) {
						t.Fatal("the failed execution promoted node2 without recording it")
					}
					for _, id := range ids {
						s.Server.Faults().Remove(id)
					}
					requireSucceeded(t, s, startExecution(t, s, "retry-"+kind.name, manual))
					observed += ", nothing promoted; retry SUCCEEDED"
				} else {
					observed += ", handover finished by the cleanup"
				}
			}
			hit := 0
			for _, c := range s.Server.Calls() {
				for _, caller := range mutatingSteps {
					if c.AccessKeyID == caller && (c.ErrorCode != "" || kind.name == "latency") {
						hit++
					}
				}
			}
			if hit == 0 {
				t.Fatal("no call of a mutating step met the fault: the case exercised nothing")
			}
			assertOnePromotion(t, s)
			ackedSince(t, w, len(w.Stats().Acked), 10, 30*time.Second, "writes on node2 through the overlay IP")
			acked, lost := writerOutcome(t, s, w, "node2")
			if *lost != 0 {
				t.Errorf("%d acknowledged writes lost under synchronous replication", *lost)
			}
			reportFault(t, m, faultRow{Case: "AWS " + kind.name + " on Fence/Promote/Reroute/Record calls",
				Expected: "one promotion, or clean failure then one promotion on retry",
				Observed: fmt.Sprintf("%s; %d faulted calls; timeline 2", observed, hit), Acked: acked, Lost: lost})
		})
	}
}

// quiesce stops triggers from starting executions (it removes every
// EventBridge rule) and waits for the running ones to end: an alarm can
// start another execution while a test reads what the first one left
// (the re-armed alarm of a false alarm fires again at once when its
// missing data still breaches; a second alarm of one incident fires late).
func quiesce(t *testing.T, s *localstack.Stack) {
	t.Helper()
	for _, r := range s.Bus.Rules() {
		s.Bus.RemoveRule(r)
	}
	waitFor(t, 2*time.Minute, "running executions to end", func() bool { return !anyRunning(s) })
}

func anyRunning(s *localstack.Stack) bool {
	for _, e := range s.SFN.Executions(s.StateMachineARN) {
		if e.Status == "RUNNING" {
			return true
		}
	}
	return false
}
