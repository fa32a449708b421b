package localstack_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// startManual is startStack, then node1 crashes; it returns the sample
// manual failover input.
func startManual(t *testing.T) (*localstack.Stack, []byte) {
	t.Helper()
	s := startStack(t, localstack.Options{})
	input := readEvent(t, s, "manual-failover.json")
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	return s, input
}

func startExecution(t *testing.T, s *localstack.Stack, name string, input []byte) string {
	t.Helper()
	out, err := s.Client("operator").SFN.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(s.StateMachineARN), Name: aws.String(name), Input: aws.String(string(input))})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ExecutionArn)
}

func waitExecution(t *testing.T, s *localstack.Stack, arn string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	status, err := s.SFN.WaitExecution(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

func standbyInRecovery(t *testing.T, s *localstack.Stack) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.Nodes["node2"].PG.DSN(localstack.DatabaseName, pgharness.Superuser))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var in bool
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&in); err != nil {
		t.Fatal(err)
	}
	return in
}

// TestUnconfirmedFenceNeverPromotes breaks invariant 1 on purpose: an
// operator forces a failover of a primary that is alive, its agent cut off
// from the cluster record (so it cannot see its lease revoked) while its
// standby still streams from it (so failsafe keeps it writable), the
// standby's agent cut off too (so it cannot record detaching, and the lease
// cannot fence), and EC2 refuses to stop it (an IAM or API failure). Neither fence can be confirmed: the standby must stay a
// standby, routing must not move, and the report must release the lock
// saying where it stopped.
func TestUnconfirmedFenceNeverPromotes(t *testing.T) {
	t.Parallel()
	s := startStack(t, localstack.Options{})
	input := readEvent(t, s, "manual-failover-forced.json")
	m := startDualMonitor(t, s)
	// Both agents cut off from the record: node1's cannot see its lease
	// revoked (failsafe keeps it writable, node2 streams from it), node2's
	// cannot record detaching from node1, so the lease cannot fence.
	s.Server.Faults().Add(localaws.Fault{Service: "dynamodb", AccessKeyID: localstack.AgentCaller("node1"), Partition: true})
	s.Server.Faults().Add(localaws.Fault{Service: "dynamodb", AccessKeyID: localstack.AgentCaller("node2"), Partition: true})
	s.Server.Faults().Add(localaws.Fault{Service: "ec2", Operation: "StopInstances", AccessKeyID: "FenceFunction",
		FailNext: 1000, Error: localaws.Errorf(http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")})
	arn := startExecution(t, s, "fence-refused", input)
	if status := waitExecution(t, s, arn); status != "FAILED" {
		t.Fatalf("execution %s, want FAILED", status)
	}
	info, _ := s.SFN.Execution(arn)
	t.Logf("failure cause: %s: %s", info.Error, info.Cause)
	if info.Error != "FenceNotConfirmed" {
		t.Errorf("error %q, want FenceNotConfirmed", info.Error)
	}
	if !strings.Contains(info.Cause, "detach") {
		t.Errorf("cause %q does not say why the lease could not fence", info.Cause)
	}
	if !standbyInRecovery(t, s) {
		t.Error("node2 was promoted although node1 was never confirmed fenced")
	}
	if n, _ := s.RoutedNode(); n != "node1" {
		t.Errorf("the overlay route moved to %s", n)
	}
	for _, c := range s.Server.Calls() {
		if c.AccessKeyID == "RerouteFunction" {
			t.Errorf("%s called %s after an unconfirmed fence", c.AccessKeyID, c.Operation)
		}
		if c.AccessKeyID == "PromoteFunction" && c.Service != "dynamodb" {
			t.Errorf("%s called %s after an unconfirmed fence", c.AccessKeyID, c.Operation)
		}
	}
	rec, err := store.New(s.Client("test").DynamoDB, s.Config.Table).Get(context.Background(), s.Config.Name)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Primary != "node1" || rec.Lock != nil {
		t.Errorf("record: primary %s lock %+v, want node1 and the lock released", rec.Primary, rec.Lock)
	}
	reportFault(t, m, faultRow{Case: "fence unconfirmable (EC2 refuses stop, agents cut off)", Expected: "FenceNotConfirmed; nothing promoted or rerouted; lock released",
		Observed: "FAILED " + info.Error + "; node2 standby; route on node1"})
}

// TestConcurrentTriggersYieldOneFailover breaks invariant 4 on purpose:
// five executions are started at once for the same lost primary. Exactly
// one may fence and promote; the others end as "already in progress" or,
// once it finished, "no failover needed".
func TestConcurrentTriggersYieldOneFailover(t *testing.T) {
	t.Parallel()
	s, input := startManual(t)
	m := startDualMonitor(t, s)
	var wg sync.WaitGroup
	arns := make([]string, 5)
	for i := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arns[i] = startExecution(t, s, fmt.Sprintf("concurrent-%d", i), input)
		}()
	}
	wg.Wait()
	for _, arn := range arns {
		if status := waitExecution(t, s, arn); status != "SUCCEEDED" {
			info, _ := s.SFN.Execution(arn)
			t.Errorf("%s: %s %s %s", arn, status, info.Error, info.Cause)
		}
	}
	stops, promotes := 0, 0
	for _, c := range s.Server.Calls() {
		if c.AccessKeyID == "FenceFunction" && c.Operation == "StopInstances" {
			stops++
		}
		if c.AccessKeyID == "RerouteFunction" && c.Operation == "ReplaceRoute" {
			promotes++
		}
	}
	if stops != 1 {
		t.Errorf("%d StopInstances calls, want exactly 1 fence", stops)
	}
	if promotes != 2 { // one ReplaceRoute per private route table, once
		t.Errorf("%d ReplaceRoute calls, want 2 (one failover over two route tables)", promotes)
	}
	rec, err := store.New(s.Client("test").DynamoDB, s.Config.Table).Get(context.Background(), s.Config.Name)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Primary != "node2" || rec.Epoch < 2 {
		t.Errorf("record: primary %s epoch %d", rec.Primary, rec.Epoch)
	}
	succeeded := 0
	for _, h := range rec.History {
		if h.Outcome == store.OutcomeSucceeded {
			succeeded++
		}
	}
	if succeeded != 1 {
		t.Errorf("%d successful failovers in the history, want 1: %+v", succeeded, rec.History)
	}
	reportFault(t, m, faultRow{Case: "concurrent triggers (5 at once)", Expected: "exactly one failover; the others AlreadyInProgress / not needed",
		Observed: fmt.Sprintf("%d StopInstances, %d ReplaceRoute, %d succeeded failover in history", stops, promotes, succeeded)})
}

// TestStaleStandbyIsNotPromoted breaks invariant 3 on purpose: with
// asynchronous replication, the standby's WAL stream is cut while the
// primary keeps committing, then the primary dies. A failover must be
// refused without touching anything; only an audited force proceeds.
func TestStaleStandbyIsNotPromoted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const limit = 4096
	s, err := localstack.Start(ctx, localstack.Options{Logf: t.Logf, Async: true, MaxLagBytes: limit,
		StateMachineSleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range s.Bus.Rules() {
		s.Bus.RemoveRule(r)
	}
	if err := s.WaitSteady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	m := prepareWriting(t, s)
	s.Replication.Cut(dataplane.Refuse)
	w := s.StartWriter(s.ClientOverlay.Addr(), 20*time.Millisecond)
	// Wait until the primary has published a position well past what the
	// standby has: the evidence Assess will weigh. The standby's position
	// is read again every time (WAL already in its socket buffer when the
	// link was cut is still received after the cut), and is the greater of
	// what it received and what it replayed: the received position can read
	// lower than what the standby already has (the start of a segment when
	// its WAL receiver starts), and a CI run passed this loop and then found
	// the standby level with the primary.
	lsnMetric := cwsim.Metric{Namespace: s.Config.Detection.Namespace, Name: "PrimaryLSN",
		Dimensions: []cwsim.Dimension{{Name: "Cluster", Value: s.Config.Name}, {Name: "Node", Value: "node1"}}}
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		received := lsnOf(t, s, "node2", "SELECT GREATEST(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text")
		dps := s.CW.Datapoints(lsnMetric)
		if len(dps) > 0 && dps[len(dps)-1].Maximum > float64(received)+4*limit {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("the primary's published position never passed the standby's by %d bytes", 4*limit)
		case <-tick.C:
		}
	}
	w.Stop()
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}

	plain, err := os.ReadFile(filepath.Join(s.Options.RepoDir, "events", "manual-failover.json"))
	if err != nil {
		t.Fatal(err)
	}
	arn := startExecution(t, s, "stale-standby", plain)
	if status := waitExecution(t, s, arn); status != "FAILED" {
		info, _ := s.SFN.Execution(arn)
		t.Fatalf("failover to a stale standby: %s, want FAILED (refused); output %s", status, info.Output)
	}
	info, _ := s.SFN.Execution(arn)
	if info.Error != "FailoverRefused" || !strings.Contains(info.Cause, "bytes behind") {
		t.Errorf("refusal %s: %s; want FailoverRefused naming the lag", info.Error, info.Cause)
	}
	if !standbyInRecovery(t, s) {
		t.Fatal("a standby behind the limit was promoted")
	}
	for _, c := range s.Server.Calls() {
		if c.Service == "ec2" && (c.Operation == "StopInstances" || c.Operation == "ReplaceRoute") {
			t.Errorf("%s called %s for a refused failover", c.AccessKeyID, c.Operation)
		}
	}

	forced, err := os.ReadFile(filepath.Join(s.Options.RepoDir, "events", "manual-failover-forced.json"))
	if err != nil {
		t.Fatal(err)
	}
	arn = startExecution(t, s, "stale-standby-forced", forced)
	if status := waitExecution(t, s, arn); status != "SUCCEEDED" {
		info, _ := s.SFN.Execution(arn)
		t.Fatalf("forced failover: %s %s %s", status, info.Error, info.Cause)
	}
	info, _ = s.SFN.Execution(arn)
	if !strings.Contains(string(info.Output), `"forced":true`) {
		t.Errorf("the forced failover's assessment does not say it was forced: %s", info.Output)
	}
	if standbyInRecovery(t, s) {
		t.Error("the forced failover did not promote node2")
	}
	// The writer's table may itself be missing on node2 (created just
	// before the cut): then every acknowledged write is lost.
	st := w.Stop()
	lost := len(st.Acked)
	if missing, err := s.MissingOn(context.Background(), "node2", st.Acked); err == nil {
		lost = len(missing)
	} else if !strings.Contains(err.Error(), "42P01") {
		t.Fatal(err)
	}
	acked := intp(len(st.Acked))
	reportFault(t, m, faultRow{Case: "standby lagging beyond the gate (async), then forced", Expected: "refused; forced → promoted, loss recorded",
		Observed: "FailoverRefused (bytes behind); forced SUCCEEDED, forced:true", Acked: acked, Lost: intp(lost)})
}

func lsnOf(t *testing.T, s *localstack.Stack, node, query string) pgnode.LSN {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.Nodes[node].PG.DSN(localstack.DatabaseName, pgharness.Superuser))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var text string
	if err := conn.QueryRow(ctx, query).Scan(&text); err != nil {
		t.Fatal(err)
	}
	lsn, err := pgnode.ParseLSN(text)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}
