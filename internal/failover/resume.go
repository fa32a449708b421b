package failover

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/internal/decide"
	"github.com/switchyard/switchyard/internal/reroute"
	"github.com/switchyard/switchyard/internal/store"
)

// DecisionResume: an earlier execution handed the primary role over
// (store.GrantPrimary) and ended before finishing. The old primary was
// fenced before that grant, so the state machine continues where it
// stopped: promote the granted node if it is still in recovery (its agent
// usually has already), reroute, verify, record. Nothing is fenced again
// and nothing else is promoted.
const DecisionResume = "resume"

// proceeds reports whether the assessment lets the mutating steps after
// the fence run.
func (a *Assessment) proceeds() bool {
	return a != nil && (a.Decision == DecisionProceed || a.Decision == DecisionResume)
}

// resumeAssessment decides on a pending handover, before any other rule:
// the record names the new primary already, so deciding afresh would
// treat it as the failed primary. ok is false when no handover is pending.
func resumeAssessment(rec store.Record, probes map[string]decide.Probe) (Assessment, bool) {
	l := rec.PrimaryLease
	if !l.HandoverPending() || l.Node != rec.Primary {
		return Assessment{}, false
	}
	a := Assessment{OldPrimary: l.GrantedFrom, NewPrimary: rec.Primary, LagBytes: -1, BytesAtRisk: -1,
		Evidence: []string{fmt.Sprintf("cluster record: execution %s made %s the primary at epoch %d (taken from %s) and did not record the failover",
			l.GrantedBy, rec.Primary, l.Term, l.GrantedFrom)}}
	p := probes[rec.Primary]
	switch {
	case !p.Reachable:
		a.Decision = DecisionRefuse
		a.Reason = fmt.Sprintf("an interrupted handover made %s the recorded primary, but %s does not answer (%s); %s was fenced for it, so no node may take writes until an operator acts: see `switchyard status`",
			rec.Primary, rec.Primary, orNone(p.Error), orUnknown(l.GrantedFrom))
	case p.InRecovery:
		a.Decision = DecisionResume
		a.Reason = fmt.Sprintf("resuming the handover to %s interrupted after the grant: promote it (still in recovery), reroute, verify, record", rec.Primary)
	default:
		a.Decision = DecisionResume
		a.Reason = fmt.Sprintf("resuming the handover to %s interrupted after the grant: it is promoted already; reroute, verify, record", rec.Primary)
	}
	a.Evidence = append(a.Evidence, fmt.Sprintf("direct probe of %s: reachable %t, in recovery %t", rec.Primary, p.Reachable, p.InRecovery))
	return a, true
}

// misroutedAssessment decides when no handover is pending but clients are
// routed away from a recorded primary that is writable under its lease
// (an execution ended between Promote's commit and the end of Reroute,
// or a hand edit): the clients are rerouted to it, without fencing or
// promoting anything. ok is false when every target that could be read
// points at the recorded primary.
func misroutedAssessment(rec store.Record, probes map[string]decide.Probe, where []reroute.Pointing) (Assessment, bool) {
	l := rec.PrimaryLease
	p := probes[rec.Primary]
	if rec.Primary == "" || l == nil || l.Node != rec.Primary || l.Revoked() || !p.Reachable || p.InRecovery {
		return Assessment{}, false
	}
	var wrong []string
	from := ""
	for _, w := range where {
		if w.Error == "" && w.Node != rec.Primary {
			wrong = append(wrong, w.String())
			if w.Node != "" {
				from = w.Node
			}
		}
	}
	if len(wrong) == 0 {
		return Assessment{}, false
	}
	return Assessment{Decision: DecisionResume, OldPrimary: from, NewPrimary: rec.Primary, LagBytes: -1, BytesAtRisk: -1,
		Reason: fmt.Sprintf("recorded primary %s is writable under its lease but clients are routed elsewhere (%s): reroute, verify, record; nothing is fenced or promoted",
			rec.Primary, strings.Join(wrong, "; ")),
		Evidence: append([]string{fmt.Sprintf("direct probe of %s: writable", rec.Primary)}, wrong...)}, true
}

func orNone(s string) string {
	if s == "" {
		return "no error recorded"
	}
	return s
}
