package localstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/dataplane"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/store"
)

// Fault matrix: faults of one node or one path, with the heartbeat alarm
// and its rule armed, so a needless failover would really start.

// allRules keeps every EventBridge rule of the template on the bus.
const allRules = ""

// quietFor watches the stack for d: no execution may start, node2 must
// stay a standby. It returns the first violation seen ("" when none).
func quietFor(t *testing.T, s *localstack.Stack, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if sum, n := executionsSoFar(s); n > 0 {
			return "execution started: " + sum
		}
		if in, err := inRecovery(s.Nodes["node2"].PG.DSN(localstack.DatabaseName, pgharness.Superuser)); err == nil && !in {
			return "node2 left recovery"
		}
		time.Sleep(200 * time.Millisecond) // observation window, not synchronisation
	}
	return ""
}

// notFailedOverFor watches for d: the reachability alarm may start
// executions (the standby cannot reach the primary), but each must end
// without a failover: node2 stays in recovery, node1's lease is never
// revoked, no execution fails. It returns the first violation, or "".
func notFailedOverFor(t *testing.T, s *localstack.Stack, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, e := range s.SFN.Executions(s.StateMachineARN) {
			if e.Status != "RUNNING" && e.Status != "SUCCEEDED" {
				return "execution " + e.Name + " ended " + e.Status + " " + e.Error
			}
		}
		if in, err := inRecovery(s.Nodes["node2"].PG.DSN(localstack.DatabaseName, pgharness.Superuser)); err == nil && !in {
			return "node2 left recovery"
		}
		if rec := clusterRecord(t, s); rec.PrimaryLease != nil && rec.PrimaryLease.Revoked() {
			return "node1's lease was revoked"
		}
		time.Sleep(200 * time.Millisecond) // observation window, not synchronisation
	}
	return ""
}

// ackedSince waits until the writer has n more acknowledged writes than
// before.
func ackedSince(t *testing.T, w *localstack.Writer, before, n int, limit time.Duration, what string) {
	t.Helper()
	waitFor(t, limit, what, func() bool { return len(w.Stats().Acked) >= before+n })
}

// TestFaultPostgresCrashRecoveredLocally: only node1's PostgreSQL dies
// (SIGKILL); its agent starts it again. Local recovery must win: no
// execution, no promotion, no acknowledged write lost.
func TestFaultPostgresCrashRecoveredLocally(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, localstack.Options{}, allRules)
	m := prepareWriting(t, s)
	w := s.StartWriter(s.ClientOverlay.Addr(), 50*time.Millisecond)
	ackedSince(t, w, 0, 20, 30*time.Second, "the first writes")
	node1 := s.Nodes["node1"]
	killed := time.Now()
	if err := node1.PG.Kill(); err != nil {
		t.Fatal(err)
	}
	dsn1 := node1.PG.DSN(localstack.DatabaseName, pgharness.Superuser)
	waitFor(t, 30*time.Second, "node1's agent to start PostgreSQL again, writable", func() bool {
		in, err := inRecovery(dsn1)
		return err == nil && !in
	})
	restarted := time.Since(killed)
	ackedSince(t, w, len(w.Stats().Acked), 20, 30*time.Second, "writes after the restart")
	if v := quietFor(t, s, 35*time.Second); v != "" {
		t.Errorf("after a local recovery: %s", v)
	}
	if rec := clusterRecord(t, s); rec.Primary != "node1" || rec.Epoch != 1 {
		t.Errorf("record: primary %s epoch %d, want node1 at epoch 1", rec.Primary, rec.Epoch)
	}
	acked, lost := writerOutcome(t, s, w, "node1")
	if *lost != 0 {
		t.Errorf("%d acknowledged writes lost", *lost)
	}
	sum, _ := executionsSoFar(s)
	reportFault(t, m, faultRow{Case: "primary PostgreSQL crash, local recovery succeeds",
		Expected: "agent restarts PostgreSQL; no failover; no loss",
		Observed: fmt.Sprintf("writable again after %s; %s; node2 standby", restarted.Round(100*time.Millisecond), sum),
		Acked:    acked, Lost: lost})
}

