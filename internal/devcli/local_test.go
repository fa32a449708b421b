package devcli_test

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/store"
)

const referenceTopology = "../../testdata/topology/reference.yaml"

var endpointLine = regexp.MustCompile(`AWS emulator listening on (http://127\.0\.0\.1:\d+)\n`)

// local aws serves the topology to the real SDK on a free port until its
// context ends.
func TestLocalAWSServesTopologyUntilCancelled(t *testing.T) {
	topo, err := localaws.LoadTopology(referenceTopology)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- cli.Execute(ctx, []string{"local", "aws", "--topology", referenceTopology,
			"--listen", "127.0.0.1:0", "--table", "switchyard-local"}, testOptions(&stdout, &stderr))
	}()
	var endpoint string
	waitFor(t, "the emulator's endpoint line", func() bool {
		if m := endpointLine.FindStringSubmatch(stdout.String()); m != nil {
			endpoint = m[1]
			return true
		}
		select {
		case err := <-done:
			t.Fatalf("local aws ended before serving: %v\n%s", err, stderr.String())
		default:
		}
		return false
	})
	mustContain(t, "local aws output", stdout.String(), "export AWS_ENDPOINT_URL="+endpoint,
		"AWS_REGION=us-east-1", "table switchyard-local created")

	clients, err := awsall.NewClients(ctx, awsall.LocalConfig(endpoint, "us-east-1", "AKIDLOCAL")...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := clients.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{})
	if err != nil {
		t.Fatalf("DescribeRouteTables against local aws: %v", err)
	}
	var got, want []string
	for _, rt := range out.RouteTables {
		got = append(got, aws.ToString(rt.RouteTableId))
	}
	for _, rt := range topo.RouteTables {
		want = append(want, rt.ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("route tables = %v, want the topology's %v", got, want)
	}
	// The --table table holds cluster records.
	st := store.New(clients.DynamoDB, "switchyard-local")
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatalf("initialising a record in the --table table: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("local aws returned %v after cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("local aws did not stop after its context was cancelled")
	}
	noRetry := func(o *ec2.Options) { o.RetryMaxAttempts = 1 }
	if _, err := clients.EC2.DescribeRouteTables(context.Background(), &ec2.DescribeRouteTablesInput{}, noRetry); err == nil {
		t.Error("the emulator still answers after local aws returned")
	}
}

func TestLocalAWSRejectsBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"local", "aws"}, "--topology is required"},
		{[]string{"local", "aws", "--topology", "testdata/missing.yaml"}, "--topology: "},
		{[]string{"local", "aws", "--topology", "testdata/cluster.json"}, "declares no VPC, hosted zone or secret"},
		{[]string{"local", "aws", "--topology", referenceTopology, "--listen", "4566"}, `--listen "4566" is not host:port`},
		{[]string{"local", "aws", "--topology", referenceTopology, "--listen", "127.0.0.1:0", "--table", "x"}, "3 to 255 characters"},
		{[]string{"local", "gcp"}, `unknown command "gcp" for "switchyard local"`},
	}
	for _, tc := range cases {
		res := runCLI(t, tc.args...)
		if res.code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want %d; stderr: %s", tc.args, res.code, cli.ExitUsage, res.stderr)
		}
		mustContain(t, "stderr", res.stderr, tc.want)
	}
}
