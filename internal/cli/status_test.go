package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/store"
)

func TestStatusShowsRecordLeaseAndRunningExecutions(t *testing.T) {
	em := newEmulator(t)
	ctx := context.Background()
	arn := em.machine(t, "switchyard-failover", holdDefinition)
	running, err := em.sfn.Start(ctx, arn, "running-failover", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := em.sfn.Start(ctx, arn, "stopped-failover", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sfnClient(t, em).StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(stopped)}); err != nil {
		t.Fatal(err)
	}
	st := em.store(t)
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	rec, err := st.AcquireLock(ctx, "demo", running, 5*time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	res := em.run(t, "status", "--cluster", "demo", "--table", testTable, "--state-machine-arn", arn)
	if res.code != cli.ExitDegraded {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	mustContain(t, "status", res.stdout, "cluster  demo", "primary  node1", "epoch    2",
		"held by "+running+" until "+rec.Lock.Expires.UTC().Format(time.RFC3339), "(in ",
		"running executions of "+arn, "running-failover", running)
	if strings.Contains(res.stdout, stopped) {
		t.Errorf("status lists the stopped execution %s:\n%s", stopped, res.stdout)
	}

	res = em.run(t, "status", "--cluster", "demo", "--table", testTable, "--state-machine-arn", arn, "--json")
	if res.code != cli.ExitDegraded {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	var doc struct {
		Cluster, Primary string
		Epoch            int64
		Lease            *struct {
			Holder  string
			Expires time.Time
			Active  bool
		}
		RunningExecutions []struct{ Name, ExecutionARN string }
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s", err, res.stdout)
	}
	if doc.Cluster != "demo" || doc.Primary != "node1" || doc.Epoch != 2 || doc.Lease == nil ||
		doc.Lease.Holder != running || !doc.Lease.Active || !doc.Lease.Expires.Equal(rec.Lock.Expires) {
		t.Errorf("status --json = %+v (lease %+v), want demo/node1/epoch 2 leased to %s", doc, doc.Lease, running)
	}
	if len(doc.RunningExecutions) != 1 || doc.RunningExecutions[0].ExecutionARN != running {
		t.Errorf("runningExecutions = %+v, want only %s", doc.RunningExecutions, running)
	}
}

func TestStatusFreeAndExpiredLease(t *testing.T) {
	em := newEmulator(t)
	ctx := context.Background()
	st := em.store(t)
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	res := em.run(t, "status", "--cluster", "demo", "--table", testTable)
	if res.code != cli.ExitDown {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	mustContain(t, "status", res.stdout, "epoch    1", "lock     free")
	if strings.Contains(res.stdout, "running executions") {
		t.Errorf("status without --state-machine-arn lists executions:\n%s", res.stdout)
	}

	holder := "arn:aws:states:us-east-1:123456789012:execution:switchyard-failover:crashed"
	if _, err := st.AcquireLock(ctx, "demo", holder, time.Minute, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	res = em.run(t, "status", "--cluster", "demo", "--table", testTable)
	mustContain(t, "status", res.stdout, "expired: held by "+holder, " ago)", "the next failover takes it over")
}

func TestStatusNamesWhatIsMissing(t *testing.T) {
	em := newEmulator(t)
	res := em.run(t, "status", "--cluster", "ghost", "--table", testTable)
	if res.code != cli.ExitFailure {
		t.Fatalf("exit %d, want %d", res.code, cli.ExitFailure)
	}
	mustContain(t, "stderr", res.stderr, `cluster "ghost" has no record in table `+testTable)

	res = em.run(t, "status", "--cluster", "demo", "--table", "no-such-table")
	if res.code != cli.ExitFailure {
		t.Fatalf("exit %d, want %d", res.code, cli.ExitFailure)
	}
	mustContain(t, "stderr", res.stderr, "table no-such-table does not exist at "+em.url, "ResourceNotFoundException")
}

func TestStatusRejectsBadInput(t *testing.T) {
	em := newEmulator(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"status", "--table", testTable}, "--cluster is required"},
		{[]string{"status", "--cluster", "demo", "--table", "t"}, "3 to 255 characters"},
		{[]string{"status", "--cluster", "demo", "--table", "my table"}, `contains ' '`},
		{[]string{"status", "--cluster", "demo", "--table", testTable, "--state-machine-arn", "nope"}, "is not an ARN"},
	}
	for _, tc := range cases {
		res := em.run(t, tc.args...)
		if res.code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want %d; stderr: %s", tc.args, res.code, cli.ExitUsage, res.stderr)
		}
		mustContain(t, "stderr", res.stderr, tc.want)
	}
	if calls := em.srv.Calls(); len(calls) != 0 {
		t.Errorf("bad input made AWS calls: %v", callNames(calls))
	}
}

// Without --endpoint-url the clients honour AWS_ENDPOINT_URL, as the SDK
// documents.
func TestStatusHonoursAWSEndpointURL(t *testing.T) {
	em := newEmulator(t)
	if _, err := em.store(t).Init(context.Background(), "demo", "node2"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", em.url)
	res := runCLI(t, "status", "--cluster", "demo", "--table", testTable)
	if res.code != cli.ExitDown {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	mustContain(t, "status", res.stdout, "primary  node2")
}

var healthNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const failoverExec = "arn:aws:states:us-east-1:123456789012:execution:switchyard-failover:failover-1"

// failedOver records a completed failover node1→node2 in which node2's
// first lease was granted at granted for leaseFor, and then refusals
// refusals, one a minute: node1 is the former primary, never rejoined.
func failedOver(t *testing.T, em *emulator, granted time.Time, leaseFor time.Duration, refusals int) {
	t.Helper()
	ctx := context.Background()
	st := em.store(t)
	st.Now = func() time.Time { return granted }
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RenewPrimaryLease(ctx, "demo", store.Renewal{Node: "node1", Now: granted.Add(-time.Minute), Duration: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	held, err := st.AcquireLock(ctx, "demo", failoverExec, 15*time.Minute, granted)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokePrimaryLease(ctx, "demo", failoverExec, held.Epoch, granted); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkHardFenced(ctx, "demo", failoverExec, held.Epoch); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GrantPrimary(ctx, "demo", store.Grant{Holder: failoverExec, Epoch: held.Epoch, NewPrimary: "node2", Now: granted, Duration: leaseFor}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx, "demo", failoverExec, "node2", store.HistoryEntry{Action: store.ActionFailover, From: "node1",
		Outcome: store.OutcomeSucceeded, Reason: "node1 lost", StartedAt: granted}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= refusals; i++ {
		at := granted.Add(time.Duration(i) * time.Minute)
		st.Now = func() time.Time { return at }
		exec := fmt.Sprintf("%s-refused-%d", failoverExec, i)
		held, err := st.AcquireLock(ctx, "demo", exec, 15*time.Minute, at)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Release(ctx, "demo", exec, store.HistoryEntry{Action: store.ActionFailover, From: "node2", To: "node1",
			Outcome: store.OutcomeRefused, Epoch: held.Epoch, Steps: []string{"lease", "assess"},
			Reason: fmt.Sprintf("standby node1 is not eligible; primary heartbeat %ds old", 60*i)}); err != nil {
			t.Fatal(err)
		}
	}
}

type statusHealth struct {
	Health struct {
		State   string
		Why     []string
		FixNote string
		Fix     string
	}
}

func statusJSON(t *testing.T, em *emulator, args ...string) statusHealth {
	t.Helper()
	res := em.run(t, append([]string{"status", "--cluster", "demo", "--table", testTable, "--json"}, args...)...)
	if res.code != cli.ExitOK && res.code != cli.ExitDegraded && res.code != cli.ExitDown {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	var doc statusHealth
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s", err, res.stdout)
	}
	return doc
}

// The measured case: after a failover the former primary was never
// rejoined, then the new primary was lost: every failover is refused.
func TestStatusSaysDownWhenPrimaryIsLostAndNoStandbyCanTakeOver(t *testing.T) {
	em := newEmulator(t)
	em.now = func() time.Time { return healthNow }
	failedOver(t, em, healthNow.Add(-time.Hour), 10*time.Second, 3)

	res := em.run(t, "status", "--cluster", "demo", "--table", testTable)
	if res.code != cli.ExitDown {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	mustContain(t, "status", res.stdout, "primary  node2", "health   DOWN",
		"primary node2 is not writable or unreachable: its lease expired at 2026-03-01T11:00:10Z (59m50s ago)",
		"no standby can take over: node1 is the former primary and has not been rejoined",
		"the last failover was refused 3 times since 2026-03-01T11:01:00Z: standby node1 is not eligible; primary heartbeat 180s old",
		"fix      bring node2 back (start its instance first if it is stopped); on node2:",
		"systemctl start switchyard-nodeprobe.service")

	doc := statusJSON(t, em)
	if doc.Health.State != "DOWN" || doc.Health.Fix != "systemctl start switchyard-nodeprobe.service" || len(doc.Health.Why) != 3 {
		t.Errorf("status --json health = %+v", doc.Health)
	}
}

func TestStatusDegradedUntilTheFormerPrimaryRejoins(t *testing.T) {
	em := newEmulator(t)
	em.now = func() time.Time { return healthNow }
	failedOver(t, em, healthNow.Add(-time.Minute), time.Hour, 0)

	res := em.run(t, "status", "--cluster", "demo", "--table", testTable)
	mustContain(t, "status", res.stdout, "health   degraded",
		"primary node2 is writable: its lease runs until 2026-03-01T12:59:00Z (renewed 1m0s ago)",
		"no standby can take over: node1 is the former primary",
		"fix      rejoin node1 as a standby (docs/operations.md#re-joining-the-old-primary-as-a-standby",
		"switchyard rejoin node1 --cluster demo")
}

// A failover that revoked the primary's lease and ended before promoting
// leaves no writable primary: status names the command that resumes it.
func TestStatusDownAfterAFailoverStrandedAfterFence(t *testing.T) {
	em := newEmulator(t)
	em.now = func() time.Time { return healthNow }
	ctx := context.Background()
	st := em.store(t)
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RenewPrimaryLease(ctx, "demo", store.Renewal{Node: "node1", Now: healthNow.Add(-time.Minute), Duration: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	held, err := st.AcquireLock(ctx, "demo", failoverExec, 15*time.Minute, healthNow.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokePrimaryLease(ctx, "demo", failoverExec, held.Epoch, healthNow.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Release(ctx, "demo", failoverExec, store.HistoryEntry{Action: store.ActionFailover, Outcome: store.OutcomeFailed,
		Reason: "stopped at step promote"}); err != nil {
		t.Fatal(err)
	}
	arn := em.machine(t, "switchyard-failover", holdDefinition)
	res := em.run(t, "status", "--cluster", "demo", "--table", testTable)
	mustContain(t, "status", res.stdout, "health   DOWN", "primary node1 is fenced: its lease was revoked by "+failoverExec,
		"the one that fenced it ended without promoting a standby",
		"switchyard failover --state-machine-arn <state machine ARN> --cluster demo")
	doc := statusJSON(t, em, "--state-machine-arn", arn)
	if doc.Health.State != "DOWN" || !strings.HasPrefix(doc.Health.Fix, "switchyard failover --state-machine-arn "+arn+" --cluster demo ") {
		t.Errorf("status --json health = %+v", doc.Health)
	}
}

func TestStatusOKWithAValidLeaseAndEligibleStandby(t *testing.T) {
	em := newEmulator(t)
	em.now = func() time.Time { return healthNow }
	ctx := context.Background()
	st := em.store(t)
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RenewPrimaryLease(ctx, "demo", store.Renewal{Node: "node1", Now: healthNow, Duration: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetStandbyEligibility(ctx, "demo", "node1", "node2", true, "synchronous standby, streaming, caught up", healthNow); err != nil {
		t.Fatal(err)
	}
	res := em.run(t, "status", "--cluster", "demo", "--table", testTable)
	mustContain(t, "status", res.stdout, "health   ok", "primary node1 is writable")
	if strings.Contains(res.stdout, "fix") {
		t.Errorf("a healthy cluster gets a fix:\n%s", res.stdout)
	}
}

// A failover that granted the primary role and ended before committing
// leaves a handover pending: status says so and names the resuming command.
func TestStatusNamesAPendingHandover(t *testing.T) {
	em := newEmulator(t)
	em.now = func() time.Time { return healthNow }
	ctx := context.Background()
	st := em.store(t)
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	held, err := st.AcquireLock(ctx, "demo", failoverExec, time.Minute, healthNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokePrimaryLease(ctx, "demo", failoverExec, held.Epoch, healthNow.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkHardFenced(ctx, "demo", failoverExec, held.Epoch); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GrantPrimary(ctx, "demo", store.Grant{Holder: failoverExec, Epoch: held.Epoch, NewPrimary: "node2", Now: healthNow.Add(-time.Hour), Duration: time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RenewPrimaryLease(ctx, "demo", store.Renewal{Node: "node2", Now: healthNow, Duration: time.Minute}); err != nil {
		t.Fatal(err)
	}
	res := em.run(t, "status", "--cluster", "demo", "--table", testTable)
	mustContain(t, "status", res.stdout, "health   degraded",
		"execution "+failoverExec+" handed the primary role from node1 to node2 and ended before finishing",
		"start a failover: it resumes the handover", "switchyard failover --state-machine-arn <state machine ARN> --cluster demo")
}
