package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/refaccount"
	"github.com/switchyard/switchyard/internal/localaws/smsim"
	"github.com/switchyard/switchyard/internal/pgharness"
)

// Ids of the reference topology (testdata/topology/reference.yaml).
const (
	refSubnetA2 = "subnet-0374f21a8e1c22245"
	refSubnetC2 = "subnet-02fd220bb4a543de2"
	refSGDB     = "sg-09c713cc03fd876eb"
	refSGLambda = "sg-0e57c1a9b2d3f4086"
)

var sampleConfig = filepath.Join("..", "..", "events", "cluster-config.json")

// referenceAccount serves EC2, Route 53 and Secrets Manager seeded with the
// reference topology, which events/cluster-config.json describes.
func referenceAccount(t *testing.T) (url string, clients *awsall.Clients) {
	t.Helper()
	url, clients, _ = referenceAccountWith(t, nil)
	return url, clients
}

// referenceAccountWith is referenceAccount with the topology changed by
// edit first; it also returns the emulated Secrets Manager.
func referenceAccountWith(t *testing.T, edit func(*localaws.Topology)) (string, *awsall.Clients, *smsim.Service) {
	t.Helper()
	a := refaccount.Serve(t, filepath.Join("..", ".."), "AKIDSEED", edit)
	return a.URL, a.Clients, a.Secrets
}

// sampleConfigWith writes the sample configuration, changed by edit, to a
// temporary file.
func sampleConfigWith(t *testing.T, edit func(*cluster.Config)) string {
	t.Helper()
	cfg, err := cluster.Load(sampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidateChecksTheAccount(t *testing.T) {
	url, clients := referenceAccount(t)
	res := runCLI(t, "--endpoint-url", url, "validate", "--config", sampleConfig,
		"--lambda-subnets", refSubnetA2+","+refSubnetC2, "--lambda-security-groups", refSGLambda)
	if res.code != cli.ExitOK {
		t.Fatalf("reference account: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	mustContain(t, "validate", res.stdout, "ok    overlay routes", "ok    Lambda subnet "+refSubnetA2, "warn  record pg.db.switchyard.internal.",
		"EC2, CloudWatch, DynamoDB, Secrets Manager, Route 53 via NAT nat-", "ok    Lambda security groups",
		"ok    security groups node1", "ok    security groups node2", refSGDB+" admits TCP 5432 from "+refSGLambda)

	if _, err := clients.EC2.ModifyNetworkInterfaceAttribute(context.Background(), &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String("eni-069d21676ba6be710"), SourceDestCheck: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, "--endpoint-url", url, "validate", "--config", sampleConfig)
	if res.code != cli.ExitFailure || !strings.Contains(res.stderr, "1 of ") {
		t.Fatalf("source/destination check on: exit %d, stderr %s", res.code, res.stderr)
	}
	mustContain(t, "validate", res.stdout, "FAIL  network interface node2", "fix: aws ec2 modify-network-interface-attribute --network-interface-id eni-069d21676ba6be710 --no-source-dest-check")

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"validate"}, "--config is required"},
		{[]string{"validate", "--config", filepath.Join(t.TempDir(), "none.json")}, "--config"},
		{[]string{"validate", "--config", sampleConfig, "--lambda-subnets", "sg-1"}, `"sg-1" is not a subnet id`},
		{[]string{"validate", "--config", sampleConfig, "--lambda-security-groups", refSubnetA2}, `--lambda-security-groups: "` + refSubnetA2 + `" is not a security group id`},
		{[]string{"validate", "--config", sampleConfig, "--connect=maybe"}, "--connect"},
	} {
		if res := runCLI(t, append([]string{"--endpoint-url", url}, bad.args...)...); res.code != cli.ExitUsage || !strings.Contains(res.stderr, bad.want) {
			t.Errorf("%v: exit %d, stderr %q; want usage error %q", bad.args, res.code, res.stderr, bad.want)
		}
	}
}

