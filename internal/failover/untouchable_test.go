package failover

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/store"
)

// tripwire records every AWS call made through the untouchable fakes and
// fails the test on each one: a guard that refuses must refuse before it
// touches anything. Every interface method is written out (no embedding),
// so a method added to an interface is a compile error here, not a silent
// nil-pointer panic.
type tripwire struct {
	t *testing.T
	// expectCalls turns the failure off, for the test that proves the
	// tripwire is wired into the Deps the steps use.
	expectCalls bool
	mu          sync.Mutex
	calls       []string
}

func (w *tripwire) hit(api, op string) error {
	w.mu.Lock()
	w.calls = append(w.calls, api+"."+op)
	w.mu.Unlock()
	if w.expectCalls {
		return fmt.Errorf("untouchable %s.%s called", api, op)
	}
	w.t.Errorf("%s.%s was called: the step must refuse before touching anything", api, op)
	return fmt.Errorf("untouchable %s.%s called", api, op)
}

// Calls returns the calls made so far.
func (w *tripwire) Calls() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.calls...)
}

// untouchableDeps returns Deps whose every AWS client (EC2, Route 53,
// CloudWatch, Secrets Manager, and DynamoDB behind the Store) is a tripwire.
func untouchableDeps(t *testing.T, cfg *cluster.Config) (*Deps, *tripwire) {
	w := &tripwire{t: t}
	return &Deps{
		base: base{
			Config:       cfg,
			Secrets:      untouchableSecrets{w},
			Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now:          func() time.Time { return time.Date(2026, 3, 14, 9, 27, 0, 0, time.UTC) },
			PollInterval: time.Millisecond,
		},
		EC2:        untouchableEC2{w},
		Route53:    untouchableRoute53{w},
		CloudWatch: untouchableCloudWatch{w},
		Store:      store.New(untouchableDynamoDB{w}, cfg.Table),
	}, w
}

var (
	_ awsapi.EC2API        = untouchableEC2{}
	_ awsall.Route53API    = untouchableRoute53{}
	_ awsapi.CloudWatchAPI = untouchableCloudWatch{}
	_ awsall.SecretsAPI    = untouchableSecrets{}
	_ awsapi.DynamoDBAPI   = untouchableDynamoDB{}
)

type untouchableEC2 struct{ w *tripwire }

func (f untouchableEC2) DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return nil, f.w.hit("EC2", "DescribeVpcs")
}

func (f untouchableEC2) DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	return nil, f.w.hit("EC2", "DescribeSubnets")
}

func (f untouchableEC2) DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return nil, f.w.hit("EC2", "DescribeRouteTables")
}

func (f untouchableEC2) CreateRoute(context.Context, *ec2.CreateRouteInput, ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	return nil, f.w.hit("EC2", "CreateRoute")
}

func (f untouchableEC2) ReplaceRoute(context.Context, *ec2.ReplaceRouteInput, ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error) {
	return nil, f.w.hit("EC2", "ReplaceRoute")
}

func (f untouchableEC2) DescribeNetworkInterfaces(context.Context, *ec2.DescribeNetworkInterfacesInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	return nil, f.w.hit("EC2", "DescribeNetworkInterfaces")
}

func (f untouchableEC2) ModifyNetworkInterfaceAttribute(context.Context, *ec2.ModifyNetworkInterfaceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	return nil, f.w.hit("EC2", "ModifyNetworkInterfaceAttribute")
}

func (f untouchableEC2) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return nil, f.w.hit("EC2", "DescribeInstances")
}

func (f untouchableEC2) DescribeInstanceStatus(context.Context, *ec2.DescribeInstanceStatusInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	return nil, f.w.hit("EC2", "DescribeInstanceStatus")
}

func (f untouchableEC2) StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	return nil, f.w.hit("EC2", "StopInstances")
}

func (f untouchableEC2) StartInstances(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	return nil, f.w.hit("EC2", "StartInstances")
}

func (f untouchableEC2) DescribeAddresses(context.Context, *ec2.DescribeAddressesInput, ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error) {
	return nil, f.w.hit("EC2", "DescribeAddresses")
}

func (f untouchableEC2) AssociateAddress(context.Context, *ec2.AssociateAddressInput, ...func(*ec2.Options)) (*ec2.AssociateAddressOutput, error) {
	return nil, f.w.hit("EC2", "AssociateAddress")
}

func (f untouchableEC2) DisassociateAddress(context.Context, *ec2.DisassociateAddressInput, ...func(*ec2.Options)) (*ec2.DisassociateAddressOutput, error) {
	return nil, f.w.hit("EC2", "DisassociateAddress")
}

func (f untouchableEC2) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return nil, f.w.hit("EC2", "DescribeSecurityGroups")
}

type untouchableRoute53 struct{ w *tripwire }

func (f untouchableRoute53) ListHostedZones(context.Context, *route53.ListHostedZonesInput, ...func(*route53.Options)) (*route53.ListHostedZonesOutput, error) {
	return nil, f.w.hit("Route53", "ListHostedZones")
}

func (f untouchableRoute53) ListHostedZonesByName(context.Context, *route53.ListHostedZonesByNameInput, ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error) {
	return nil, f.w.hit("Route53", "ListHostedZonesByName")
}

func (f untouchableRoute53) ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	return nil, f.w.hit("Route53", "ListResourceRecordSets")
}

func (f untouchableRoute53) ChangeResourceRecordSets(context.Context, *route53.ChangeResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	return nil, f.w.hit("Route53", "ChangeResourceRecordSets")
}

func (f untouchableRoute53) GetChange(context.Context, *route53.GetChangeInput, ...func(*route53.Options)) (*route53.GetChangeOutput, error) {
	return nil, f.w.hit("Route53", "GetChange")
}

func (f untouchableRoute53) GetHostedZone(context.Context, *route53.GetHostedZoneInput, ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error) {
	return nil, f.w.hit("Route53", "GetHostedZone")
}

type untouchableCloudWatch struct{ w *tripwire }

func (f untouchableCloudWatch) PutMetricData(context.Context, *cloudwatch.PutMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	return nil, f.w.hit("CloudWatch", "PutMetricData")
}

func (f untouchableCloudWatch) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return nil, f.w.hit("CloudWatch", "GetMetricData")
}

func (f untouchableCloudWatch) PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error) {
	return nil, f.w.hit("CloudWatch", "PutMetricAlarm")
}

func (f untouchableCloudWatch) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return nil, f.w.hit("CloudWatch", "DescribeAlarms")
}

func (f untouchableCloudWatch) SetAlarmState(context.Context, *cloudwatch.SetAlarmStateInput, ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error) {
	return nil, f.w.hit("CloudWatch", "SetAlarmState")
}

type untouchableSecrets struct{ w *tripwire }

func (f untouchableSecrets) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return nil, f.w.hit("SecretsManager", "GetSecretValue")
}

type untouchableDynamoDB struct{ w *tripwire }

func (f untouchableDynamoDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, f.w.hit("DynamoDB", "GetItem")
}

func (f untouchableDynamoDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, f.w.hit("DynamoDB", "PutItem")
}

func (f untouchableDynamoDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, f.w.hit("DynamoDB", "UpdateItem")
}

func (f untouchableDynamoDB) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, f.w.hit("DynamoDB", "DeleteItem")
}

func (f untouchableDynamoDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, f.w.hit("DynamoDB", "Query")
}

func (f untouchableDynamoDB) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, f.w.hit("DynamoDB", "TransactWriteItems")
}
