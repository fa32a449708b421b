package failover

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/internal/store"
)

// ReportStep is the end of every unsuccessful path after the lease: it
// releases the lease, appends a history entry saying which steps completed
// and why the run stopped, and returns a report whose summary becomes the
// execution's failure cause.
type ReportStep struct{ *Deps }

// Handle is the Lambda handler.
func (h *ReportStep) Handle(ctx context.Context, s State) (Report, error) {
	log := h.logger("report", s)
	r := Report{Completed: append([]string{"lease"}, s.CompletedSteps()...)}
	from, to := "", ""
	if a := s.Assessment; a != nil {
		r.Completed = append([]string{"lease", "assess"}, s.CompletedSteps()...)
		from, to = a.OldPrimary, a.NewPrimary
	}
	cause := ""
	if s.Error != nil {
		cause = s.Error.Error + ": " + s.Error.Cause
	}
	switch {
	case s.Assessment != nil && s.Assessment.Decision == DecisionRefuse && s.Error == nil:
		r.Outcome = store.OutcomeRefused
		r.Summary = fmt.Sprintf("cluster %s: failover refused, nothing was changed: %s", h.Config.Name, s.Assessment.Reason)
	default:
		r.Outcome = store.OutcomeFailed
		r.FailedStep = firstMissing(s)
		r.Summary = fmt.Sprintf("cluster %s: failover %s→%s stopped at step %s (%s); completed: %s; %s",
			h.Config.Name, orUnknown(from), orUnknown(to), r.FailedStep, cause, strings.Join(r.Completed, ", "), consequence(s))
	}
	entry := store.HistoryEntry{Action: s.Request.Action, Trigger: s.Request.TriggerText(), From: from, To: to, Execution: s.Execution,
		Outcome: r.Outcome, Reason: r.Summary, StartedAt: s.Request.RequestedAt, FinishedAt: h.now(), Steps: r.Completed,
		StepMs: s.StepMs()}
	if s.Lease != nil {
		entry.Epoch = s.Lease.Epoch
	}
	// Never Commit here: a failure after the grant leaves the record naming
	// the new primary with the handover pending (store.PrimaryLease
	// GrantedBy), which is the truth whatever this execution's state
	// document says: the new primary's agent promotes it if the Promote
	// step did not, and the cleanup (or the next execution) resumes the
	// reroute, verify and record.
	write := h.Store.Release
	if _, err := write(ctx, h.Config.Name, s.Execution, entry); err != nil {
		var notHolder *store.ErrNotLockHolder
		if !errors.As(err, &notHolder) {
			return r, classify("report", err)
		}
		log.Warn("lease no longer held by this execution", "err", err)
	}
	log.Error("failover did not complete", "outcome", r.Outcome, "failedStep", r.FailedStep, "summary", r.Summary)
	return r, nil
}

// firstMissing names the first mutating step that did not complete.
func firstMissing(s State) string {
	if s.Assessment == nil {
		return "assess"
	}
	for _, st := range []struct {
		name string
		r    *StepResult
	}{{"fence", s.Fence}, {"promote", s.Promote}, {"reroute", s.Reroute}, {"verify", s.Verify}, {"record", s.Record}} {
		if st.r == nil || !st.r.Done {
			return st.name
		}
	}
	return "none"
}

// consequence says, for an operator, where the cluster was left.
func consequence(s State) string {
	switch firstMissing(s) {
	case "assess", "fence":
		return "nothing was promoted; the old primary may still be serving"
	case "promote":
		return "the old primary is fenced and the standby was NOT promoted: the cluster has no writable primary until an operator acts"
	case "reroute":
		return "the new primary is promoted and recorded, but clients may still be routed to the fenced node"
	case "verify":
		return "the new primary is promoted and rerouted but a write through the client address could not be confirmed"
	default:
		return "the failover completed but the cluster record was not updated"
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}
