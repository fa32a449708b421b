package failover

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/internal/store"
)

// RecordStep writes the outcome to the cluster record: on a completed
// failover the new primary (Commit, which also releases the lease); when no
// failover was needed, only a history entry and the lease released.
type RecordStep struct{ *Deps }

// Handle is the Lambda handler.
func (h *RecordStep) Handle(ctx context.Context, s State) (*StepResult, error) {
	start := h.now()
	log := h.logger("record", s)
	if s.Assessment == nil {
		return nil, &StepFailed{Step: "record", Err: errors.New("nothing to record: no assessment")}
	}
	a := s.Assessment
	entry := store.HistoryEntry{
		Action: s.Request.Action, Trigger: s.Request.TriggerText(), From: a.OldPrimary, To: a.NewPrimary, Execution: s.Execution,
		Reason: s.Request.Reason + " — " + a.Reason, StartedAt: s.Request.RequestedAt, FinishedAt: h.now(),
		Steps: append([]string{"lease", "assess"}, s.CompletedSteps()...), StepMs: s.StepMs(),
	}
	if s.Lease != nil {
		entry.Epoch = s.Lease.Epoch
	}
	if !a.proceeds() {
		entry.Outcome = store.OutcomeNotNeeded
		if _, err := h.Store.Release(ctx, h.Config.Name, s.Execution, entry); err != nil {
			return nil, classify("record", err)
		}
		log.Info("no failover needed; lease released", "reason", a.Reason)
		return result(start, h.now(), "no failover needed: "+a.Reason), nil
	}
	if s.Verify == nil || !s.Verify.Done {
		return nil, &StepFailed{Step: "record", Err: errors.New("refusing to record a new primary that was not verified")}
	}
	entry.Outcome = store.OutcomeSucceeded
	entry.Steps = append(entry.Steps, "record")
	rec, err := h.Store.Commit(ctx, h.Config.Name, s.Execution, a.NewPrimary, entry)
	if err != nil {
		return nil, classify("record", err)
	}
	log.Info("failover recorded", "primary", rec.Primary, "epoch", rec.Epoch,
		"notification", fmt.Sprintf("cluster %s: failover from %s to %s completed (epoch %d)", h.Config.Name, a.OldPrimary, a.NewPrimary, rec.Epoch))
	return result(start, h.now(), fmt.Sprintf("%s is primary at epoch %d", rec.Primary, rec.Epoch)), nil
}
