package failover

import "time"

// Actions a request may ask for.
const (
	ActionFailover   = "failover"
	ActionSwitchover = "switchover"
)

// Triggers that start an execution.
const (
	TriggerAlarm    = "alarm"     // CloudWatch alarm on the primary's heartbeat, via EventBridge
	TriggerFastPath = "fast-path" // the standby's own detector of primary loss
	TriggerManual   = "manual"    // a person, from the console or the CLI
)

// Request is the normalized input that Intake produces from any trigger.
type Request struct {
	Action      string    `json:"action"`
	Cluster     string    `json:"cluster"`
	Target      string    `json:"target,omitempty"` // node to promote; empty: the standby
	Force       bool      `json:"force"`
	Reason      string    `json:"reason"`
	Trigger     string    `json:"trigger"`
	Observer    string    `json:"observer,omitempty"` // who saw the loss (alarm name, node)
	RequestedAt time.Time `json:"requestedAt"`
}

// TriggerText says what started the execution, for the history: "alarm
// <name>", "fast-path <node>", "manual".
func (r Request) TriggerText() string {
	if r.Observer == "" || r.Trigger == TriggerManual {
		return r.Trigger
	}
	return r.Trigger + " " + r.Observer
}

// State is the document that flows through the state machine. Each step
// writes only its own field (the ASL ResultPath is the json tag).
type State struct {
	Execution  string      `json:"execution"` // $$.Execution.Id, set by the ASL
	Request    Request     `json:"request"`
	Lease      *Lease      `json:"lease,omitempty"`
	Assessment *Assessment `json:"assessment,omitempty"`
	Fence      *StepResult `json:"fence,omitempty"`
	Promote    *StepResult `json:"promote,omitempty"`
	Reroute    *StepResult `json:"reroute,omitempty"`
	Verify     *StepResult `json:"verify,omitempty"`
	Record     *StepResult `json:"record,omitempty"`
	Error      *StepError  `json:"error,omitempty"` // set by a Catch
	Report     *Report     `json:"report,omitempty"`
	Rearm      *StepResult `json:"rearm,omitempty"`
}

// Report is the failure report: what completed, what failed, and why.
type Report struct {
	Outcome    string   `json:"outcome"`
	FailedStep string   `json:"failedStep,omitempty"`
	Completed  []string `json:"completed"`
	Summary    string   `json:"summary"`
}

// Lease is what the lease step found or took.
type Lease struct {
	Acquired bool   `json:"acquired"`
	Holder   string `json:"holder"`
	Epoch    int64  `json:"epoch"`
	Primary  string `json:"primary"` // the primary the cluster record names
}

// Decisions Assess can reach.
const (
	DecisionProceed  = "proceed"
	DecisionNoAction = "no-failover-needed"
	DecisionRefuse   = "refuse"
)

// Assessment is Assess's read-only verdict and the evidence behind it.
type Assessment struct {
	Decision   string   `json:"decision"`
	Reason     string   `json:"reason"`
	OldPrimary string   `json:"oldPrimary"`
	NewPrimary string   `json:"newPrimary"`
	Evidence   []string `json:"evidence"`
	// LagBytes is how far the candidate's received WAL is behind the last
	// known primary position (-1 when unknown).
	LagBytes int64 `json:"lagBytes"`
	Forced   bool  `json:"forced"`
	// BytesAtRisk is the WAL the new primary is known to lack: its lag
	// behind the primary's last published position (writes after that are
	// not counted), or -1 when that position is missing or stale. A forced
	// failover's history records it for the audit.
	BytesAtRisk int64 `json:"bytesAtRisk"`
}

// StepResult is what a mutating step did.
type StepResult struct {
	Done       bool      `json:"done"`
	Summary    string    `json:"summary"`
	Details    []string  `json:"details,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMs int64     `json:"durationMs"`
}

// StepError is the Catch output of a failed step: {"Error": …, "Cause": …}.
type StepError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// CompletedSteps lists, in order, the mutating steps this execution finished.
func (s *State) CompletedSteps() []string {
	var out []string
	for _, st := range []struct {
		name string
		r    *StepResult
	}{{"fence", s.Fence}, {"promote", s.Promote}, {"reroute", s.Reroute}, {"verify", s.Verify}, {"record", s.Record}} {
		if st.r != nil && st.r.Done {
			out = append(out, st.name)
		}
	}
	return out
}

// StepMs gives how long each mutating step that ran took, in
// milliseconds, keyed by the step names CompletedSteps uses: the history
// entry's per-step timings. A step that failed has no result (its Catch
// writes Error instead) and so no timing.
func (s *State) StepMs() map[string]int64 {
	out := map[string]int64{}
	for name, r := range map[string]*StepResult{"fence": s.Fence, "promote": s.Promote, "reroute": s.Reroute, "verify": s.Verify, "record": s.Record} {
		if r != nil && !r.StartedAt.IsZero() {
			out[name] = r.DurationMs
		}
	}
	return out
}
