package store_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
)

// The primary lease's life through the real DynamoDB client: renewals only
// by the recorded primary, a revocation that stops renewals, the standby's
// detachment, and a grant that holds only once the old lease is fenced.
func TestPrimaryLeaseLifecycle(t *testing.T) {
	ctx := testCtx(t)
	s, _ := localStore(t)
	const cluster = "orders"
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	if _, err := s.Init(ctx, cluster, "node1"); err != nil {
		t.Fatal(err)
	}
	const lsn = uint64(1) << 62 // beyond what a float64 or int32 keeps exactly
	rec, err := s.RenewPrimaryLease(ctx, cluster, store.Renewal{Node: "node1", Now: t0, Duration: 8 * time.Second, LSN: lsn + 1, SyncStandby: "node2"})
	if err != nil {
		t.Fatal(err)
	}
	if l := rec.PrimaryLease; l.LSN != lsn+1 || l.SyncStandby != "node2" || !l.Expires.Equal(t0.Add(8*time.Second)) {
		t.Fatalf("renewed lease %+v", l)
	}
	got, err := s.Get(ctx, cluster)
	if err != nil || got.PrimaryLease == nil || !reflect.DeepEqual(*got.PrimaryLease, *rec.PrimaryLease) {
		t.Fatalf("lease read back %+v (%v), wrote %+v", got.PrimaryLease, err, rec.PrimaryLease)
	}
	// PostgreSQL down, its agent renewing without a position: the last
	// published position and synchronous standby stay the evidence.
	down, err := s.RenewPrimaryLease(ctx, cluster, store.Renewal{Node: "node1", Now: t0.Add(time.Second), Duration: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if l := down.PrimaryLease; l.LSN != lsn+1 || l.SyncStandby != "node2" || !l.Renewed.Equal(t0.Add(time.Second)) {
		t.Fatalf("lease renewed without a position: %+v, want LSN and synchronous standby kept", l)
	}
	var notPrimary *store.ErrNotPrimary
	if _, err := s.RenewPrimaryLease(ctx, cluster, store.Renewal{Node: "node2", Now: t0, Duration: time.Second}); !errors.As(err, &notPrimary) {
		t.Errorf("renewal by node2: %v, want ErrNotPrimary", err)
	}
	if _, err := s.SetStandbyEligibility(ctx, cluster, "node1", "node2", true, "sync", t0); err != nil {
		t.Fatal(err)
	}

	lock, err := s.AcquireLock(ctx, cluster, "exec-1", time.Minute, t0)
	if err != nil {
		t.Fatal(err)
	}
	grant := store.Grant{Holder: "exec-1", Epoch: lock.Epoch, NewPrimary: "node2", Duration: 8 * time.Second,
		ClockMargin: time.Second, DetachedHold: 8 * time.Second, RequireEligible: true}
	var notFenced *store.ErrNotFenced
	grant.Now = t0.Add(time.Hour)
	if _, err := s.GrantPrimary(ctx, cluster, grant); !errors.As(err, &notFenced) {
		t.Errorf("grant before any revocation: %v, want ErrNotFenced", err)
	}
	var lost *store.ErrLockLost
	if _, err := s.RevokePrimaryLease(ctx, cluster, "exec-2", lock.Epoch, t0); !errors.As(err, &lost) {
		t.Errorf("revocation by an execution without the lock: %v, want ErrLockLost", err)
	}
	if _, err := s.RevokePrimaryLease(ctx, cluster, "exec-1", lock.Epoch, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	var revoked *store.ErrLeaseRevoked
	if _, err := s.RenewPrimaryLease(ctx, cluster, store.Renewal{Node: "node1", Now: t0.Add(2 * time.Second), Duration: 8 * time.Second}); !errors.As(err, &revoked) {
		t.Errorf("renewal after revocation: %v, want ErrLeaseRevoked", err)
	}
	grant.Now = t0.Add(8*time.Second + 500*time.Millisecond) // expired, within the margin
	if _, err := s.GrantPrimary(ctx, cluster, grant); !errors.As(err, &notFenced) || notFenced.Until.IsZero() {
		t.Errorf("grant within the clock margin: %v, want ErrNotFenced with a retry instant", err)
	}
	grant.Now = t0.Add(20 * time.Second)
	if _, err := s.GrantPrimary(ctx, cluster, grant); !errors.As(err, &notFenced) {
		t.Errorf("grant without the candidate's detachment: %v, want ErrNotFenced", err)
	}
	if _, err := s.RecordDetached(ctx, cluster, "node1", t0); err == nil {
		t.Error("the recorded primary recorded a detachment from itself")
	}
	if _, err := s.RecordDetached(ctx, cluster, "node2", t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	grant.Now = t0.Add(3*time.Second + 8*time.Second + 500*time.Millisecond) // detached too recently
	if _, err := s.GrantPrimary(ctx, cluster, grant); !errors.As(err, &notFenced) {
		t.Errorf("grant within the failsafe hold: %v, want ErrNotFenced", err)
	}
	grant.Now = t0.Add(13 * time.Second)
	rec, err = s.GrantPrimary(ctx, cluster, grant)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Primary != "node2" || rec.PrimaryLease.Node != "node2" || rec.PrimaryLease.Term != lock.Epoch ||
		rec.Standby == nil || rec.Standby.Node != "node1" || rec.Standby.Eligible {
		t.Errorf("after the grant: primary %s, lease %+v, standby %+v", rec.Primary, rec.PrimaryLease, rec.Standby)
	}
	if again, err := s.GrantPrimary(ctx, cluster, grant); err != nil || again.Version != rec.Version {
		t.Errorf("a repeated grant: %v, version %d → %d; want a no-op", err, rec.Version, again.Version)
	}
}

// Under synchronous replication a grant re-checks that the candidate is
// still recorded eligible (the old primary may have degraded after Assess).
func TestGrantRefusesAnIneligibleStandby(t *testing.T) {
	ctx := testCtx(t)
	s, _ := localStore(t)
	const cluster = "orders"
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	if _, err := s.Init(ctx, cluster, "node1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenewPrimaryLease(ctx, cluster, store.Renewal{Node: "node1", Now: t0, Duration: 8 * time.Second, LSN: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStandbyEligibility(ctx, cluster, "node1", "node2", false, "not streaming since 12:00", t0); err != nil {
		t.Fatal(err)
	}
	lock, err := s.AcquireLock(ctx, cluster, "exec-1", time.Minute, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokePrimaryLease(ctx, cluster, "exec-1", lock.Epoch, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkHardFenced(ctx, cluster, "exec-1", lock.Epoch); err != nil {
		t.Fatal(err)
	}
	var notEligible *store.ErrNotEligible
	g := store.Grant{Holder: "exec-1", Epoch: lock.Epoch, NewPrimary: "node2", Now: t0, Duration: time.Second, RequireEligible: true}
	if _, err := s.GrantPrimary(ctx, cluster, g); !errors.As(err, &notEligible) || notEligible.Reason != "not streaming since 12:00" {
		t.Fatalf("grant to an ineligible standby: %v, want ErrNotEligible with the recorded reason", err)
	}
	g.RequireEligible = false // forced
	if rec, err := s.GrantPrimary(ctx, cluster, g); err != nil || rec.Primary != "node2" {
		t.Fatalf("forced grant after a hard fence: %v, primary %s", err, rec.Primary)
	}
}