// TestFaultPostgresCrashRecoveryFails: node1's PostgreSQL dies and cannot
// start again (its configuration is broken). The heartbeat alarm fires and
// the failover promotes node2 once, with no acknowledged write lost.
func TestFaultPostgresCrashRecoveryFails(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, localstack.Options{}, allRules)
	m := prepareWriting(t, s)
	w := s.StartWriter(s.ClientOverlay.Addr(), 50*time.Millisecond)
	ackedSince(t, w, 0, 20, 30*time.Second, "the first writes")
	node1 := s.Nodes["node1"]
	conf, err := os.OpenFile(filepath.Join(node1.PG.DataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conf.WriteString("\nswitchyard_fault_matrix_broken_setting = on\n")
	if cerr := conf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := node1.PG.Kill(); err != nil {
		t.Fatal(err)
	}
	ag := node1.Agent()
	waitFor(t, 20*time.Second, "node1's agent to fail restarting PostgreSQL", func() bool {
		return strings.Contains(ag.Snapshot().Reason, "start failed")
	})
	// Both alarms see the loss: the heartbeat alarm (node1's Heartbeat 0,
	// sent at once) and the reachability alarm (node2 cannot reach node1).
	// Whichever execution takes the failover lock assesses and fails over;
	// another one finds the lock held and ends without assessing. Wait for
	// the one that assessed.
	var arn string
	waitFor(t, 3*time.Minute, "an alarm-started execution that assessed the loss to end", func() bool {
		for _, e := range s.SFN.Executions(s.StateMachineARN) {
			if e.Status == "RUNNING" {
				continue
			}
			info, _ := s.SFN.Execution(e.ARN)
			var out localExecution
			if e.Status != "SUCCEEDED" || (json.Unmarshal(info.Output, &out) == nil && out.Assessment != nil) {
				arn = e.ARN // a failed one too: requireSucceeded reports it
				return true
			}
		}
		return false
	})
	out := requireSucceeded(t, s, arn)
	if out.Assessment == nil || out.Assessment.Decision != "proceed" {
		t.Errorf("assessment %+v, want decision proceed", out.Assessment)
	}
	quiesce(t, s) // the other alarm's execution may still hold the lock
	rec := assertOnePromotion(t, s)
	ackedSince(t, w, len(w.Stats().Acked), 10, 30*time.Second, "writes on node2 through the overlay IP")
	acked, lost := writerOutcome(t, s, w, "node2")
	if *lost != 0 {
		t.Errorf("%d acknowledged writes lost under synchronous replication", *lost)
	}
	succeeded := 0
	for _, h := range rec.History {
		if h.Outcome == store.OutcomeSucceeded {
			succeeded++
		}
	}
	if succeeded != 1 {
		t.Errorf("%d successful failovers in the history, want 1", succeeded)
	}
	sum, _ := executionsSoFar(s)
	reportFault(t, m, faultRow{Case: "primary PostgreSQL crash, local recovery fails (config broken)",
		Expected: "alarm → failover; one promotion; no loss",
		Observed: fmt.Sprintf("%s; node2 primary, timeline 2", sum), Acked: acked, Lost: lost})
}

// TestFaultPrimaryCutOffFromRecord: node1's agent cannot reach DynamoDB.
// Its standby still streams from it (failsafe), so it keeps serving; the
// heartbeats go on, so nothing fails over; once healed, it renews again.
func TestFaultPrimaryCutOffFromRecord(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, localstack.Options{}, allRules)
	m := prepareWriting(t, s)
	w := s.StartWriter(s.ClientOverlay.Addr(), 50*time.Millisecond)
	ackedSince(t, w, 0, 20, 30*time.Second, "the first writes")
	id := s.Server.Faults().Add(localaws.Fault{Service: "dynamodb", AccessKeyID: localstack.AgentCaller("node1"), Partition: true})
	ag := s.Nodes["node1"].Agent()
	lease := clusterRecord(t, s).PrimaryLease.Expires
	waitFor(t, 30*time.Second, "node1's lease to expire unrenewed and its agent to serve on failsafe", func() bool {
		return time.Now().After(lease) && ag.Snapshot().Failsafe
	})
	before := len(w.Stats().Acked)
	v := quietFor(t, s, 20*time.Second)
	if v != "" {
		t.Errorf("primary cut off from the record only: %s", v)
	}
	served := len(w.Stats().Acked) - before
	if served < 50 {
		t.Errorf("only %d writes acknowledged in 20 s on failsafe", served)
	}
	snap := ag.Snapshot()
	if snap.State != agent.StatePrimary {
		t.Errorf("node1's agent: %s (%q), want primary on failsafe", snap.State, snap.Reason)
	}
	s.Server.Faults().Remove(id)
	waitFor(t, 30*time.Second, "node1's agent to renew its lease again", func() bool {
		rec := clusterRecord(t, s)
		return rec.PrimaryLease != nil && rec.PrimaryLease.Node == "node1" && rec.PrimaryLease.Expires.After(time.Now())
	})
	acked, lost := writerOutcome(t, s, w, "node1")
	if *lost != 0 {
		t.Errorf("%d acknowledged writes lost", *lost)
	}
	sum, _ := executionsSoFar(s)
	reportFault(t, m, faultRow{Case: "primary cut off from the cluster record only",
		Expected: "agent keeps serving (failsafe); no failover; renews after heal",
		Observed: fmt.Sprintf("failsafe, %d writes in 20 s past lease expiry; %s; lease renewed after heal", served, sum),
		Acked:    acked, Lost: lost})
}

