package failover

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// An execution timeout cannot be caught: a failover stopped by it sends no
// report, keeps the failover lock and leaves the alarm unarmed. So the
// slowest path the definition allows (every attempt at its TimeoutSeconds,
// every retry, every Catch) plus a margin for Step Functions' own transitions
// must fit the state machine's TimeoutSeconds.
func TestFailoverWorstCaseFitsTheExecutionTimeout(t *testing.T) {
	m := runMachine(t)
	b, err := m.WorstCase()
	if err != nil {
		t.Fatalf("%s: %v", aslFile, err)
	}
	margin := max(0.10*b.Seconds, 60)
	limit := float64(m.TimeoutSeconds())
	t.Logf("worst case %gs + margin %gs = %gs of TimeoutSeconds %gs; critical path:", b.Seconds, margin, b.Seconds+margin, limit)
	for _, s := range b.Path {
		t.Logf("  %v", s)
	}
	if limit == 0 || b.Seconds+margin > limit {
		t.Errorf("worst case %gs + margin %gs = %gs exceeds the execution's TimeoutSeconds %gs: shorten task timeouts or retries",
			b.Seconds, margin, b.Seconds+margin, limit)
	}
}

// A task timeout is never shorter than what its handler legitimately needs,
// with the sample cluster config: otherwise Step Functions cuts a step short
// with States.Timeout where the handler would have finished or returned its
// own named error.
func TestTaskTimeoutsCoverTheHandlersOwnDeadlines(t *testing.T) {
	cfg := sampleClusterConfig(t)
	data, err := os.ReadFile(aslFile)
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		States map[string]struct {
			TimeoutSeconds int `json:"TimeoutSeconds"`
		} `json:"States"`
	}
	if err := json.Unmarshal(data, &def); err != nil {
		t.Fatalf("%s: %v", aslFile, err)
	}
	const slack = 5 * time.Second // Lambda start, the record writes around the wait
	connect := cfg.ConnectTimeout()
	needs := map[string]time.Duration{
		// fence.Fence is bounded by StopTimeoutSeconds; the lease path by
		// one lease duration plus the failsafe hold and the clock margin.
		"Fence": max(time.Duration(cfg.Fence.StopTimeoutSeconds)*time.Second,
			cfg.LeaseDuration()+cfg.DetachedHold()+cfg.ClockMargin()) + slack,
		// A connection, then pg_promote waiting PromoteTimeoutSeconds.
		"Promote": connect + time.Duration(cfg.Promotion.PromoteTimeoutSeconds)*time.Second + slack,
		// Two probes of the old and new primary, 2 × connect timeout.
		"Assess": 2*connect + slack,
		// A write through the client endpoint, then a read on the node,
		// each bounded by 3 × connect timeout.
		"Verify": 2*3*connect + slack,
	}
	for name, need := range needs {
		got := time.Duration(def.States[name].TimeoutSeconds) * time.Second
		if got < need {
			t.Errorf("%s: TimeoutSeconds %s is shorter than the %s its handler may need", name, got, need)
		}
	}
}
