package failover

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/store"
)

// recordStore is a cluster record in the DynamoDB emulator, reached by the
// real SDK client.
func recordStore(t *testing.T, table string) *store.Store {
	t.Helper()
	srv := localaws.NewServer()
	db := ddbsim.New(ddbsim.Options{})
	if err := db.CreateTable(ddbsim.TableSpec{Name: table, HashKey: "cluster", HashKeyType: "S"}); err != nil {
		t.Fatal(err)
	}
	srv.Register(db)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := awsall.NewClients(context.Background(), awsall.LocalConfig(hs.URL, "us-east-1", "ReportFunction")...)
	if err != nil {
		t.Fatal(err)
	}
	return store.New(c.DynamoDB, table)
}

// A failure after the grant leaves the record naming the new primary (the
// old one is fenced) with the handover pending, and releases the lock; a
// failure before it leaves the old primary in the record.
func TestReportRecordsThePromotedNodeAfterALateFailure(t *testing.T) {
	for _, tc := range []struct {
		name        string
		promoted    bool
		wantPrimary string
		wantFailed  string
	}{
		{name: "failed at reroute after promotion", promoted: true, wantPrimary: "node2", wantFailed: "reroute"},
		{name: "failed at promote", promoted: false, wantPrimary: "node1", wantFailed: "promote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := sampleClusterConfig(t)
			st := recordStore(t, cfg.Table)
			if _, err := st.Init(ctx, cfg.Name, "node1"); err != nil {
				t.Fatal(err)
			}
			exec := "arn:aws:states:us-east-1:123456789012:execution:m:e1"
			rec, err := st.AcquireLock(ctx, cfg.Name, exec, time.Minute, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			s := State{Execution: exec, Request: Request{Action: ActionFailover, Cluster: cfg.Name},
				Lease:      &Lease{Acquired: true, Holder: exec, Epoch: rec.Epoch, Primary: "node1"},
				Assessment: &Assessment{Decision: DecisionProceed, OldPrimary: "node1", NewPrimary: "node2"},
				Fence:      &StepResult{Done: true},
				Error:      &StepError{Error: "StepFailed", Cause: "boom"}}
			if tc.promoted { // as the Promote step does: grant, then pg_promote
				s.Promote = &StepResult{Done: true}
				if _, err := st.RevokePrimaryLease(ctx, cfg.Name, exec, rec.Epoch, time.Now()); err != nil {
					t.Fatal(err)
				}
				if _, err := st.MarkHardFenced(ctx, cfg.Name, exec, rec.Epoch); err != nil {
					t.Fatal(err)
				}
				if _, err := st.GrantPrimary(ctx, cfg.Name, store.Grant{Holder: exec, Epoch: rec.Epoch, NewPrimary: "node2",
					Now: time.Now(), Duration: 8 * time.Second}); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := (&ReportStep{Deps: &Deps{base: base{Config: cfg}, Store: st}}).Handle(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if rep.FailedStep != tc.wantFailed || rep.Outcome != store.OutcomeFailed {
				t.Errorf("report = %+v, want failed at %s", rep, tc.wantFailed)
			}
			got, err := st.Get(ctx, cfg.Name)
			if err != nil {
				t.Fatal(err)
			}
			if got.Primary != tc.wantPrimary || got.Lock != nil {
				t.Errorf("record primary %s lease %+v, want %s and no lease", got.Primary, got.Lock, tc.wantPrimary)
			}
			// After the grant the handover stays pending, whatever the
			// state document says, so the cleanup or the next execution
			// resumes it.
			if pending := got.PrimaryLease.HandoverPending(); pending != tc.promoted {
				t.Errorf("handover pending %t after the report, want %t", pending, tc.promoted)
			}
		})
	}
}
