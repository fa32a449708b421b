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

// errNoInterface marks an answer that does not contain the interface.
var errNoInterface = errors.New("network interface not in the answer")

// Isolate replaces the security groups of the network interface with the
// single group groupID and waits until DescribeNetworkInterfaces shows
// exactly that group (bounded by WithVerifyTimeout). An interface already
// seen isolated is modified anyway (the read may be stale). A NotFound or
// empty answer is never taken as "isolated". Isolation is not a fence:
// established connections survive a security group change.
func Isolate(ctx context.Context, api EC2API, eniID, groupID string, opts ...Option) (IsolationResult, error) {
	o := apply(opts)
	res := modifyGroups(ctx, api, eniID, groupID, o)
	if res.Error != "" {
		return res, fmt.Errorf("isolating network interface %s in security group %s: %s", eniID, groupID, res.Error)
	}
	return verifyIsolated(ctx, api, res, groupID, o)
}

// isolateBestEffort is HardStop's isolation: modify, do not wait to
// observe it; a failure is only recorded.
func isolateBestEffort(ctx context.Context, api EC2API, eniID, groupID string, o options) IsolationResult {
	res := modifyGroups(ctx, api, eniID, groupID, o)
	if res.Error != "" {
		o.log.Warn("fence: best-effort isolation failed; stopping anyway", "networkInterface", eniID, "err", res.Error)
	}
	return res
}

// modifyGroups reads the interface's groups once (for the record) and
// replaces them with groupID, retrying throttling. A failure is in
// res.Error.
func modifyGroups(ctx context.Context, api EC2API, eniID, groupID string, o options) IsolationResult {
	res := IsolationResult{NetworkInterfaceID: eniID}
	if eniID == "" || groupID == "" {
		res.Error = "network interface id and isolation security group id are both required"
		return res
	}
	if groups, err := interfaceGroups(ctx, api, eniID); err == nil {
		res.PreviousGroups = groups
	}
	err := backoff.Retry(ctx, o.retry, func(ctx context.Context) error {
		_, err := api.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
			NetworkInterfaceId: aws.String(eniID),
			Groups:             []string{groupID},
		})
		return err
	})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Changed = true
	return res
}

// verifyIsolated polls until the interface shows only groupID.
func verifyIsolated(ctx context.Context, api EC2API, res IsolationResult, groupID string, o options) (IsolationResult, error) {
	vctx, cancel := context.WithTimeout(ctx, o.verifyTimeout)
	defer cancel()
	var lastErr error
	for {
		groups, err := interfaceGroups(vctx, api, res.NetworkInterfaceID)
		switch {
		case err == nil:
			res.Groups = groups
			if sameGroups(groups, groupID) {
				return res, nil
			}
		case errors.Is(err, errNoInterface) || awsapi.IsNotFound(err) || backoff.Transient(err) || vctx.Err() != nil:
			lastErr = err // not proof of anything; look again
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
// sorted, or errNoInterface when the answer does not contain it.
func interfaceGroups(ctx context.Context, api EC2API, eniID string) ([]string, error) {
	out, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
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
	return nil, errNoInterface
}
