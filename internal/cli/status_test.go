package cli_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/cli"
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
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	mustContain(t, "status", res.stdout, "cluster  demo", "primary  node1", "epoch    2",
		"held by "+running+" until "+rec.Lock.Expires.UTC().Format(time.RFC3339), "(in ",
		"running executions of "+arn, "running-failover", running)
	if strings.Contains(res.stdout, stopped) {
		t.Errorf("status lists the stopped execution %s:\n%s", stopped, res.stdout)
	}

	res = em.run(t, "status", "--cluster", "demo", "--table", testTable, "--state-machine-arn", arn, "--json")
	if res.code != cli.ExitOK {
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
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	mustContain(t, "status", res.stdout, "epoch    1", "lease    free")
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
		{[]string{"status", "--cluster", "demo"}, "--table is required"},
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
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	mustContain(t, "status", res.stdout, "primary  node2")
}