// TestFaultPrimaryCutOffFromStandby: the replication path alone is cut.
// The primary is healthy and its heartbeats go on: no failover. The
// standby cannot reach it, so the reachability alarm may start an
// execution; Assess finds the primary alive and nothing is changed. Under
// synchronous replication ("available" policy) commits wait until the
// agent marks the standby ineligible and degrades; asynchronous commits go
// on at once.
func TestFaultPrimaryCutOffFromStandby(t *testing.T) {
	t.Parallel()
	for _, async := range []bool{false, true} {
		name := map[bool]string{false: "sync", true: "async"}[async]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := startFaultStack(t, localstack.Options{Async: async}, allRules)
			if err := s.PrepareWriterTable(ctx); err != nil {
				t.Fatal(err)
			}
			m := startDualMonitor(t, s)
			w := s.StartWriter(s.ClientOverlay.Addr(), 50*time.Millisecond)
			ackedSince(t, w, 0, 20, 30*time.Second, "the first writes")
			s.Replication.Cut(dataplane.Refuse)
			before := len(w.Stats().Acked)
			if v := notFailedOverFor(t, s, 25*time.Second); v != "" {
				t.Errorf("primary cut off from its standby only: %s", v)
			}
			after := len(w.Stats().Acked) - before
			if after < 50 {
				t.Errorf("only %d writes acknowledged in the 25 s after the cut", after)
			}
			rec := clusterRecord(t, s)
			eligible := rec.Standby != nil && rec.Standby.Eligible
			if !async && eligible {
				t.Errorf("the standby is still recorded eligible 25 s after the cut, while commits go on")
			}
			outage := w.Stats().Outage
			s.Replication.Heal()
			acked, lost := writerOutcome(t, s, w, "node1")
			if *lost != 0 {
				t.Errorf("%d acknowledged writes lost", *lost)
			}
			sum, _ := executionsSoFar(s)
			assertCallsAllowed(t, s) // the reachability alarm's re-arm included
			reportFault(t, m, faultRow{Case: "primary cut off from its standby only (" + name + ")",
				Expected: map[bool]string{false: "commits wait, then degrade (standby ineligible); no failover", true: "writes go on; no failover"}[async] + " (a reachability alarm is assessed as not needed)",
				Observed: fmt.Sprintf("%d writes in 25 s after the cut, longest outage %s, standby eligible %t; %s", after, outage.Round(10*time.Millisecond), eligible, sum),
				Acked:    acked, Lost: lost})
		})
	}
}