// TestValidateNamesMissingNetworkPrerequisites: private subnets without a
// NAT and without the CloudWatch endpoint, and nodes whose group no longer
// admits the Lambdas, each FAIL with the command that fixes them.
func TestValidateNamesMissingNetworkPrerequisites(t *testing.T) {
	url, _, _ := referenceAccountWith(t, func(topo *localaws.Topology) {
		for i := range topo.RouteTables {
			topo.RouteTables[i].Routes = slices.DeleteFunc(topo.RouteTables[i].Routes, func(r localaws.Route) bool {
				return strings.HasPrefix(r.Target, "nat-")
			})
		}
		topo.SecurityGroups = append(topo.SecurityGroups, localaws.SecurityGroup{ID: "sg-0c0ffee0c0ffee001", VPCID: "vpc-07634a7d247151222",
			Ingress: []localaws.SecurityGroupRule{{Protocol: "tcp", FromPort: 443, Groups: []string{refSGLambda}}}})
		for id, svc := range map[string]string{"vpce-0e0000000000000c2": "ec2", "vpce-0e0000000000005e": "secretsmanager"} {
			topo.VPCEndpoints = append(topo.VPCEndpoints, localaws.VPCEndpoint{ID: id, VPCID: "vpc-07634a7d247151222",
				ServiceName: "com.amazonaws.us-east-1." + svc, SubnetIDs: []string{refSubnetA2, refSubnetC2}, Groups: []string{"sg-0c0ffee0c0ffee001"}})
		}
		topo.VPCEndpoints = append(topo.VPCEndpoints, localaws.VPCEndpoint{ID: "vpce-0e000000000000dd", VPCID: "vpc-07634a7d247151222",
			ServiceName: "com.amazonaws.us-east-1.dynamodb", Type: localaws.EndpointGateway,
			RouteTableIDs: []string{"rtb-0f8b6e0c9dcdab1f6", "rtb-05f660c2254f91c10"}})
		for i := range topo.SecurityGroups {
			if topo.SecurityGroups[i].ID == refSGDB {
				topo.SecurityGroups[i].Ingress = topo.SecurityGroups[i].Ingress[:1] // between the nodes only
			}
		}
	})
	config := sampleConfigWith(t, func(cfg *cluster.Config) { cfg.Routing.DNS = nil })
	res := runCLI(t, "--endpoint-url", url, "validate", "--config", config,
		"--lambda-subnets", refSubnetA2+","+refSubnetC2, "--lambda-security-groups", refSGLambda)
	if res.code != cli.ExitFailure || !strings.Contains(res.stderr, "4 of ") {
		t.Fatalf("exit %d, stderr %s\n%s", res.code, res.stderr, res.stdout)
	}
	mustContain(t, "validate", res.stdout,
		"FAIL  Lambda subnet "+refSubnetA2, "No NAT route and no VPC endpoint for CloudWatch (called by Assess)",
		"EC2 via interface endpoint vpce-0e0000000000000c2; ", "DynamoDB via gateway endpoint vpce-0e000000000000dd (route to pl-",
		"Secrets Manager via interface endpoint vpce-0e0000000000005e. No NAT route",
		"fix: aws ec2 create-vpc-endpoint --vpc-id vpc-07634a7d247151222 --vpc-endpoint-type Interface --service-name com.amazonaws.us-east-1.monitoring --subnet-ids "+refSubnetA2+" "+refSubnetC2,
		"FAIL  security groups node1", "FAIL  security groups node2",
		"fix: aws ec2 authorize-security-group-ingress --group-id "+refSGDB+" --protocol tcp --port 5432 --source-group "+refSGLambda)
}

// TestValidateConnect logs in to a real PostgreSQL pair with the secret
// the emulated Secrets Manager holds, then with a wrong password.
func TestValidateConnect(t *testing.T) {
	pair := pgharness.StartPairT(t, pgharness.PairOptions{})
	login := func(password string) string {
		return `{"username":"` + pair.Options.AppUser + `","password":"` + password + `"}`
	}
	url, _, sm := referenceAccountWith(t, func(topo *localaws.Topology) {
		topo.Secrets = []localaws.Secret{{Name: "switchyard/pg", Value: login(pair.Options.AppPassword)}}
	})
	config := sampleConfigWith(t, func(cfg *cluster.Config) {
		cfg.Nodes[0].PostgresAddr, cfg.Nodes[1].PostgresAddr = pair.Primary.Addr(), pair.Standby.Addr()
		cfg.Database.Name, cfg.Database.SSLMode = pair.Options.Database, "disable" // the harness serves no TLS
	})
	res := runCLI(t, "--endpoint-url", url, "validate", "--config", config, "--connect")
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	mustContain(t, "validate --connect", res.stdout, "ok    database secret switchyard/pg", "login app (password not shown)",
		"ok    database login node1", "logged in as app to app at "+pair.Primary.Addr()+": PostgreSQL ", "primary (not in recovery)",
		"ok    database login node2", "standby (in recovery)")

	sm.PutSecret("switchyard/pg", login("wrong-password"))
	res = runCLI(t, "--endpoint-url", url, "validate", "--config", config, "--connect")
	if res.code != cli.ExitFailure || !strings.Contains(res.stderr, "2 of ") {
		t.Fatalf("wrong password: exit %d, stderr %s\n%s", res.code, res.stderr, res.stdout)
	}
	mustContain(t, "validate --connect", res.stdout, "FAIL  database login node1", "password authentication failed",
		"fix: the secret's password is not app's: ALTER ROLE app PASSWORD")
	if strings.Contains(res.stdout+res.stderr, "wrong-password") {
		t.Errorf("the password is shown:\n%s%s", res.stdout, res.stderr)
	}
}
