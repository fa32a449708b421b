package cli_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
	"github.com/switchyard/switchyard/internal/localaws/route53sim"
)

// referenceAccount serves EC2 and Route 53 seeded with the reference
// topology, which events/cluster-config.json describes.
func referenceAccount(t *testing.T) (url string, clients *awsapi.Clients) {
	t.Helper()
	topo, err := localaws.LoadTopology(filepath.Join("..", "..", "testdata", "topology", "reference.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := localaws.NewServer()
	srv.Register(ec2sim.New(topo))
	r53, err := route53sim.New(topo)
	if err != nil {
		t.Fatal(err)
	}
	srv.Register(r53)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := awsapi.NewClients(context.Background(), awsapi.LocalConfig(hs.URL, testRegion, "AKIDSEED")...)
	if err != nil {
		t.Fatal(err)
	}
	return hs.URL, c
}

func TestValidateChecksTheAccount(t *testing.T) {
	url, clients := referenceAccount(t)
	config := filepath.Join("..", "..", "events", "cluster-config.json")
	res := runCLI(t, "--endpoint-url", url, "validate", "--config", config, "--lambda-subnets", "subnet-0374f21a8e1c22245")
	if res.code != cli.ExitOK {
		t.Fatalf("reference account: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	mustContain(t, "validate", res.stdout, "ok    overlay routes", "ok    Lambda subnet subnet-0374f21a8e1c22245", "warn  record pg.db.switchyard.internal.")

	if _, err := clients.EC2.ModifyNetworkInterfaceAttribute(context.Background(), &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String("eni-069d21676ba6be710"), SourceDestCheck: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, "--endpoint-url", url, "validate", "--config", config)
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
		{[]string{"validate", "--config", config, "--lambda-subnets", "sg-1"}, `"sg-1" is not a subnet id`},
	} {
		if res := runCLI(t, append([]string{"--endpoint-url", url}, bad.args...)...); res.code != cli.ExitUsage || !strings.Contains(res.stderr, bad.want) {
			t.Errorf("%v: exit %d, stderr %q; want usage error %q", bad.args, res.code, res.stderr, bad.want)
		}
	}
}