// TestFaultStandbyDown: node2 (PostgreSQL and agent) dies. The primary
// keeps serving after degrading; nothing fails over.
func TestFaultStandbyDown(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, localstack.Options{}, allRules)
	m := prepareWriting(t, s)
	w := s.StartWriter(s.ClientOverlay.Addr(), 50*time.Millisecond)
	ackedSince(t, w, 0, 20, 30*time.Second, "the first writes")
	if err := s.Crash("node2"); err != nil {
		t.Fatal(err)
	}
	before := len(w.Stats().Acked)
	ackedSince(t, w, before, 50, 30*time.Second, "writes on node1 with its standby down")
	var v string
	if sum, n := executionsSoFar(s); n > 0 {
		v = "execution started: " + sum
	}
	deadline := time.Now().Add(20 * time.Second)
	for v == "" && time.Now().Before(deadline) {
		if sum, n := executionsSoFar(s); n > 0 {
			v = "execution started: " + sum
		}
		time.Sleep(200 * time.Millisecond) // observation window
	}
	if v != "" {
		t.Errorf("standby down: %s", v)
	}
	if rec := clusterRecord(t, s); rec.Primary != "node1" || rec.Epoch != 1 {
		t.Errorf("record: primary %s epoch %d", rec.Primary, rec.Epoch)
	}
	outage := w.Stats().Outage
	acked, lost := writerOutcome(t, s, w, "node1")
	if *lost != 0 {
		t.Errorf("%d acknowledged writes lost", *lost)
	}
	sum, _ := executionsSoFar(s)
	reportFault(t, m, faultRow{Case: "standby down (node2 crashed)",
		Expected: "primary degrades and keeps serving; no failover",
		Observed: fmt.Sprintf("writes resumed (longest outage %s); %s", outage.Round(10*time.Millisecond), sum),
		Acked:    acked, Lost: lost})
}

// TestFaultSecondFailureNoStandby: after a completed failover node2 dies
// too, while node1 is fenced (stopped, lacking node2's writes). Every
// trigger is refused with a reason naming node1; nothing is promoted;
// status says DOWN; the repeated refusals do not flood the history.
func TestFaultSecondFailureNoStandby(t *testing.T) {
	t.Parallel()
	s := startStack(t, localstack.Options{})
	m := startDualMonitor(t, s)
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	manual := readEvent(t, s, "manual-failover.json")
	requireSucceeded(t, s, startExecution(t, s, "first-failure", manual))
	if err := s.Crash("node2"); err != nil {
		t.Fatal(err)
	}
	lease := clusterRecord(t, s).PrimaryLease
	waitFor(t, 30*time.Second, "node2's primary lease to expire", func() bool {
		return time.Now().After(s.Config.EarliestPromotion(lease.Expires))
	})
	historyBefore := len(clusterRecord(t, s).History)
	var causes []string
	for i := range 3 {
		arn := startExecution(t, s, fmt.Sprintf("second-failure-%d", i), manual)
		status := waitExecution(t, s, arn)
		info, _ := s.SFN.Execution(arn)
		causes = append(causes, info.Error+": "+info.Cause)
		if status != "FAILED" || info.Error != "FailoverRefused" || !strings.Contains(info.Cause, "node1") {
			t.Errorf("trigger %d with no standby: %s %s: %s; want FAILED FailoverRefused naming node1", i, status, info.Error, info.Cause)
		}
	}
	t.Logf("refusal: %s", causes[0])
	if s.Nodes["node1"].PG.Running() {
		t.Error("node1's PostgreSQL runs: the fenced former primary was started")
	}
	rec := clusterRecord(t, s)
	if rec.Primary != "node2" || rec.Lock != nil {
		t.Errorf("record: primary %s lock %+v; want node2 (down) and no lock", rec.Primary, rec.Lock)
	}
	// Not flooded: repeats of one situation coalesce (only their wording
	// may split them, e.g. two phrasings of a reset connection), routine
	// entries are bounded, and the failover stays in the history.
	routine, committed := 0, false
	for _, h := range rec.History {
		if h.Routine() {
			routine++
		}
		committed = committed || (h.Committed && h.Outcome == store.OutcomeSucceeded)
	}
	if grown := len(rec.History) - historyBefore; grown < 1 || grown > 3 || routine > store.MaxRoutine || !committed {
		t.Errorf("3 refusals: history grew by %d entries (want 1 to 3), %d routine entries (bound %d), failover kept %t: %+v",
			grown, routine, store.MaxRoutine, committed, rec.History[historyBefore:])
	}
	health := statusHealth(t, s)
	if health != "DOWN" {
		t.Errorf("switchyard status: health %q, want DOWN", health)
	}
	reportFault(t, m, faultRow{Case: "second failure, no standby (node2 dies, node1 fenced)",
		Expected: "refused with a reason; status DOWN; no promotion; history not flooded",
		Observed: fmt.Sprintf("3×FailoverRefused; status %s; history +%d entry", health, len(rec.History)-historyBefore)})
}

