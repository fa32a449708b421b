package fence

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/backoff"
)

// Instance states as EC2 names them.
const (
	statePending      = string(types.InstanceStateNamePending)
	stateRunning      = string(types.InstanceStateNameRunning)
	stateStopping     = string(types.InstanceStateNameStopping)
	stateStopped      = string(types.InstanceStateNameStopped)
	stateShuttingDown = string(types.InstanceStateNameShuttingDown)
	stateTerminated   = string(types.InstanceStateNameTerminated)
)

// Stop force-stops the instance and waits until it is observed stopped or
// terminated, at most timeout (and no longer than ctx allows). An instance
// already down is left alone; one that does not exist counts as
// terminated. A StopInstances call that is throttled or lost is made again
// on the next poll while the instance still runs. It returns
// *ErrFenceTimeout when the deadline passes first.
func Stop(ctx context.Context, ec2api awsapi.EC2API, instanceID string, timeout time.Duration, opts ...Option) (StopResult, error) {
	o := apply(opts)
	res := StopResult{InstanceID: instanceID}
	if instanceID == "" {
		return res, errors.New("stopping instance: no instance id")
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	forced := false // a StopInstances with Force was accepted
	var lastErr error
	for {
		state, err := instanceState(wctx, ec2api, instanceID)
		res.Polls++
		switch {
		case err == nil:
			lastErr = nil
			if res.InitialState == "" {
				res.InitialState = state
			}
			res.FinalState = state
			if state == stateStopped || state == stateTerminated {
				return res, nil
			}
			// Stop a running or starting instance, and force one that is
			// stopping gracefully: a graceful stop may hang on a sick OS.
			if state == statePending || state == stateRunning || (state == stateStopping && !forced) {
				res.StopRequests++
				switch err := stopInstance(wctx, ec2api, instanceID); {
				case err == nil:
					forced = true
				case awsapi.IsNotFound(err):
					res.FinalState = stateTerminated
					return res, nil
				case awsapi.ErrorCode(err) == "IncorrectInstanceState":
					// The state moved on since we looked; look again.
				case backoff.Transient(err) || wctx.Err() != nil:
					lastErr = err
				default:
					return res, fmt.Errorf("stopping instance %s: %w", instanceID, err)
				}
			}
		case backoff.Transient(err) || wctx.Err() != nil:
			lastErr = err
		default:
			return res, fmt.Errorf("describing instance %s: %w", instanceID, err)
		}
		if werr := backoff.Wait(wctx, o.pollInterval); werr != nil {
			return res, &ErrFenceTimeout{InstanceID: instanceID, LastState: res.FinalState,
				Waited: time.Since(start), Err: errors.Join(werr, lastErr)}
		}
	}
}

func stopInstance(ctx context.Context, ec2api awsapi.EC2API, instanceID string) error {
	_, err := ec2api.StopInstances(ctx, &ec2.StopInstancesInput{
		InstanceIds: []string{instanceID},
		Force:       aws.Bool(true),
	})
	return err
}

// instanceState returns the instance's state name; an instance EC2 does
// not know (any more) is "terminated".
func instanceState(ctx context.Context, ec2api awsapi.EC2API, instanceID string) (string, error) {
	out, err := ec2api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
	if awsapi.IsNotFound(err) {
		return stateTerminated, nil
	}
	if err != nil {
		return "", err
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.InstanceId) == instanceID && in.State != nil {
				return string(in.State.Name), nil
			}
		}
	}
	return stateTerminated, nil
}

func apply(opts []Option) options {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
