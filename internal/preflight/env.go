package preflight

import (
	"context"
	"net/netip"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// env is what the Lambda network checks share in one run: the EC2 reader,
// the Lambdas' subnets and groups, and the subnets and groups described so
// far (each is described once).
type env struct {
	ec2           awsapi.EC2PreflightReader
	region        string
	lambdaSubnets []string
	lambdaGroups  []string
	subnets       map[string]ec2types.Subnet
	subnetErr     map[string]error
	groups        map[string]ec2types.SecurityGroup
}

func newEnv(c Clients, o Options) *env {
	return &env{ec2: c.EC2, region: c.Region, lambdaSubnets: o.LambdaSubnets, lambdaGroups: o.LambdaSecurityGroups,
		subnets: map[string]ec2types.Subnet{}, subnetErr: map[string]error{}, groups: map[string]ec2types.SecurityGroup{}}
}

// subnet describes a subnet; ok is false when it cannot be read
// (subnetErr says why).
func (e *env) subnet(ctx context.Context, id string) (ec2types.Subnet, bool) {
	if sn, ok := e.subnets[id]; ok {
		return sn, true
	}
	if _, failed := e.subnetErr[id]; failed {
		return ec2types.Subnet{}, false
	}
	out, err := e.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
	if err != nil || len(out.Subnets) == 0 {
		e.subnetErr[id] = err
		return ec2types.Subnet{}, false
	}
	e.subnets[id] = out.Subnets[0]
	return out.Subnets[0], true
}

// subnetPrefixes are the CIDR blocks of the subnets that can be read.
func (e *env) subnetPrefixes(ctx context.Context, ids []string) []netip.Prefix {
	var out []netip.Prefix
	for _, id := range ids {
		if sn, ok := e.subnet(ctx, id); ok {
			if p, err := netip.ParsePrefix(aws.ToString(sn.CidrBlock)); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// lambdaCIDRs are the CIDR blocks of the Lambda subnets.
func (e *env) lambdaCIDRs(ctx context.Context) []netip.Prefix {
	return e.subnetPrefixes(ctx, e.lambdaSubnets)
}

// lambdaVPCs are the VPCs of the Lambda subnets.
func (e *env) lambdaVPCs(ctx context.Context) []string {
	var out []string
	for _, id := range e.lambdaSubnets {
		if sn, ok := e.subnet(ctx, id); ok && !slices.Contains(out, aws.ToString(sn.VpcId)) {
			out = append(out, aws.ToString(sn.VpcId))
		}
	}
	return out
}

// lambdaSubnetsIn are the Lambda subnets in vpc: where an interface
// endpoint for them belongs (one subnet per zone).
func (e *env) lambdaSubnetsIn(ctx context.Context, vpc string) []string {
	var out []string
	for _, id := range e.lambdaSubnets {
		if sn, ok := e.subnet(ctx, id); ok && aws.ToString(sn.VpcId) == vpc {
			out = append(out, id)
		}
	}
	return out
}

// regionOf is the clients' region, or the region of sn's zone.
func (e *env) regionOf(sn ec2types.Subnet) string {
	if e.region != "" {
		return e.region
	}
	az := aws.ToString(sn.AvailabilityZone)
	if az == "" {
		return "<region>"
	}
	return az[:len(az)-1]
}
