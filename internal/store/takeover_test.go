package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
)

// An execution that ended holding the lock is taken over: its entry is
// written, the epoch moves on, a second taker loses, a retry is a no-op.
func TestTakeOverLockFromAnEndedExecution(t *testing.T) {
	ctx := testCtx(t)
	s, _ := localStore(t)
	const cluster = "orders"
	t0 := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	if _, err := s.Init(ctx, cluster, "node1"); err != nil {
		t.Fatal(err)
	}
	held, err := s.AcquireLock(ctx, cluster, "exec-1", 15*time.Minute, t0)
	if err != nil {
		t.Fatal(err)
	}
	entry := store.HistoryEntry{Action: store.ActionFailover, Outcome: store.OutcomeAborted, Reason: "stopped after fence"}
	rec, err := s.TakeOverLock(ctx, cluster, "exec-2", "exec-1", entry, 15*time.Minute, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !rec.LockHeldBy("exec-2") || rec.Epoch != held.Epoch+1 {
		t.Fatalf("after takeover: lock %+v epoch %d, want exec-2 at epoch %d", rec.Lock, rec.Epoch, held.Epoch+1)
	}
	last := rec.History[len(rec.History)-1]
	if last.Execution != "exec-1" || last.Outcome != store.OutcomeAborted || last.Epoch != held.Epoch || last.Committed {
		t.Errorf("entry of the ended execution %+v", last)
	}
	again, err := s.TakeOverLock(ctx, cluster, "exec-2", "exec-1", entry, 15*time.Minute, t0.Add(time.Minute))
	if err != nil || again.Version != rec.Version {
		t.Errorf("retried takeover: version %d (%v), want %d unchanged", again.Version, err, rec.Version)
	}
	var heldErr *store.ErrLockHeld
	if _, err := s.TakeOverLock(ctx, cluster, "exec-3", "exec-1", entry, 15*time.Minute, t0.Add(time.Minute)); !errors.As(err, &heldErr) || heldErr.Holder != "exec-2" {
		t.Errorf("second taker of the same ended lock: %v, want ErrLockHeld by exec-2", err)
	}
	if _, err := s.TakeOverLock(ctx, cluster, "exec-3", "exec-3", entry, time.Minute, t0); err == nil {
		t.Error("a holder taking over from itself was accepted")
	}
}
