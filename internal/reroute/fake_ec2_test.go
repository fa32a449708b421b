package reroute

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// fakeEC2 is a test-only EC2 holding route tables, network interfaces and
// Elastic IPs. DescribeRouteTables answers pageSize tables per page.
type fakeEC2 struct {
	mu        sync.Mutex
	tables    []*fakeTable
	enis      map[string]fakeENI
	addresses map[string]*fakeAddress
	pageSize  int
	// ignoreReplace accepts ReplaceRoute/AssociateAddress but changes nothing.
	ignoreReplace bool
	// failNext maps an operation to errors its next calls return, in order.
	failNext map[string][]error
	// failTable makes ReplaceRoute on that table fail with the error.
	failTable map[string]error
	// gate, when set, holds each ReplaceRoute until the test sends on it.
	gate                  chan struct{}
	inFlight, maxInFlight int
	log                   []string
	nextAssoc             int
}

type fakeENI struct {
	vpc             string
	sourceDestCheck bool
}

type fakeTable struct {
	id, vpc string
	routes  []fakeRoute
}

type fakeRoute struct {
	dest, eni, gateway string
}

type fakeAddress struct {
	publicIP, eni, privateIP, assoc string
}

var _ awsapi.EC2API = (*fakeEC2)(nil)

func newFakeEC2() *fakeEC2 {
	return &fakeEC2{enis: map[string]fakeENI{}, addresses: map[string]*fakeAddress{}, pageSize: 2,
		failNext: map[string][]error{}, failTable: map[string]error{}}
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"}
}

func (f *fakeEC2) enter(op string) error {
	f.log = append(f.log, op)
	if errs := f.failNext[op]; len(errs) > 0 {
		f.failNext[op] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeEC2) calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.log {
		if c == op {
			n++
		}
	}
	return n
}

func (f *fakeEC2) table(id string) *fakeTable {
	for _, t := range f.tables {
		if t.id == id {
			return t
		}
	}
	return nil
}

func filterValues(filters []types.Filter, name string) []string {
	for _, fl := range filters {
		if aws.ToString(fl.Name) == name {
			return fl.Values
		}
	}
	return nil
}

func (f *fakeEC2) DescribeRouteTables(_ context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DescribeRouteTables"); err != nil {
		return nil, err
	}
	vpcs := filterValues(in.Filters, "vpc-id")
	dests := filterValues(in.Filters, "route.destination-cidr-block")
	var match []types.RouteTable
	for _, t := range f.tables {
		if vpcs != nil && !slices.Contains(vpcs, t.vpc) {
			continue
		}
		rt := types.RouteTable{RouteTableId: aws.String(t.id), VpcId: aws.String(t.vpc)}
		hit := dests == nil
		for _, r := range t.routes {
			route := types.Route{DestinationCidrBlock: aws.String(r.dest), State: types.RouteStateActive}
			if r.eni != "" {
				route.NetworkInterfaceId = aws.String(r.eni)
			} else {
				route.GatewayId = aws.String(r.gateway)
			}
			rt.Routes = append(rt.Routes, route)
			hit = hit || slices.Contains(dests, r.dest)
		}
		if hit {
			match = append(match, rt)
		}
	}
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil {
			return nil, apiErr("InvalidPaginationToken")
		}
		start = n
	}
	end := min(start+f.pageSize, len(match))
	out := &ec2.DescribeRouteTablesOutput{RouteTables: match[start:end]}
	if end < len(match) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeEC2) ReplaceRoute(_ context.Context, in *ec2.ReplaceRouteInput, _ ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error) {
	f.mu.Lock()
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	if err := f.enter("ReplaceRoute"); err != nil {
		return nil, err
	}
	id := aws.ToString(in.RouteTableId)
	if err := f.failTable[id]; err != nil {
		return nil, err
	}
	t := f.table(id)
	if t == nil {
		return nil, apiErr("InvalidRouteTableID.NotFound")
	}
	ni, ok := f.enis[aws.ToString(in.NetworkInterfaceId)]
	if !ok {
		return nil, apiErr("InvalidNetworkInterfaceID.NotFound")
	}
	if ni.vpc != t.vpc {
		return nil, apiErr("InvalidParameterValue")
	}
	for i, r := range t.routes {
		if r.dest == aws.ToString(in.DestinationCidrBlock) {
			if !f.ignoreReplace {
				t.routes[i] = fakeRoute{dest: r.dest, eni: aws.ToString(in.NetworkInterfaceId)}
			}
			return &ec2.ReplaceRouteOutput{}, nil
		}
	}
	return nil, apiErr("InvalidRoute.NotFound")
}

