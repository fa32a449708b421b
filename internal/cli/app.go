package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
)

// app is what every command shares: the process's streams and clock, the
// global flags, and the AWS clients they configure. One app serves one
// command line.
type app struct {
	stdout, stderr io.Writer
	awsConfig      []func(*config.LoadOptions) error
	clock          func() time.Time

	// Global flags.
	region      string
	endpointURL string
	output      string
}

// checkGlobals validates the global flags before any command runs.
func (a *app) checkGlobals() error {
	switch a.output {
	case OutputText, OutputJSON:
	default:
		return usageErrorf("--output %q is not one of %q, %q", a.output, OutputText, OutputJSON)
	}
	if a.endpointURL != "" {
		if err := checkEndpointURL(a.endpointURL); err != nil {
			return &UsageError{Err: fmt.Errorf("--endpoint-url: %w", err)}
		}
	}
	return nil
}

func checkEndpointURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q names no host", raw)
	}
	return nil
}

// jsonOutput reports whether the command should print JSON.
func (a *app) jsonOutput() bool { return a.output == OutputJSON }

// Stdout, Stderr and JSONOutput make app the Env of extensions.
func (a *app) Stdout() io.Writer { return a.stdout }
func (a *app) Stderr() io.Writer { return a.stderr }
func (a *app) JSONOutput() bool  { return a.jsonOutput() }

// now is the command's clock.
func (a *app) now() time.Time { return a.clock() }

// clients loads the AWS configuration (the default chain, then the global
// flags) and builds the clients. It makes no AWS call.
func (a *app) clients(ctx context.Context) (*awsall.Clients, error) {
	return a.clientsIn(ctx, "")
}

// clientsIn is clients for a resource in region (the region of an ARN the
// user gave, "" if none), which wins over the configured default region
// but not over --region.
func (a *app) clientsIn(ctx context.Context, region string) (*awsall.Clients, error) {
	opts := append([]func(*config.LoadOptions) error{}, a.awsConfig...)
	switch {
	case a.region != "":
		opts = append(opts, config.WithRegion(a.region))
	case region != "":
		opts = append(opts, config.WithRegion(region))
	}
	if a.endpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(a.endpointURL))
	}
	c, err := awsall.NewClients(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if c.Config.Region == "" {
		return nil, usageErrorf("no AWS region is configured: pass --region or set AWS_REGION")
	}
	return c, nil
}

// endpointOf describes where the clients of cfg send their calls.
func endpointOf(cfg aws.Config) string {
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return *cfg.BaseEndpoint
	}
	return "the AWS endpoints of " + cfg.Region
}
