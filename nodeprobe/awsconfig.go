package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go/logging"
)

// The agent builds its AWS configuration itself rather than with the SDK's
// config.LoadDefaultConfig: that chain links STS, SSO, SSO-OIDC, Sign-In
// and the shared config file parser, 1.3 MB of text that every node keeps
// resident (docs/benchmarks.md), for credential sources an agent on EC2
// does not use. What it reads, in order:
//
//   - credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with
//     AWS_SESSION_TOKEN), else the EC2 instance role through instance
//     metadata (IMDSv2, --imds-endpoint), refreshed before it expires;
//   - region: AWS_REGION, else AWS_DEFAULT_REGION, else instance metadata
//     (unless --imds=false);
//   - endpoint: AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (DYNAMODB,
//     CLOUDWATCH, EC2, SFN), unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true;
//   - retries: the SDK's standard mode with 3 attempts, or AWS_RETRY_MODE
//     and AWS_MAX_ATTEMPTS.
//
// Shared config and credentials files (AWS_PROFILE, ~/.aws), web identity
// and container credentials are not read; when they are configured and
// no keys are in the environment, the agent says so and does not start.
const (
	envAccessKeyID     = "AWS_ACCESS_KEY_ID"
	envSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	envSessionToken    = "AWS_SESSION_TOKEN"
	envRegion          = "AWS_REGION"
	envDefaultRegion   = "AWS_DEFAULT_REGION"
	envEndpointURL     = "AWS_ENDPOINT_URL"
	envIgnoreEndpoints = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	envMaxAttempts     = "AWS_MAX_ATTEMPTS"
	envRetryMode       = "AWS_RETRY_MODE"

	// credentialsFromEnv and credentialsFromRole name the source in logs.
	credentialsFromEnv  = "environment (" + envAccessKeyID + ")"
	credentialsFromRole = "EC2 instance role (instance metadata)"
)

// unsupportedCredentialEnv are the SDK credential sources the agent does
// not read; one set without keys in the environment is an error rather
// than a silent fall-through to the instance role.
var unsupportedCredentialEnv = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
}

// metadataAPI is what the configuration reads from instance metadata: the
// instance role's credentials and the region. *imds.Client satisfies it.
type metadataAPI interface {
	ec2rolecreds.GetMetadataAPIClient
	GetRegion(ctx context.Context, params *imds.GetRegionInput, optFns ...func(*imds.Options)) (*imds.GetRegionOutput, error)
}

// awsSources says where loadAWSConfig may look.
type awsSources struct {
	Getenv func(string) string
	// Metadata serves the instance role, and the region when
	// RegionFromMetadata is set.
	Metadata           metadataAPI
	RegionFromMetadata bool
	// Timeout bounds each instance metadata read at start-up (three
	// requests for the role's credentials).
	Timeout time.Duration
}

// loadAWSConfig returns the agent's AWS configuration and the name of its
// credential source. The credentials are read once before it returns, so
// that an agent without any fails at start-up with the reason rather than
// at its first call.
func loadAWSConfig(ctx context.Context, src awsSources) (aws.Config, string, error) {
	cfg := aws.Config{
		// As LoadDefaultConfig: the SDK's own warnings go to stderr, and
		// every client shares one HTTP transport.
		Logger:     logging.NewStandardLogger(os.Stderr),
		HTTPClient: awshttp.NewBuildableClient(),
	}
	if err := setRetries(&cfg, src.Getenv); err != nil {
		return aws.Config{}, "", err
	}
	endpoints := envEndpoints{getenv: src.Getenv}
	ignore, err := endpoints.ignore()
	if err != nil {
		return aws.Config{}, "", err
	}
	cfg.ConfigSources = []any{endpoints}
	if e := src.Getenv(envEndpointURL); e != "" && !ignore {
		cfg.BaseEndpoint = aws.String(e)
	}
	if cfg.Region, err = resolveRegion(ctx, src); err != nil {
		return aws.Config{}, "", err
	}
	source, err := resolveCredentials(ctx, &cfg, src)
	if err != nil {
		return aws.Config{}, "", err
	}
	return cfg, source, nil
}

