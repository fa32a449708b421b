package fence

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/backoff"
)

// codeENINotFound is EC2's error code for an unknown network interface.
const codeENINotFound = "InvalidNetworkInterfaceID.NotFound"

// errInterfaceGone marks an interface that no longer exists.
var errInterfaceGone = errors.New("network interface does not exist")

// Isolate replaces the security groups of the network interface with the
// single group groupID and waits until DescribeNetworkInterfaces shows
// exactly that group (bounded by WithVerifyTimeout). An interface already
// isolated is not modified; one that no longer exists counts as isolated.
// Remember that established connections survive a security group change.
func Isolate(ctx context.Context, ec2api awsapi.EC2API, eniID, groupID string, opts ...Option) (IsolationResult, error) {
	o := apply(opts)
	res := IsolationResult{NetworkInterfaceID: eniID}
	if eniID == "" || groupID == "" {
		return res, errors.New("isolating: network interface id and isolation security group id are both required")
	}
	var groups []string
	err := backoff.Retry(ctx, o.retry, func(ctx context.Context) (err error) {
		groups, err = interfaceGroups(ctx, ec2api, eniID)
		return err
	})
	if errors.Is(err, errInterfaceGone) {
		res.InterfaceGone = true
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("isolating network interface %s: %w", eniID, err)
	}
	res.PreviousGroups = groups
	if !sameGroups(groups, groupID) {
		err := backoff.Retry(ctx, o.retry, func(ctx context.Context) error {
			_, err := ec2api.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
				NetworkInterfaceId: aws.String(eniID),
				Groups:             []string{groupID},
			})
			return err
		})
		if awsapi.ErrorCode(err) == codeENINotFound {
			res.InterfaceGone = true
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("isolating network interface %s in security group %s: %w", eniID, groupID, err)
		}
		res.Changed = true
	}
	return verifyIsolated(ctx, ec2api, res, groupID, o)
}

// verifyIsolated polls until the interface shows only groupID.
func verifyIsolated(ctx context.Context, ec2api awsapi.EC2API, res IsolationResult, groupID string, o options) (IsolationResult, error) {
	vctx, cancel := context.WithTimeout(ctx, o.verifyTimeout)
	defer cancel()
	var lastErr error
	for {
		groups, err := interfaceGroups(vctx, ec2api, res.NetworkInterfaceID)
		switch {
		case errors.Is(err, errInterfaceGone):
			res.InterfaceGone = true
			return res, nil
		case err == nil:
			res.Groups = groups
			if sameGroups(groups, groupID) {
				return res, nil
			}
		case backoff.Transient(err) || vctx.Err() != nil:
			lastErr = err
		default:
			return res, fmt.Errorf("verifying isolation of network interface %s: %w", res.NetworkInterfaceID, err)
		}
		if werr := backoff.Wait(vctx, o.pollInterval); werr != nil {
			return res, &ErrIsolationNotConfirmed{NetworkInterfaceID: res.NetworkInterfaceID, GroupID: groupID,
				Groups: res.Groups, Err: errors.Join(werr, lastErr)}
		}
	}
}

// interfaceGroups returns the ids of the interface's security groups,
// sorted, or errInterfaceGone.
func interfaceGroups(ctx context.Context, ec2api awsapi.EC2API, eniID string) ([]string, error) {
	out, err := ec2api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
	if awsapi.ErrorCode(err) == codeENINotFound {
		return nil, errInterfaceGone
	}
	if err != nil {
		return nil, err
	}
	for _, ni := range out.NetworkInterfaces {
		if aws.ToString(ni.NetworkInterfaceId) != eniID {
			continue
		}
		groups := make([]string, 0, len(ni.Groups))
		for _, g := range ni.Groups {
			groups = append(groups, aws.ToString(g.GroupId))
		}
		return sortedCopy(groups), nil
	}
	return nil, errInterfaceGone
}
