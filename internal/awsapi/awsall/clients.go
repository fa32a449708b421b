package awsall

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/logging"
)

// Clients bundles one real SDK client per service.
type Clients struct {
	Config     aws.Config
	EC2        *ec2.Client
	Route53    *route53.Client
	CloudWatch *cloudwatch.Client
	SFN        *sfn.Client
	DynamoDB   *dynamodb.Client
	Secrets    *secretsmanager.Client
	SNS        *sns.Client
}

// NewClients loads the default AWS configuration (credential chain, region,
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> overrides, retry mode) and
// builds one client per service. optFns adjust the loading, e.g. to point
// everything at the local emulator in tests.
func NewClients(ctx context.Context, optFns ...func(*config.LoadOptions) error) (*Clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx, optFns...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	return FromConfig(cfg), nil
}

// FromConfig builds the clients from a loaded configuration.
func FromConfig(cfg aws.Config) *Clients {
	return &Clients{
		Config:     cfg,
		EC2:        ec2.NewFromConfig(cfg),
		Route53:    route53.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg),
		SFN:        sfn.NewFromConfig(cfg),
		DynamoDB:   dynamodb.NewFromConfig(cfg),
		Secrets:    secretsmanager.NewFromConfig(cfg),
		SNS:        sns.NewFromConfig(cfg),
	}
}

// LocalConfig returns load options that send every client to endpoint (the
// local emulator) with static credentials naming accessKeyID, so the
// emulator's call log can tell callers apart.
func LocalConfig(endpoint, region, accessKeyID string) []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithBaseEndpoint(endpoint),
		// The local stack cuts connections on purpose (fencing, partitions);
		// the SDK's warnings about unread bodies would only be noise.
		config.WithLogger(logging.Nop{}),
		config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: "local-secret", Source: "switchyard-local"}, nil
		})),
	}
}
