package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/localstack"
)

// Lambda crashes and timeouts in each step, and executions stopped after
// each step, on a stack where node1 has died. Each subtest is one row;
// they run in order on one stack (a case before the promotion leaves the
// cluster as it found it, which the next case relies on and asserts).

// stepFaults crashes or hangs the next invocation of chosen functions.
// A crash runs the real handler, then loses its answer (the runtime died
// after the work: the hardest case for idempotency); a hang never starts
// the work and never returns, until the Task's timeout fires.
type stepFaults struct {
	mu    sync.Mutex
	armed map[string]string // function → "crash" or "hang", for its next invocation
	hung  chan struct{}     // a hung invocation hands its Task timer the signal to fire
}

func newStepFaults() *stepFaults {
	return &stepFaults{armed: map[string]string{}, hung: make(chan struct{})}
}

// timeoutSleep is the stack's StateMachineTimeoutSleep: a Task's timer
// fires as soon as its invocation hangs (the time a real hang would wait
// out is not spent); the execution's own timeout runs in real time.
func (f *stepFaults) timeoutSleep(ctx context.Context, d time.Duration) error {
	if d >= 5*time.Minute {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-f.hung:
		return nil
	case <-time.After(d):
		return nil
	}
}

func (f *stepFaults) arm(function, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed[function] = mode
}

func (f *stepFaults) take(function string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	mode := f.armed[function]
	delete(f.armed, function)
	return mode
}

