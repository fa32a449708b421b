package failover

import (
	"testing"
	"time"
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
		// Promote: never without a confirmed fence (invariant 1).
		{"promote without fence", func(d *Deps) any { return (&PromoteStep{d}).Handle },
			stateWith(DecisionProceed, nil), "FenceNotConfirmed", []string{"not confirmed fenced"}},
		{"promote with an unfinished fence", func(d *Deps) any { return (&PromoteStep{d}).Handle },
			stateWith(DecisionProceed, func(s *State) { s.Fence = notDone() }), "FenceNotConfirmed", []string{"not confirmed fenced"}},
		{"promote without fence even when later steps claim done", func(d *Deps) any { return (&PromoteStep{d}).Handle },
			stateWith(DecisionProceed, func(s *State) { s.Reroute, s.Verify = done("rerouted"), done("verified") }),
			"FenceNotConfirmed", []string{"not confirmed fenced"}},
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
// on a proceed decision does call EC2, and since it cannot confirm the
// fence it reports FenceNotConfirmed, not success.
func TestTripwireSeesTheCallsOfAStepThatProceeds(t *testing.T) {
	deps, wire := untouchableDeps(t, sampleClusterConfig(t))
	wire.expectCalls = true
	out, err := invoke((&FenceStep{deps}).Handle, mustJSON(t, stateWith(DecisionProceed, nil)))
	wantHandlerError[*FenceNotConfirmed](t, err, "FenceNotConfirmed", "node1", "i-0c460e6afa6d2ca4c")
	if out != nil {
		t.Errorf("an unconfirmed fence produced output %s", out)
	}
	calls := wire.Calls()
	if len(calls) == 0 {
		t.Fatal("the fence step made no EC2 call through the untouchable Deps: the guard tests would prove nothing")
	}
	for _, c := range calls {
		if len(c) < 4 || c[:4] != "EC2." {
			t.Errorf("fence called %s, want only EC2", c)
		}
	}
}
