package failover

import (
	"context"
	"errors"

	"github.com/switchyard/switchyard/internal/store"
)

// LeaseStep takes the cluster lease for this execution (invariant 4: at
// most one failover in flight). A lease held by another execution is not an
// error: the state machine ends successfully as "already in progress".
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
		// A new cluster: the first configured node is the initial primary.
		if _, err := h.Store.Init(ctx, cfg.Name, cfg.Nodes[0].Name); err != nil {
			return Lease{}, classify("lease: creating the cluster record", err)
		}
		log.Info("created the cluster record", "primary", cfg.Nodes[0].Name)
		rec, err = h.Store.AcquireLock(ctx, cfg.Name, s.Execution, LeaseTTL, h.now())
	}
	var held *store.ErrLockHeld
	if errors.As(err, &held) {
		log.Info("another failover is in progress", "holder", held.Holder, "expires", held.Expires)
		return Lease{Acquired: false, Holder: held.Holder, Epoch: held.Epoch}, nil
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
