package reroute

import (
	"context"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// Unexported helpers, for the tests of package reroute_test.

// RouteGone is routeGone with the default options.
func RouteGone(ctx context.Context, ec2api awsapi.EC2API, table, cidr string, err error) bool {
	return routeGone(ctx, ec2api, table, cidr, err, apply(nil))
}

// CanonicalName is canonicalName.
var CanonicalName = canonicalName
