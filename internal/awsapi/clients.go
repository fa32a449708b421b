package awsapi

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

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