func resolveRegion(ctx context.Context, src awsSources) (string, error) {
	for _, k := range []string{envRegion, envDefaultRegion} {
		if r := src.Getenv(k); r != "" {
			return r, nil
		}
	}
	if !src.RegionFromMetadata {
		return "", fmt.Errorf("no AWS region: set %s (instance metadata is off, --imds=false)", envRegion)
	}
	mctx, cancel := context.WithTimeout(ctx, src.Timeout)
	defer cancel()
	out, err := src.Metadata.GetRegion(mctx, &imds.GetRegionInput{})
	if err != nil {
		return "", fmt.Errorf("no AWS region: %s is not set and instance metadata did not give it: %w", envRegion, err)
	}
	return out.Region, nil
}

func resolveCredentials(ctx context.Context, cfg *aws.Config, src awsSources) (string, error) {
	id, secret := src.Getenv(envAccessKeyID), src.Getenv(envSecretAccessKey)
	switch {
	case id != "" && secret != "":
		cfg.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: src.Getenv(envSessionToken),
				Source: "EnvConfigCredentials"}, nil
		}))
		return credentialsFromEnv, nil
	case id != "":
		return "", fmt.Errorf("AWS credentials: %s is set but %s is not", envAccessKeyID, envSecretAccessKey)
	case secret != "":
		return "", fmt.Errorf("AWS credentials: %s is set but %s is not", envSecretAccessKey, envAccessKeyID)
	}
	for _, k := range unsupportedCredentialEnv {
		if src.Getenv(k) != "" {
			return "", fmt.Errorf("AWS credentials: %s is set, but the node agent reads credentials only from %s/%s or the EC2 instance role: "+
				"unset %s to use the instance role", k, envAccessKeyID, envSecretAccessKey, k)
		}
	}
	cache := aws.NewCredentialsCache(ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = src.Metadata }))
	// The role list, the role's credentials, and the IMDSv2 token.
	rctx, cancel := context.WithTimeout(ctx, 3*src.Timeout)
	defer cancel()
	if _, err := cache.Retrieve(rctx); err != nil {
		return "", fmt.Errorf("no AWS credentials: %s and %s are not set, and the EC2 instance role could not be read "+
			"from instance metadata (is an instance profile attached, and --imds-endpoint right?): %w",
			envAccessKeyID, envSecretAccessKey, err)
	}
	cfg.Credentials = cache
	return credentialsFromRole, nil
}

// setRetries applies AWS_RETRY_MODE and AWS_MAX_ATTEMPTS; unset, the
// clients keep the SDK's default (standard mode, 3 attempts).
func setRetries(cfg *aws.Config, getenv func(string) string) error {
	if v := getenv(envRetryMode); v != "" {
		mode, err := aws.ParseRetryMode(v)
		if err != nil {
			return fmt.Errorf("%s: %w", envRetryMode, err)
		}
		cfg.RetryMode = mode
	}
	if v := getenv(envMaxAttempts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%s=%q: want a positive number of attempts", envMaxAttempts, v)
		}
		cfg.RetryMaxAttempts = n
	}
	return nil
}

// envEndpoints is the configuration source the SDK's clients ask for a
// service's own endpoint (AWS_ENDPOINT_URL_<SERVICE>, the service id in
// capitals with spaces as underscores), as config.EnvConfig does.
type envEndpoints struct{ getenv func(string) string }

// GetServiceBaseEndpoint implements the SDK's ServiceBaseEndpointProvider.
func (e envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e.getenv(envEndpointURL + "_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints implements the SDK's
// IgnoreConfiguredEndpointsProvider.
func (e envEndpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	v, err := e.ignore()
	return v, err == nil && v, err
}

func (e envEndpoints) ignore() (bool, error) {
	switch v := e.getenv(envIgnoreEndpoints); {
	case v == "":
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	default:
		return false, errors.New(envIgnoreEndpoints + "=" + v + ": want true or false")
	}
}
