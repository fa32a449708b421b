package failover

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/decide"
	"github.com/switchyard/switchyard/internal/store"
)

// The ASL's Decision state and the steps match the contract strings; decide
// names the same decisions as a typed enum.
func TestDecideSpellsTheContractDecisions(t *testing.T) {
	for d, want := range map[decide.Decision]string{decide.Proceed: DecisionProceed, decide.NoAction: DecisionNoAction, decide.Refuse: DecisionRefuse} {
		if got := assessment(decide.Verdict{Decision: d}).Decision; got != want {
			t.Errorf("assessment of %v has decision %q, want %q", d, got, want)
		}
	}
}

func TestAssessmentCarriesBytesAtRisk(t *testing.T) {
	a := assessment(decide.Verdict{Decision: decide.Proceed, Forced: true, LagBytes: 349496, BytesAtRisk: 349496, Evidence: []string{"fresh-data gate: x"}})
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"decision":"proceed"`, `"forced":true`, `"bytesAtRisk":349496`, `"lagBytes":349496`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}

// The record's primary lease and standby eligibility reach the gate as they
// are; a revoked lease or a primary that changed under the lock is noted.
func TestRecordEvidence(t *testing.T) {
	renewed := time.Date(2026, 3, 14, 9, 26, 19, 0, time.UTC)
	rec := store.Record{
		Primary: "node1",
		PrimaryLease: &store.PrimaryLease{Node: "node1", Term: 3, Renewed: renewed, Expires: renewed.Add(8 * time.Second),
			LSN: 5000, SyncStandby: "node2", RevokedBy: "exec-1", RevokedAt: renewed.Add(30 * time.Second)},
		Standby: &store.StandbyState{Node: "node2", Eligible: false, Reason: "degraded", Changed: renewed},
	}
	obs := decide.Observation{RecordPrimary: "node1"}
	notes := recordEvidence(&obs, rec)
	wantLease := decide.PrimaryLease{Node: "node1", LSN: 5000, Renewed: renewed, Expires: renewed.Add(8 * time.Second), SyncStandby: "node2"}
	if obs.Lease == nil || *obs.Lease != wantLease {
		t.Errorf("lease = %+v, want %+v", obs.Lease, wantLease)
	}
	wantStandby := decide.StandbyState{Node: "node2", Eligible: false, Reason: "degraded", Changed: renewed}
	if obs.Standby == nil || *obs.Standby != wantStandby {
		t.Errorf("standby = %+v, want %+v", obs.Standby, wantStandby)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "revoked by exec-1") {
		t.Errorf("notes = %q, want the revocation", notes)
	}

	obs = decide.Observation{RecordPrimary: "node2"}
	notes = recordEvidence(&obs, store.Record{Primary: "node1"})
	if obs.Lease != nil || obs.Standby != nil {
		t.Errorf("a record without lease or standby gave %+v, %+v", obs.Lease, obs.Standby)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `names primary "node1" now`) {
		t.Errorf("notes = %q, want the changed primary", notes)
	}
}
