package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/cli"
)

// discover finds the reference account's pair by tag and prints the ids
// the sample configuration holds, the route table a failover rewrites, and
// the parameters to deploy with.
func TestDiscoverFindsThePairByTag(t *testing.T) {
	url, _ := referenceAccount(t)
	args := []string{"--endpoint-url", url, "discover", "--cluster", "pg", "--node-tag-key", "Name", "--overlay-cidr", "10.1.0.10/32"}
	res := runCLI(t, args...)
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	mustContain(t, "discover", res.stdout,
		"node1  i-0c460e6afa6d2ca4c  running  us-east-1a",
		"eni-0d132fa596468253e  primary interface  10.0.2.10",
		"route tables with 10.1.0.10/32",
		"Node1Name=node1 Node1InstanceId=i-0c460e6afa6d2ca4c Node1EniId=eni-0d132fa596468253e Node1PrivateIp=10.0.2.10 Node1AvailabilityZone=us-east-1a Node2Name=node2",
		`"postgresAddr": "10.0.12.10:5432"`)

	res = runCLI(t, append([]string{"--output", "json"}, append(args, "--primary", "node2")...)...)
	var out struct {
		Nodes       []struct{ Name, InstanceID string }
		RouteTables []struct{ RouteTableID, Target string }
		Parameters  []struct{ Key, Value string }
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || res.code != cli.ExitOK {
		t.Fatalf("--json: exit %d, %v\n%s", res.code, err, res.stdout)
	}
	if len(out.Nodes) != 2 || out.Nodes[0].Name != "node2" || len(out.RouteTables) == 0 || out.Parameters[0].Value != "node2" {
		t.Errorf("--json --primary node2: %+v", out)
	}
}

func TestDiscoverRefusals(t *testing.T) {
	url, _ := referenceAccount(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"discover"}, cli.ExitUsage, "--cluster or --tag is required"},
		{[]string{"discover", "--tag", "switchyard:cluster"}, cli.ExitUsage, `--tag: tag "switchyard:cluster" is not key=value`},
		{[]string{"discover", "--cluster", "pg", "--eni-tag", "=x"}, cli.ExitUsage, "--eni-tag"},
		{[]string{"discover", "--cluster", "pg", "--overlay-cidr", "10.1.0.0/24"}, cli.ExitUsage, "not an IPv4 /32"},
		{[]string{"discover", "--cluster", "pg", "--port", "0"}, cli.ExitUsage, "--port 0 is not a TCP port"},
		{[]string{"discover", "--cluster", "prod"}, cli.ExitFailure, "0 live instances carry switchyard:cluster=prod, want exactly 2"},
		{[]string{"discover", "--cluster", "pg"}, cli.ExitFailure, "has no switchyard:node tag naming its node"},
	}
	for _, c := range cases {
		res := runCLI(t, append([]string{"--endpoint-url", url}, c.args...)...)
		if res.code != c.code || !strings.Contains(res.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", c.args, res.code, res.stderr, c.code, c.want)
		}
	}
}
