package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
)

// TestEmulatorAsAProcess builds the CLI, runs `switchyard local aws` as a
// separate process on a free port, and drives every emulated service with
// the real SDK clients over HTTP, errors included.
func TestEmulatorAsAProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "local", "aws", "--topology", "../../testdata/topology/reference.yaml",
		"--listen", "127.0.0.1:0", "--table", "switchyard-demo")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	endpoint := ""
	lines := bufio.NewScanner(stdout)
	for endpoint == "" && lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "AWS emulator listening on "); ok {
			endpoint = strings.TrimSpace(rest)
		}
	}
	if endpoint == "" {
		t.Fatal("the emulator process never said where it listens")
	}
	go func() {
		for lines.Scan() { // drain, so the process never blocks on stdout
		}
	}()
	c, err := awsall.NewClients(ctx, awsall.LocalConfig(endpoint, "us-east-1", "process-test")...)
	if err != nil {
		t.Fatal(err)
	}

	rts, err := c.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("route.destination-cidr-block"), Values: []string{"10.1.0.10/32"}}}})
	if err != nil || len(rts.RouteTables) != 2 {
		t.Fatalf("DescribeRouteTables: %d tables, %v; want the 2 private tables", len(rts.RouteTables), err)
	}
	_, err = c.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: rts.RouteTables[0].RouteTableId,
		DestinationCidrBlock: aws.String("10.9.9.9/32"), NetworkInterfaceId: aws.String("eni-0d132fa596468253e")})
	if code := awsapi.ErrorCode(err); code != "InvalidParameterValue" || !strings.Contains(err.Error(), "no route defined for '10.9.9.9/32'") {
		t.Errorf("ReplaceRoute of a missing route: %q (%v), want InvalidParameterValue naming the route, as AWS answers", code, err)
	}
	zones, err := c.Route53.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if err != nil || len(zones.HostedZones) == 0 {
		t.Errorf("ListHostedZones: %v, %v", zones, err)
	}
	if _, err := c.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("no/such/secret")}); awsapi.ErrorCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetSecretValue of a missing secret: %v, want ResourceNotFoundException", err)
	}
	_, err = c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("switchyard-demo"),
		Item:                map[string]ddbtypes.AttributeValue{"cluster": &ddbtypes.AttributeValueMemberS{Value: "demo"}},
		ConditionExpression: aws.String("attribute_exists(#c)"), ExpressionAttributeNames: map[string]string{"#c": "cluster"}})
	if !awsapi.IsConditionalCheckFailed(err) {
		t.Errorf("conditional PutItem on a missing item: %v, want ConditionalCheckFailedException", err)
	}
	if _, err := c.CloudWatch.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("Heartbeat"), Value: aws.Float64(1), StorageResolution: aws.Int32(1)}}}); err != nil {
		t.Errorf("PutMetricData: %v", err)
	}
}
