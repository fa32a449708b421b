package localstack_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// Invariant 3 under synchronous replication, broken on purpose: the
// replication link is cut while the primary stays up; clients commit and
// cancel commits that wait for the standby (JDBC query timeouts, psql
// Ctrl-C): PostgreSQL answers the cancel with success and a WARNING that
// the transaction "has already committed locally", so the client counts
// them acknowledged although the standby lacks them. Then the primary
// dies. A failover without force must be refused (nothing promoted, so
// nothing lost); a forced one proceeds and records the bytes at risk.

func TestSyncLossCancelledCommitsStrict(t *testing.T) {
	t.Parallel()
	syncLossCancelledCommits(t, cluster.SyncStrict)
}

func TestSyncLossCancelledCommitsAvailable(t *testing.T) {
	t.Parallel()
	syncLossCancelledCommits(t, cluster.SyncAvailable)
}

func syncLossCancelledCommits(t *testing.T, policy string) {
	ctx := context.Background()
	s := startStack(t, localstack.Options{SyncPolicy: policy})
	m := prepareWriting(t, s)
	node1 := s.Nodes["node1"]
	dsn1 := node1.PG.DSN(localstack.DatabaseName, pgharness.Superuser)
	s.Replication.Cut(dataplane.Refuse)
	cutAt := time.Now()
	received := lsnOf(t, s, "node2", "SELECT pg_last_wal_receive_lsn()::text")

	// Three clients commit, cancelling any commit still waiting after
	// 700 ms, for five seconds ("available" degrades after 5 s; later
	// commits may succeed outright).
	var mu sync.Mutex
	var results []commitResult
	var wg sync.WaitGroup
	for c := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, warn, err := dialWithNotices(ctx, dsn1)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close(context.Background())
			for i := int64(0); time.Since(cutAt) < 5*time.Second; i++ {
				id := int64(c+1)*1000 + i
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				acked, warning, err := insertWithCancel(cctx, conn, warn, id, 700*time.Millisecond)
				cancel()
				mu.Lock()
				results = append(results, commitResult{ID: id, Acked: acked, Warning: warning, Err: err, At: time.Now()})
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	var acked []int64
	warned := 0
	for _, r := range results {
		if r.Acked {
			acked = append(acked, r.ID)
			if strings.Contains(r.Warning, "committed locally") {
				warned++
			}
		}
	}
	t.Logf("%s policy: %d commits tried after the cut, %d acknowledged, %d of them only through a cancelled wait (WARNING: committed locally)",
		policy, len(results), len(acked), warned)
	if warned == 0 {
		t.Fatal("no commit was acknowledged through a cancelled synchronous wait: the test did not exercise its case")
	}
	// The primary's agent publishes its flushed position with each lease
	// renewal: wait until the record's evidence covers the cancelled
	// commits, so that the forced failover can measure what it loses.
	var rec store.Record
	waitFor(t, 15*time.Second, "node1's published WAL position to pass what node2 received", func() bool {
		rec = clusterRecord(t, s)
		return rec.PrimaryLease != nil && rec.PrimaryLease.LSN > uint64(received)
	})
	t.Logf("record before the crash: lease LSN %s (node2 received %s), sync standby %q, standby %+v",
		pgnode.LSN(rec.PrimaryLease.LSN), received, rec.PrimaryLease.SyncStandby, rec.Standby)
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}

	arn := startExecution(t, s, "sync-loss-"+policy, readEvent(t, s, "manual-failover.json"))
	if status := waitExecution(t, s, arn); status != "FAILED" {
		info, _ := s.SFN.Execution(arn)
		t.Fatalf("failover without force after losing the synchronous standby: %s, want FAILED (refused); output %s", status, info.Output)
	}
	info, _ := s.SFN.Execution(arn)
	t.Logf("refusal: %s: %s", info.Error, info.Cause)
	if info.Error != "FailoverRefused" {
		t.Errorf("error %q, want FailoverRefused", info.Error)
	}
	if !standbyInRecovery(t, s) {
		t.Fatal("node2 was promoted although it may lack acknowledged writes")
	}
	for _, c := range s.Server.Calls() {
		if c.Service == "ec2" && (c.Operation == "StopInstances" || c.Operation == "ReplaceRoute") {
			t.Errorf("%s called %s for a refused failover", c.AccessKeyID, c.Operation)
		}
		if c.AccessKeyID == "PromoteFunction" || c.AccessKeyID == "FenceFunction" {
			t.Errorf("%s called %s %s for a refused failover", c.AccessKeyID, c.Service, c.Operation)
		}
	}
	rec = clusterRecord(t, s)
	if rec.Primary != "node1" || rec.Lock != nil {
		t.Errorf("record after the refusal: primary %s lock %+v; want node1 and no lock", rec.Primary, rec.Lock)
	}
	if n := len(rec.History); n == 0 || rec.History[n-1].Outcome != store.OutcomeRefused {
		t.Errorf("history does not end with a refusal: %+v", rec.History)
	}
	if n := waitNotice(t, s, 30*time.Second, "failover refused"); !strings.Contains(n.Message, "--force") {
		t.Errorf("the refusal notice does not say how to override it:\n%s", n.Message)
	}

	// An audited force proceeds and records what it may lose.
	arn = startExecution(t, s, "sync-loss-forced-"+policy, readEvent(t, s, "manual-failover-forced.json"))
	out := requireSucceeded(t, s, arn)
	if out.Assessment == nil || !out.Assessment.Forced {
		t.Fatalf("forced failover's assessment: %+v", out.Assessment)
	}
	missing, err := s.MissingOn(ctx, "node2", acked)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("forced: bytes at risk %d, lag %d; %d of %d acknowledged writes missing on node2; reason %q",
		out.Assessment.BytesAtRisk, out.Assessment.LagBytes, len(missing), len(acked), out.Assessment.Reason)
	if out.Assessment.BytesAtRisk <= 0 {
		t.Errorf("forced failover recorded %d bytes at risk; node1 had published %s, node2 received %s",
			out.Assessment.BytesAtRisk, pgnode.LSN(rec.PrimaryLease.LSN), received)
	}
	if len(missing) == 0 {
		t.Error("no acknowledged write is missing on node2: the cancelled commits did not stay on node1 alone")
	}
	rec = clusterRecord(t, s)
	if n := len(rec.History); n == 0 || !strings.Contains(rec.History[n-1].Reason, "bytes at risk") {
		t.Errorf("the forced failover's history entry does not record the bytes at risk: %+v", rec.History)
	}
	reportFault(t, m, faultRow{Case: "standby cut, cancelled sync commits, primary dies (" + policy + ")", Expected: "refused; forced → promoted, bytes at risk recorded",
		Observed: fmt.Sprintf("FailoverRefused; forced SUCCEEDED, %d bytes at risk", out.Assessment.BytesAtRisk), Acked: intp(len(acked)), Lost: intp(len(missing))})
}