func (f *stepFaults) install(t *testing.T, s *localstack.Stack, functions ...string) {
	t.Helper()
	for _, fn := range functions {
		if err := s.InterceptTask(fn, func(ctx context.Context, in json.RawMessage, next asl.TaskFunc) (json.RawMessage, error) {
			switch f.take(fn) {
			case "crash":
				if _, err := next(ctx, in); err != nil {
					return nil, err
				}
				return nil, &asl.NamedError{Name: "Runtime.ExitError", Message: "Runtime exited with error: signal: killed"}
			case "hang":
				select {
				case f.hung <- struct{}{}:
				case <-ctx.Done():
				}
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return next(ctx, in)
		}); err != nil {
			t.Fatal(err)
		}
	}
}

var failoverFunctions = []string{"IntakeFunction", "LeaseFunction", "AssessFunction", "FenceFunction", "PromoteFunction",
	"RerouteFunction", "VerifyFunction", "RecordFunction"}

// startStepStack starts a stack with the cleanup rule, the step faults
// installed, and node1 crashed.
func startStepStack(t *testing.T) (*localstack.Stack, *stepFaults, []byte) {
	t.Helper()
	f := newStepFaults()
	s := startFaultStack(t, localstack.Options{StateMachineTimeoutSleep: f.timeoutSleep}, "Cleanup")
	f.install(t, s, failoverFunctions...)
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	return s, f, readEvent(t, s, "manual-failover.json")
}

// assertUntouched checks that a failed execution left nothing behind:
// node2 a standby, node1 recorded at epoch... no lock (the cleanup or the
// report released it), no handover.
func assertUntouched(t *testing.T, s *localstack.Stack) {
	t.Helper()
	waitFor(t, 30*time.Second, "the lock to be released and every execution to end", func() bool {
		return clusterRecord(t, s).Lock == nil && !anyRunning(s)
	})
	if !standbyInRecovery(t, s) {
		t.Fatal("node2 left recovery")
	}
	if rec := clusterRecord(t, s); rec.Primary != "node1" || rec.PrimaryLease.HandoverPending() {
		t.Errorf("record: primary %s, lease %+v; want node1, no handover", rec.Primary, rec.PrimaryLease)
	}
}

// failedWith runs one execution and requires it to fail; it returns the
// error name.
func failedWith(t *testing.T, s *localstack.Stack, name string, input []byte) string {
	t.Helper()
	arn := startExecution(t, s, name, input)
	status := waitExecution(t, s, arn)
	info, _ := s.SFN.Execution(arn)
	if status != "FAILED" {
		t.Fatalf("execution %s: %s, want FAILED", name, status)
	}
	t.Logf("%s: %s %s: %.300s", name, status, info.Error, info.Cause)
	return info.Error
}

// TestFaultStepsBeforePromotion: a crash or a timeout in
// each step up to Promote and executions stopped after Lease and Assess,
// each leaving the cluster untouched; last, Promote crashes after
// promoting and the cleanup's resume converges with one promotion.
func TestFaultStepsBeforePromotion(t *testing.T) {
	t.Parallel()
	s, f, manual := startStepStack(t)
	run := func(name string, fn func(t *testing.T) faultRow) {
		t.Run(name, func(t *testing.T) {
			m := startDualMonitor(t, s)
			row := fn(t)
			reportFault(t, m, row)
		})
	}
	untouched := func(name, function, mode, wantError string) {
		run(name, func(t *testing.T) faultRow {
			f.arm(function, mode)
			got := failedWith(t, s, strings.ReplaceAll(name, " ", "-"), manual)
			if wantError != "" && got != wantError {
				t.Errorf("error %q, want %q", got, wantError)
			}
			assertUntouched(t, s)
			return faultRow{Case: "Lambda " + name, Expected: "execution fails cleanly; nothing promoted; lock free",
				Observed: "FAILED " + got + "; node2 standby; lock free"}
		})
	}
	untouched("Intake crash", "IntakeFunction", "crash", "Runtime.ExitError")
	untouched("Lease crash after taking the lock", "LeaseFunction", "crash", "Runtime.ExitError")
	untouched("Lease timeout", "LeaseFunction", "hang", asl.StatesTimeout)
	untouched("Assess crash", "AssessFunction", "crash", "Runtime.ExitError")
	untouched("Assess timeout", "AssessFunction", "hang", asl.StatesTimeout)
	untouched("Fence timeout", "FenceFunction", "hang", asl.StatesTimeout)
	untouched("Fence crash after fencing", "FenceFunction", "crash", "Runtime.ExitError")
	untouched("Promote timeout", "PromoteFunction", "hang", asl.StatesTimeout)
	for _, step := range []struct{ after, heldAt string }{{"Lease", "AssessFunction"}, {"Assess", "FenceFunction"}} {
		run("stopped after "+step.after, func(t *testing.T) faultRow {
			h := holdStep(t, s, step.heldAt, false)
			arn := startExecution(t, s, "stopped-after-"+strings.ToLower(step.after), manual)
			<-h.reached
			stopExecution(t, s, arn)
			close(h.release)
			assertUntouched(t, s)
			return faultRow{Case: "execution stopped after " + step.after, Expected: "ABORTED; cleanup frees the lock; nothing promoted",
				Observed: "ABORTED; lock freed; node2 standby"}
		})
	}
	run("Promote crash after promoting", func(t *testing.T) faultRow {
		f.arm("PromoteFunction", "crash")
		got := failedWith(t, s, "promote-crash", manual)
		resume := waitResume(t, s)
		requireSucceeded(t, s, resume)
		assertOnePromotion(t, s)
		n, _ := executionsSoFar(s)
		return faultRow{Case: "Lambda Promote crash after pg_promote", Expected: "FAILED; cleanup resumes; exactly one promotion",
			Observed: "FAILED " + got + "; resume SUCCEEDED; timeline 2 (" + fmt.Sprint(strings.Count(n, "SUCCEEDED")) + " succeeded executions in all)"}
	})
}

// TestFaultStepsAfterPromotion: Reroute times out (after the grant and
// pg_promote), the cleanup's resume meets a Verify crash, the operator's
// next trigger meets a Record crash after committing: the cluster still
// ends with exactly one promotion.
func TestFaultStepsAfterPromotion(t *testing.T) {
	t.Parallel()
	s, f, manual := startStepStack(t)
	t.Run("Reroute timeout", func(t *testing.T) {
		m := startDualMonitor(t, s)
		f.arm("RerouteFunction", "hang")
		f.arm("VerifyFunction", "crash") // met by the resume
		got := failedWith(t, s, "reroute-timeout", manual)
		if got != asl.StatesTimeout {
			t.Errorf("error %q, want %s", got, asl.StatesTimeout)
		}
		resume := waitResume(t, s)
		if st := waitExecution(t, s, resume); st != "FAILED" {
			t.Fatalf("resume: %s, want FAILED at the Verify crash", st)
		}
		waitFor(t, 30*time.Second, "the lock to be free", func() bool { return clusterRecord(t, s).Lock == nil && !anyRunning(s) })
		if standbyInRecovery(t, s) {
			t.Fatal("node2 is not promoted after Promote ran")
		}
		reportFault(t, m, faultRow{Case: "Lambda Reroute timeout (after promotion)", Expected: "FAILED; handover pending; cleanup resumes once",
			Observed: "FAILED " + got + "; resume ran (and met the Verify crash)"})
	})
	t.Run("Verify crash then Record crash", func(t *testing.T) {
		m := startDualMonitor(t, s)
		f.arm("RecordFunction", "crash")
		got := failedWith(t, s, "record-crash", manual)
		waitFor(t, 30*time.Second, "the lock to be free", func() bool { return clusterRecord(t, s).Lock == nil && !anyRunning(s) })
		if rec := clusterRecord(t, s); rec.PrimaryLease.HandoverPending() {
			// The crash lost Record's answer, not its write: the next
			// trigger (or the cleanup) has nothing left but to finish.
			requireSucceeded(t, s, startExecution(t, s, "after-record-crash", manual))
		}
		assertOnePromotion(t, s)
		reportFault(t, m, faultRow{Case: "Lambda Verify crash, then Record crash after commit", Expected: "operator retry converges; exactly one promotion",
			Observed: "resume FAILED at Verify; retry FAILED " + got + " after Record's commit; node2 primary, timeline 2"})
	})
}

// TestFaultStoppedAfterLateSteps: an execution stopped after Reroute (held
// at Verify), then the cleanup's resume stopped after Verify (held at
// Record): the operator's trigger converges with one promotion.
func TestFaultStoppedAfterLateSteps(t *testing.T) {
	t.Parallel()
	s := startInterruptible(t, false)
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	manual := readEvent(t, s, "manual-failover.json")
	m := startDualMonitor(t, s)
	verify := holdStep(t, s, "VerifyFunction", false)
	first := startExecution(t, s, "stopped-after-reroute", manual)
	<-verify.reached
	record := holdStep(t, s, "RecordFunction", false)
	stopExecution(t, s, first)
	close(verify.release)
	resume := waitResume(t, s)
	<-record.reached
	stopExecution(t, s, resume)
	close(record.release)
	waitFor(t, 30*time.Second, "the lock to be free", func() bool { return clusterRecord(t, s).Lock == nil && !anyRunning(s) })
	if rec := clusterRecord(t, s); rec.PrimaryLease.HandoverPending() {
		requireSucceeded(t, s, startExecution(t, s, "operator-retry", manual))
	}
	rec := assertOnePromotion(t, s)
	reportFault(t, m, faultRow{Case: "execution stopped after Reroute, resume stopped after Verify", Expected: "converges to exactly one promotion",
		Observed: fmt.Sprintf("both ABORTED; node2 primary at epoch %d, timeline 2", rec.Epoch)})
}
