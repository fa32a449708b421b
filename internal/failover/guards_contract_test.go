package failover

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
)

// The mutating steps refuse, through the Lambda JSON contract, a State that
// lacks what must have happened before them, and they refuse before any AWS
// or database call: every client in their Deps is a tripwire.

var stepStart = time.Date(2026, 3, 14, 9, 26, 0, 0, time.UTC)

func done(summary string) *StepResult {
	return &StepResult{Done: true, Summary: summary, StartedAt: stepStart, DurationMs: 1200}
}

func notDone() *StepResult {
	return &StepResult{Done: false, Summary: "interrupted", StartedAt: stepStart}
}

// stateWith is the State of an execution that got as far as an assessment
// with the given decision, node1 → node2; edit adds or removes the rest.
func stateWith(decision string, edit func(s *State)) State {
	s := State{
		Execution: testExecARN,
		Request: Request{Action: ActionFailover, Cluster: demoCluster, Trigger: TriggerAlarm, Observer: demoAlarm,
			Reason: "alarm: heartbeat lost", RequestedAt: stepStart.Add(-time.Minute)},
		Lease: &Lease{Acquired: true, Holder: testExecARN, Epoch: 7, Primary: "node1"},
		Assessment: &Assessment{Decision: decision, Reason: "test", OldPrimary: "node1", NewPrimary: "node2",
			Evidence: []string{"test"}, LagBytes: 0},
	}
	if edit != nil {
		edit(&s)
	}
	return s
}

func TestMutatingStepsRefuseWithoutPrerequisites(t *testing.T) {
	cases := []struct {
		name     string
		step     func(d *Deps) any // the handler function
		state    State
		wantType string
		mentions []string
	}{
		// Promote: never on a refused assessment (the fence itself is
		// checked in the record: TestPromoteChecksTheFenceInTheRecord).
		{"promote after a fence on a refused assessment", func(d *Deps) any { return (&PromoteStep{d}).Handle },
			stateWith(DecisionRefuse, func(s *State) { s.Fence = done("node1 fenced (stop)") }), "StepFailed", []string{"promote", "did not decide to proceed"}},

		// Fence: only on a decision to proceed.
		{"fence on refuse", func(d *Deps) any { return (&FenceStep{d}).Handle },
			stateWith(DecisionRefuse, nil), "StepFailed", []string{"fence", "did not decide to proceed"}},
		{"fence on no failover needed", func(d *Deps) any { return (&FenceStep{d}).Handle },
			stateWith(DecisionNoAction, nil), "StepFailed", []string{"fence", "did not decide to proceed"}},
		{"fence on an unknown decision", func(d *Deps) any { return (&FenceStep{d}).Handle },
			stateWith("Proceed", nil), "StepFailed", []string{"fence", "did not decide to proceed"}},
		{"fence without assessment", func(d *Deps) any { return (&FenceStep{d}).Handle },
			stateWith(DecisionProceed, func(s *State) { s.Assessment = nil }), "StepFailed", []string{"fence", "did not decide to proceed"}},

		// Reroute: only once the new primary is promoted.
		{"reroute without promote", func(d *Deps) any { return (&RerouteStep{d}).Handle },
			stateWith(DecisionProceed, func(s *State) { s.Fence = done("node1 fenced (stop)") }), "StepFailed", []string{"reroute", "not promoted"}},
		{"reroute with an unfinished promote", func(d *Deps) any { return (&RerouteStep{d}).Handle },
			stateWith(DecisionProceed, func(s *State) { s.Fence, s.Promote = done("node1 fenced (stop)"), notDone() }), "StepFailed", []string{"reroute", "not promoted"}},

		// Record: a new primary only once verified.
		{"record a proceed decision without verify", func(d *Deps) any { return (&RecordStep{d}).Handle },
			stateWith(DecisionProceed, func(s *State) {
				s.Fence, s.Promote, s.Reroute = done("node1 fenced (stop)"), done("node2 promoted"), done("clients routed to node2")
			}), "StepFailed", []string{"record", "not verified"}},
		{"record a proceed decision with an unfinished verify", func(d *Deps) any { return (&RecordStep{d}).Handle },
			stateWith(DecisionProceed, func(s *State) {
				s.Fence, s.Promote, s.Reroute, s.Verify = done("node1 fenced (stop)"), done("node2 promoted"), done("clients routed to node2"), notDone()
			}), "StepFailed", []string{"record", "not verified"}},
		{"record without assessment", func(d *Deps) any { return (&RecordStep{d}).Handle },
			stateWith(DecisionProceed, func(s *State) { s.Assessment = nil }), "StepFailed", []string{"record", "no assessment"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			deps, wire := untouchableDeps(t, sampleClusterConfig(t))
			out, err := invoke(tc.step(deps), mustJSON(t, tc.state))
			switch tc.wantType {
			case "FenceNotConfirmed":
				wantHandlerError[*FenceNotConfirmed](t, err, tc.wantType, tc.mentions...)
			case "StepFailed":
				wantHandlerError[*StepFailed](t, err, tc.wantType, tc.mentions...)
			default:
				t.Fatalf("test case wants unknown type %s", tc.wantType)
			}
			if out != nil {
				t.Errorf("a refusal still produced output %s", out)
			}
			if calls := wire.Calls(); len(calls) > 0 {
				t.Errorf("AWS calls made before refusing: %v", calls)
			}
		})
	}
}