// statusHealth runs `switchyard status --json` against the emulator and
// returns its health state.
func statusHealth(t *testing.T, s *localstack.Stack) string {
	t.Helper()
	stdout := runStatus(t, s, "--json")
	var out struct {
		Health struct {
			State string   `json:"state"`
			Why   []string `json:"why"`
		} `json:"health"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("status output: %v: %s", err, stdout)
	}
	t.Logf("status: %s: %s", out.Health.State, strings.Join(out.Health.Why, "; "))
	return out.Health.State
}

// runStatus runs `switchyard status` against the emulator with the
// cluster's configuration (for the routing table) and returns its output;
// an unhealthy verdict (its exit code) is not an error here.
func runStatus(t *testing.T, s *localstack.Stack, args ...string) string {
	t.Helper()
	cfg, err := json.Marshal(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = cli.Execute(context.Background(), append([]string{"--endpoint-url", s.Endpoint, "status",
		"--cluster", s.Config.Name, "--config", path}, args...), cli.Options{Stdout: &stdout, Stderr: &stderr,
		AWSConfig: []func(*config.LoadOptions) error{config.WithRegion(s.Topology.Region),
			config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "operator", SecretAccessKey: "local", Source: "test"}, nil
			}))}})
	var unhealthy *cli.HealthError
	if err != nil && !errors.As(err, &unhealthy) {
		t.Fatalf("switchyard status: %v: %s", err, stderr.String())
	}
	return stdout.String()
}

// TestFaultStandbyRestartsWhilePrimaryDown: node1 dies, then node2's
// PostgreSQL restarts before the failover runs (its agent starts it
// again). A restarted standby with no upstream reports as received the
// start of its WAL segment, below what it replayed: under synchronous
// replication, weighed by that, it would look behind and the failover
// would be refused. It must proceed, with nothing lost.
func TestFaultStandbyRestartsWhilePrimaryDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startStack(t, localstack.Options{})
	m := prepareWriting(t, s)
	w := s.StartWriter(s.ClientOverlay.Addr(), 20*time.Millisecond)
	ackedSince(t, w, 0, 50, 30*time.Second, "the first writes")
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	node2 := s.Nodes["node2"]
	if err := node2.PG.Kill(); err != nil {
		t.Fatal(err)
	}
	dsn2 := node2.PG.DSN(localstack.DatabaseName, pgharness.Superuser)
	var received, replayed string
	waitFor(t, 30*time.Second, "node2's agent to start its PostgreSQL again, as a standby", func() bool {
		conn, err := pgx.Connect(ctx, dsn2)
		if err != nil {
			return false
		}
		defer conn.Close(ctx)
		err = conn.QueryRow(ctx, "SELECT coalesce(pg_last_wal_receive_lsn()::text, ''), coalesce(pg_last_wal_replay_lsn()::text, '') WHERE pg_is_in_recovery()").Scan(&received, &replayed)
		return err == nil && received != ""
	})
	t.Logf("node2 restarted: received %s, replayed %s", received, replayed)

	out := requireSucceeded(t, s, startExecution(t, s, "standby-restarted", readEvent(t, s, "manual-failover.json")))
	lag := int64(-1)
	if out.Assessment != nil {
		lag = out.Assessment.LagBytes
	}
	if in, err := inRecovery(dsn2); err != nil || in {
		t.Fatalf("node2 after the failover: in recovery %t (%v), want promoted", in, err)
	}
	acked, lost := writerOutcome(t, s, w, "node2")
	if *lost != 0 {
		t.Errorf("%d acknowledged writes lost", *lost)
	}
	reportFault(t, m, faultRow{Case: "standby PostgreSQL restarts while the primary is down (sync)",
		Expected: "failover proceeds on what the standby replayed; no loss",
		Observed: fmt.Sprintf("restarted node2 reported received %s, replayed %s; promoted, assessed lag %d bytes", received, replayed, lag),
		Acked:    acked, Lost: lost})
}
