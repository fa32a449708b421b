package localstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
)

// TestStrictPolicyAlarmsWhileCommitsWait: under the strict policy, with the
// standby gone, commits block (nothing is acknowledged that the standby
// lacks) and the template's "sync commits waiting" alarm on the primary
// fires from the agent's SyncCommitsWaiting metric; once the standby is back
// the waiting commit completes and is on the standby.
func TestStrictPolicyAlarmsWhileCommitsWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := localstack.Start(ctx, localstack.Options{Logf: t.Logf, SyncPolicy: cluster.SyncStrict,
		TemplateParams: map[string]string{"NotificationEmail": "dba@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, r := range s.Bus.Rules() {
		s.Bus.RemoveRule(r) // this test is about the redundancy alarm, not a failover
	}
	if err := s.WaitSteady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	m := startDualMonitor(t, s)
	alarm := "switchyard-" + s.Config.Name + "-node1-sync-commits-waiting"
	if st, ok := s.CW.AlarmState(alarm); !ok || st.Value == cwsim.StateAlarm {
		t.Fatalf("alarm %s before the cut: %+v (exists %v), want it created and not in ALARM", alarm, st, ok)
	}
	conn, err := pgx.Connect(ctx, s.Nodes["node1"].PG.DSN(localstack.DatabaseName, pgharness.Superuser))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE TABLE strict_alarm (x int)"); err != nil {
		t.Fatal(err)
	}

	s.Replication.Cut(dataplane.Refuse)
	cut := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "INSERT INTO strict_alarm VALUES (1)")
		done <- err
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, _ := s.CW.AlarmState(alarm)
		if st.Value == cwsim.StateAlarm {
			t.Logf("alarm %s → ALARM %s after the cut: %s", alarm, time.Since(cut).Round(time.Second), st.Reason)
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the commit finished (%v) while the strict policy's standby was gone", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("alarm %s still %q 90 s after the cut", alarm, st.Value)
		}
		time.Sleep(200 * time.Millisecond) // polling the emulator's alarm state
	}
	select {
	case err := <-done:
		t.Fatalf("the commit finished (%v) before the standby returned", err)
	default:
	}
	s.Replication.Heal()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the waiting commit failed after the standby returned: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the waiting commit did not finish after the standby returned")
	}
	standby, err := pgx.Connect(ctx, s.Nodes["node2"].PG.DSN(localstack.DatabaseName, pgharness.Superuser))
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Close(context.Background())
	// synchronous_commit=on acknowledges once the standby has flushed the
	// commit; it is visible there once replayed, a moment later.
	var n int
	var qerr error
	deadline = time.Now().Add(30 * time.Second)
	for {
		qerr = standby.QueryRow(ctx, "SELECT count(*) FROM strict_alarm").Scan(&n)
		if (qerr == nil && n == 1) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling the standby's replay
	}
	if qerr != nil || n != 1 {
		t.Errorf("the acknowledged commit on the standby: %d rows (%v), want 1", n, qerr)
	}
	reportFault(t, m, faultRow{Case: "primary cut off from its standby (sync, strict policy)", Expected: "commits wait; sync-commits-waiting alarm; commit lands after heal",
		Observed: "alarm ALARM while the commit waited; commit on the standby after heal"})
}
