package failover

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/store"
)

// LeaseStep takes the cluster's failover lock for this execution
// (invariant 4: at most one failover in flight). A lock held by another
// execution that is still running is not an error: the state machine ends
// successfully as "already in progress", and that execution re-arms the
// alarm when it ends. A lock left behind by an execution that has ended
// (stopped, timed out, or failed before its report) is taken over at once:
// Step Functions says it will never act again, so waiting for the lock's
// TTL would only leave the cluster stranded. Assess then reconciles from
// what it observes.
type LeaseStep struct{ *Deps }

// Handle is the Lambda handler.
func (h *LeaseStep) Handle(ctx context.Context, s State) (Lease, error) {
	log := h.logger("lease", s)
	if s.Execution == "" {
		return Lease{}, &StepFailed{Step: "lease", Err: errors.New("the state has no execution id to hold the lease with")}
	}
	cfg := h.Config
	rec, err := h.Store.AcquireLock(ctx, cfg.Name, s.Execution, LeaseTTL, h.now())
	var noRecord *store.ErrNoRecord
	if errors.As(err, &noRecord) {
		// The node agents create the record from the node they find
		// writable; a failover never guesses which node is primary.
		return Lease{}, &StepFailed{Step: "lease", Err: fmt.Errorf("cluster %q has no record yet: the node agents create it when they find the writable primary; start them (nodeprobe) and retry", cfg.Name)}
	}
	var held *store.ErrLockHeld
	if errors.As(err, &held) {
		rec, err = h.takeOver(ctx, s, held)
		if errors.As(err, &held) {
			log.Info("another failover is in progress", "holder", held.Holder, "expires", held.Expires)
			return Lease{Acquired: false, Holder: held.Holder, Epoch: held.Epoch}, nil
		}
	}
	if err != nil {
		var contended *store.ErrContended
		if errors.As(err, &contended) {
			return Lease{}, &TransientError{Step: "lease", Err: err}
		}
		return Lease{}, classify("lease", err)
	}
	log.Info("lease acquired", "epoch", rec.Epoch, "primary", rec.Primary)
	return Lease{Acquired: true, Holder: s.Execution, Epoch: rec.Epoch, Primary: rec.Primary}, nil
}

// takeOver asks Step Functions whether the holder of the lock still runs.
// A running holder (or one whose status cannot be read) keeps the lock:
// the result is the *store.ErrLockHeld given.
func (h *LeaseStep) takeOver(ctx context.Context, s State, held *store.ErrLockHeld) (store.Record, error) {
	log := h.logger("lease", s)
	if h.SFN == nil {
		return store.Record{}, held
	}
	status, err := h.executionStatus(ctx, held.Holder)
	if err != nil {
		log.Warn("cannot tell whether the lock holder still runs; treating it as running", "holder", held.Holder, "err", err)
		return store.Record{}, held
	}
	if status == "RUNNING" {
		return store.Record{}, held
	}
	entry := store.HistoryEntry{Action: s.Request.Action, Execution: held.Holder, Outcome: EndedOutcome(status),
		FinishedAt: h.now(), Epoch: held.Epoch,
		Reason: fmt.Sprintf("execution ended %s while holding the failover lock; lock taken over by %s", status, s.Execution)}
	rec, err := h.Store.TakeOverLock(ctx, h.Config.Name, s.Execution, held.Holder, entry, LeaseTTL, h.now())
	if err == nil {
		log.Warn("took over the failover lock of an ended execution", "ended", held.Holder, "status", status, "epoch", rec.Epoch)
	}
	return rec, err
}

// executionStatus is the Step Functions status of an execution; one that
// does not exist (any more) is reported as "UNKNOWN": it cannot act.
func (h *Deps) executionStatus(ctx context.Context, arn string) (string, error) {
	out, err := h.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	switch {
	case awsapi.ErrorCode(err) == "ExecutionDoesNotExist":
		return "UNKNOWN", nil
	case err != nil:
		return "", fmt.Errorf("DescribeExecution %s: %w", arn, err)
	}
	return string(out.Status), nil
}

// EndedOutcome is the history outcome of an execution that ended with
// Step Functions status without writing its own entry.
func EndedOutcome(status string) string {
	switch status {
	case "ABORTED":
		return store.OutcomeAborted
	case "TIMED_OUT":
		return store.OutcomeTimedOut
	default:
		return store.OutcomeFailed
	}
}