// The tripwire is only proof if the steps really use these Deps: a fence
// on a proceed decision revokes the lease in the record and then does call
// EC2 (and Secrets Manager, to probe the candidate); since it cannot confirm
// the fence it reports FenceNotConfirmed, not success.
func TestTripwireSeesTheCallsOfAStepThatProceeds(t *testing.T) {
	deps, wire := untouchableDeps(t, sampleClusterConfig(t))
	wire.expectCalls = true
	epoch := lockedRecord(t, deps, deps.now().Add(5*time.Second))
	out, err := invoke((&FenceStep{deps}).Handle, mustJSON(t, stateWith(DecisionProceed, func(s *State) { s.Lease.Epoch = epoch })))
	wantHandlerError[*FenceNotConfirmed](t, err, "FenceNotConfirmed", "node1", "i-0c460e6afa6d2ca4c")
	if out != nil {
		t.Errorf("an unconfirmed fence produced output %s", out)
	}
	calls := wire.Calls()
	sawEC2 := false
	for _, c := range calls {
		switch {
		case strings.HasPrefix(c, "EC2."):
			sawEC2 = true
		case strings.HasPrefix(c, "SecretsManager."):
		default:
			t.Errorf("fence called %s, want only EC2 and Secrets Manager (besides the record)", c)
		}
	}
	if !sawEC2 {
		t.Fatal("the fence step made no EC2 call through the untouchable Deps: the guard tests would prove nothing")
	}
	rec, err := deps.Store.Get(context.Background(), deps.Config.Name)
	if err != nil || !rec.PrimaryLease.Revoked() {
		t.Errorf("fence did not revoke the primary lease first: %+v (%v)", rec.PrimaryLease, err)
	}
}

// lockedRecord gives deps a real cluster record (in the DynamoDB emulator):
// node1 primary with a lease until leaseUntil, the failover lock held by
// testExecARN. It returns the lock's epoch.
func lockedRecord(t *testing.T, deps *Deps, leaseUntil time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	deps.Store = recordStore(t, deps.Config.Table)
	if _, err := deps.Store.Init(ctx, deps.Config.Name, "node1"); err != nil {
		t.Fatal(err)
	}
	now := deps.now()
	if _, err := deps.Store.RenewPrimaryLease(ctx, deps.Config.Name, store.Renewal{Node: "node1", Now: leaseUntil.Add(-deps.Config.LeaseDuration()), Duration: deps.Config.LeaseDuration(), LSN: 1}); err != nil {
		t.Fatal(err)
	}
	rec, err := deps.Store.AcquireLock(ctx, deps.Config.Name, testExecARN, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Epoch
}

// Promote checks the fence itself, in the record, not a flag in its input:
// it refuses (FenceNotConfirmed, nothing else touched, the record still
// naming node1) while the old primary's lease is not revoked by this
// execution, or revoked but not expired plus the clock margin; and it goes
// ahead once it has expired, whatever the input claims about the fence.
func TestPromoteChecksTheFenceInTheRecord(t *testing.T) {
	for _, tc := range []struct {
		name     string
		revoke   bool
		leaseFor time.Duration // from deps.now()
		claims   func(s *State)
		want     string // "" = goes ahead
	}{
		{"lease not revoked, input claims a fence", false, time.Hour, func(s *State) { s.Fence = done("fenced") }, "not revoked by this execution"},
		{"revoked, not expired", true, 5 * time.Second, nil, "clock margin"},
		{"revoked, expired within the clock margin", true, -100 * time.Millisecond, nil, "clock margin"},
		{"revoked and expired, but the candidate never detached", true, -5 * time.Second, nil, "has not recorded detaching"},
		{"revoked, expired, detached too recently", true, -5 * time.Second, func(s *State) { s.Request.Reason = "detach-now" }, "failsafe primary may stay writable"},
		{"revoked, expired, detached long enough ago, no fence in the input", true, -5 * time.Second, func(s *State) { s.Request.Reason = "detach-early" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deps, wire := untouchableDeps(t, sampleClusterConfig(t))
			epoch := lockedRecord(t, deps, deps.now().Add(tc.leaseFor))
			if tc.revoke {
				if _, err := deps.Store.RevokePrimaryLease(context.Background(), deps.Config.Name, testExecARN, epoch, deps.now()); err != nil {
					t.Fatal(err)
				}
			}
			st := stateWith(DecisionProceed, func(s *State) { s.Lease.Epoch = epoch; s.Assessment.Forced = true })
			if tc.claims != nil {
				tc.claims(&st)
			}
			// The candidate's agent detaches from the revoked primary (the
			// test's way of saying when: the request's reason).
			switch st.Request.Reason {
			case "detach-now":
				if _, err := deps.Store.RecordDetached(context.Background(), deps.Config.Name, "node2", deps.now()); err != nil {
					t.Fatal(err)
				}
			case "detach-early":
				at := deps.now().Add(-deps.Config.DetachedHold() - deps.Config.ClockMargin())
				if _, err := deps.Store.RecordDetached(context.Background(), deps.Config.Name, "node2", at); err != nil {
					t.Fatal(err)
				}
			}
			if tc.want == "" {
				wire.expectCalls = true
			}
			_, err := invoke((&PromoteStep{deps}).Handle, mustJSON(t, st))
			rec, gerr := deps.Store.Get(context.Background(), deps.Config.Name)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tc.want != "" {
				wantHandlerError[*FenceNotConfirmed](t, err, "FenceNotConfirmed", tc.want)
				if rec.Primary != "node1" || len(wire.Calls()) > 0 {
					t.Errorf("a refused promotion changed something: primary %s, calls %v", rec.Primary, wire.Calls())
				}
				return
			}
			if rec.Primary != "node2" || rec.PrimaryLease.Node != "node2" {
				t.Errorf("after an expired, revoked lease the record names %s (lease %+v), want node2 granted before pg_promote", rec.Primary, rec.PrimaryLease)
			}
			if len(wire.Calls()) == 0 {
				t.Error("promote went ahead without trying to reach node2")
			}
		})
	}
}
