package reroute

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/backoff"
	"github.com/switchyard/switchyard/internal/cluster"
)

// EIPResult says where ElasticIP moved the address from and to.
type EIPResult struct {
	AllocationID string `json:"allocationId"`
	PublicIP     string `json:"publicIp"`
	// PreviousNetworkInterfaceID is where the address was associated
	// before, "" if nowhere.
	PreviousNetworkInterfaceID string `json:"previousNetworkInterfaceId"`
	NetworkInterfaceID         string `json:"networkInterfaceId"`
	PrivateIP                  string `json:"privateIp"`
	AssociationID              string `json:"associationId"`
	// Changed is false when the address was associated with the target already.
	Changed    bool  `json:"changed"`
	DurationMs int64 `json:"durationMs"`
}

// ElasticIP associates the Elastic IP with target's network interface (and
// its private IP), taking it from wherever it is (AllowReassociation). An
// address already associated there is left alone. It returns after
// DescribeAddresses shows the association (*ErrNotConverged if it does not
// within the verify timeout).
func ElasticIP(ctx context.Context, ec2api awsapi.EC2API, cfg cluster.ElasticIP, target cluster.Node, opts ...Option) (EIPResult, error) {
	o := apply(opts)
	start := time.Now()
	res := EIPResult{AllocationID: cfg.AllocationID, NetworkInterfaceID: target.NetworkInterfaceID, PrivateIP: target.PrivateIP}
	done := func(err error) (EIPResult, error) {
		res.DurationMs = time.Since(start).Milliseconds()
		return res, err
	}
	var addr types.Address
	err := backoff.Retry(ctx, o.retry, func(ctx context.Context) (err error) {
		addr, err = describeAddress(ctx, ec2api, cfg.AllocationID)
		return err
	})
	if err != nil {
		return done(err)
	}
	res.PublicIP = aws.ToString(addr.PublicIp)
	res.PreviousNetworkInterfaceID = aws.ToString(addr.NetworkInterfaceId)
	res.AssociationID = aws.ToString(addr.AssociationId)
	if !associatedWith(addr, target) {
		in := &ec2.AssociateAddressInput{
			AllocationId:       aws.String(cfg.AllocationID),
			NetworkInterfaceId: aws.String(target.NetworkInterfaceID),
			AllowReassociation: aws.Bool(true),
		}
		if target.PrivateIP != "" {
			in.PrivateIpAddress = aws.String(target.PrivateIP)
		}
		var out *ec2.AssociateAddressOutput
		err := backoff.Retry(ctx, o.retry, func(ctx context.Context) (err error) {
			out, err = ec2api.AssociateAddress(ctx, in)
			return err
		})
		if err != nil {
			return done(fmt.Errorf("associating Elastic IP %s with %s: %w", cfg.AllocationID, target.NetworkInterfaceID, err))
		}
		res.Changed = true
		res.AssociationID = aws.ToString(out.AssociationId)
	}
	var last types.Address
	timedOut, err := o.poll(ctx, func(ctx context.Context) (bool, error) {
		a, err := describeAddress(ctx, ec2api, cfg.AllocationID)
		if err != nil {
			return false, err
		}
		last = a
		return associatedWith(a, target), nil
	})
	switch {
	case err == nil:
		res.AssociationID = aws.ToString(last.AssociationId)
		return done(nil)
	case timedOut:
		return done(&ErrNotConverged{Target: TargetElasticIP, Err: err,
			Detail: fmt.Sprintf("Elastic IP %s is associated with %q (private IP %q)", cfg.AllocationID,
				aws.ToString(last.NetworkInterfaceId), aws.ToString(last.PrivateIpAddress))})
	default:
		return done(fmt.Errorf("verifying Elastic IP %s: %w", cfg.AllocationID, err))
	}
}

func associatedWith(a types.Address, target cluster.Node) bool {
	return aws.ToString(a.NetworkInterfaceId) == target.NetworkInterfaceID &&
		(target.PrivateIP == "" || aws.ToString(a.PrivateIpAddress) == target.PrivateIP)
}

func describeAddress(ctx context.Context, ec2api awsapi.EC2Reader, allocationID string) (types.Address, error) {
	out, err := ec2api.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{allocationID}})
	if err != nil {
		return types.Address{}, fmt.Errorf("describing Elastic IP %s: %w", allocationID, err)
	}
	for _, a := range out.Addresses {
		if aws.ToString(a.AllocationId) == allocationID {
			return a, nil
		}
	}
	return types.Address{}, fmt.Errorf("describing Elastic IP %s: not in the answer", allocationID)
}