func (f *fakeEC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DescribeNetworkInterfaces"); err != nil {
		return nil, err
	}
	out := &ec2.DescribeNetworkInterfacesOutput{}
	for _, id := range in.NetworkInterfaceIds {
		ni, ok := f.enis[id]
		if !ok {
			return nil, apiErr("InvalidNetworkInterfaceID.NotFound")
		}
		out.NetworkInterfaces = append(out.NetworkInterfaces, types.NetworkInterface{
			NetworkInterfaceId: aws.String(id), VpcId: aws.String(ni.vpc), SourceDestCheck: aws.Bool(ni.sourceDestCheck)})
	}
	return out, nil
}

func (f *fakeEC2) DescribeAddresses(_ context.Context, in *ec2.DescribeAddressesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DescribeAddresses"); err != nil {
		return nil, err
	}
	out := &ec2.DescribeAddressesOutput{}
	for _, id := range in.AllocationIds {
		a, ok := f.addresses[id]
		if !ok {
			return nil, apiErr("InvalidAllocationID.NotFound")
		}
		addr := types.Address{AllocationId: aws.String(id), PublicIp: aws.String(a.publicIP), Domain: types.DomainTypeVpc}
		if a.eni != "" {
			addr.NetworkInterfaceId, addr.PrivateIpAddress, addr.AssociationId = aws.String(a.eni), aws.String(a.privateIP), aws.String(a.assoc)
		}
		out.Addresses = append(out.Addresses, addr)
	}
	return out, nil
}

func (f *fakeEC2) AssociateAddress(_ context.Context, in *ec2.AssociateAddressInput, _ ...func(*ec2.Options)) (*ec2.AssociateAddressOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("AssociateAddress"); err != nil {
		return nil, err
	}
	a, ok := f.addresses[aws.ToString(in.AllocationId)]
	if !ok {
		return nil, apiErr("InvalidAllocationID.NotFound")
	}
	if _, ok := f.enis[aws.ToString(in.NetworkInterfaceId)]; !ok {
		return nil, apiErr("InvalidNetworkInterfaceID.NotFound")
	}
	if a.eni != "" && !aws.ToBool(in.AllowReassociation) {
		return nil, apiErr("Resource.AlreadyAssociated")
	}
	f.nextAssoc++
	assoc := fmt.Sprintf("eipassoc-%04d", f.nextAssoc)
	if !f.ignoreReplace {
		a.eni, a.privateIP, a.assoc = aws.ToString(in.NetworkInterfaceId), aws.ToString(in.PrivateIpAddress), assoc
	}
	return &ec2.AssociateAddressOutput{AssociationId: aws.String(assoc)}, nil
}

var errUnimplemented = errors.New("fakeEC2: operation not implemented")

func (f *fakeEC2) DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) CreateRoute(context.Context, *ec2.CreateRouteInput, ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) ModifyNetworkInterfaceAttribute(context.Context, *ec2.ModifyNetworkInterfaceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DescribeInstanceStatus(context.Context, *ec2.DescribeInstanceStatusInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) StartInstances(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DisassociateAddress(context.Context, *ec2.DisassociateAddressInput, ...func(*ec2.Options)) (*ec2.DisassociateAddressOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return nil, errUnimplemented
}
