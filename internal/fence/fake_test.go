package fence

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/awsapi"
)

// fakeEC2 is a test-only EC2 holding instances and network interfaces.
// A stopped instance passes through "stopping" for stopAfter
// DescribeInstances calls; stuck keeps it stopping for ever.
type fakeEC2 struct {
	mu        sync.Mutex
	instances map[string]*fakeInstance
	enis      map[string][]string // ENI id → security group ids
	groups    map[string]bool     // security groups that exist
	stopAfter int
	stuck     bool
	// ignoreModify accepts ModifyNetworkInterfaceAttribute but changes nothing.
	ignoreModify bool
	// failNext maps an operation to errors its next calls return, in order.
	failNext map[string][]error
	// log lists every call as "Operation" in order.
	log []string
}

type fakeInstance struct {
	state     string
	countdown int
	forced    bool
}

var _ awsapi.EC2API = (*fakeEC2)(nil)

func newFakeEC2() *fakeEC2 {
	return &fakeEC2{instances: map[string]*fakeInstance{}, enis: map[string][]string{},
		groups: map[string]bool{}, stopAfter: 2, failNext: map[string][]error{}}
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"}
}

// enter logs the call and returns an injected error, if any. Callers hold mu.
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

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DescribeInstances"); err != nil {
		return nil, err
	}
	var res types.Reservation
	for _, id := range in.InstanceIds {
		inst, ok := f.instances[id]
		if !ok {
			return nil, apiErr("InvalidInstanceID.NotFound")
		}
		if inst.state == stateStopping && !f.stuck {
			if inst.countdown--; inst.countdown <= 0 {
				inst.state = stateStopped
			}
		}
		res.Instances = append(res.Instances, types.Instance{InstanceId: aws.String(id),
			State: &types.InstanceState{Name: types.InstanceStateName(inst.state)}})
	}
	return &ec2.DescribeInstancesOutput{Reservations: []types.Reservation{res}}, nil
}

func (f *fakeEC2) StopInstances(_ context.Context, in *ec2.StopInstancesInput, _ ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StopInstances"); err != nil {
		return nil, err
	}
	for _, id := range in.InstanceIds {
		inst, ok := f.instances[id]
		if !ok {
			return nil, apiErr("InvalidInstanceID.NotFound")
		}
		switch inst.state {
		case stateTerminated, stateShuttingDown:
			return nil, apiErr("IncorrectInstanceState")
		case stateStopped:
		default:
			inst.state = stateStopping
			inst.countdown = f.stopAfter
			inst.forced = aws.ToBool(in.Force)
		}
	}
	return &ec2.StopInstancesOutput{}, nil
}

func (f *fakeEC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DescribeNetworkInterfaces"); err != nil {
		return nil, err
	}
	out := &ec2.DescribeNetworkInterfacesOutput{}
	for _, id := range in.NetworkInterfaceIds {
		groups, ok := f.enis[id]
		if !ok {
			return nil, apiErr(codeENINotFound)
		}
		ni := types.NetworkInterface{NetworkInterfaceId: aws.String(id)}
		for _, g := range groups {
			ni.Groups = append(ni.Groups, types.GroupIdentifier{GroupId: aws.String(g)})
		}
		out.NetworkInterfaces = append(out.NetworkInterfaces, ni)
	}
	return out, nil
}

func (f *fakeEC2) ModifyNetworkInterfaceAttribute(_ context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ModifyNetworkInterfaceAttribute"); err != nil {
		return nil, err
	}
	id := aws.ToString(in.NetworkInterfaceId)
	if _, ok := f.enis[id]; !ok {
		return nil, apiErr(codeENINotFound)
	}
	for _, g := range in.Groups {
		if !f.groups[g] {
			return nil, apiErr("InvalidGroup.NotFound")
		}
	}
	if !f.ignoreModify {
		f.enis[id] = slices.Clone(in.Groups)
	}
	return &ec2.ModifyNetworkInterfaceAttributeOutput{}, nil
}

var errUnimplemented = errors.New("fakeEC2: operation not implemented")

func (f *fakeEC2) DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) CreateRoute(context.Context, *ec2.CreateRouteInput, ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) ReplaceRoute(context.Context, *ec2.ReplaceRouteInput, ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DescribeInstanceStatus(context.Context, *ec2.DescribeInstanceStatusInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) StartInstances(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DescribeAddresses(context.Context, *ec2.DescribeAddressesInput, ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) AssociateAddress(context.Context, *ec2.AssociateAddressInput, ...func(*ec2.Options)) (*ec2.AssociateAddressOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DisassociateAddress(context.Context, *ec2.DisassociateAddressInput, ...func(*ec2.Options)) (*ec2.DisassociateAddressOutput, error) {
	return nil, errUnimplemented
}

func (f *fakeEC2) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return nil, errUnimplemented
}
