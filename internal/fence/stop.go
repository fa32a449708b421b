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

// codeIncorrectState is EC2's answer to stopping an instance that is
// pending, shutting down or terminated.
const codeIncorrectState = "IncorrectInstanceState"

// down reports whether an instance in state runs nothing, given a forced
// stop that skipped the OS shutdown (see the package doc for "stopping").
func down(state string) bool {
	switch state {
	case stateStopping, stateStopped, stateShuttingDown, stateTerminated:
		return true
	}
	return false
}

// terminal reports whether no state after this one can run.
func terminal(state string) bool {
	return state == stateShuttingDown || state == stateTerminated
}

// stopper is one confirmation run: its result so far and its log.
type stopper struct {
	api        EC2API
	instanceID string
	o          options
	res        StopResult
	lastErr    error // last throttling or server error AWS answered
}

func (s *stopper) observe(kind ObservationKind, state, detail string) {
	if len(s.res.Observations) == maxObservations {
		s.res.Observations = s.res.Observations[1:]
		s.res.DroppedObservations++
	}
	s.res.Observations = append(s.res.Observations, Observation{At: time.Now().UTC(), Kind: kind, State: state,
		Consecutive: s.res.Consecutive, Detail: detail})
}

// notProof records a NotFound or empty answer: the count starts again.
func (s *stopper) notProof(kind ObservationKind, detail string) {
	s.res.Consecutive = 0
	s.res.NotProof++
	s.observe(kind, "", detail)
	s.o.log.Warn("fence: answer is not proof of a stopped instance; observations restart",
		"instance", s.instanceID, "kind", kind.String(), "detail", detail)
}

// awsError records a failed call that may succeed later. Only AWS's own
// errors (throttling, 5xx) are kept for ErrFenceTimeout; a call cut short
// by the deadline adds nothing to the deadline itself.
func (s *stopper) awsError(op string, err error) {
	if backoff.Transient(err) {
		s.lastErr = err
	}
	s.observe(ObservedAWSError, "", op+": "+errText(err))
}

// confirmStop stops the instance with Force and SkipOsShutdown and
// confirms it as HardStop documents, until ctx ends. start is when fencing
// began, for the timeout's Waited.
func confirmStop(ctx context.Context, api EC2API, instanceID string, needed int, probe Probe, o options, start time.Time) (StopResult, error) {
	s := &stopper{api: api, instanceID: instanceID, o: o, res: StopResult{InstanceID: instanceID, Needed: needed}}
	sendStop := true
	for {
		if sendStop {
			ok, err := s.stop(ctx)
			if err != nil {
				return s.res, err
			}
			sendStop = !ok
		}
		if err := s.look(ctx, &sendStop); err != nil {
			return s.res, err
		}
		if s.res.Consecutive >= needed && s.probe(ctx, probe) {
			return s.res, nil
		}
		if werr := backoff.Wait(ctx, o.pollInterval); werr != nil {
			return s.res, &ErrFenceTimeout{InstanceID: instanceID, LastState: s.res.FinalState, Waited: time.Since(start),
				StopAccepted: s.res.StopAccepted, Consecutive: s.res.Consecutive, Needed: needed,
				NotProof: s.res.NotProof, ProbeAnswered: s.res.ProbeAnswered, Err: errors.Join(werr, s.lastErr)}
		}
	}
}

// stop sends one StopInstances (throttling retried) and reports whether
// it was accepted. Only a permanent AWS error is returned.
func (s *stopper) stop(ctx context.Context) (accepted bool, err error) {
	s.res.StopRequests++
	err = backoff.Retry(ctx, s.o.retry, func(ctx context.Context) error {
		_, err := s.api.StopInstances(ctx, &ec2.StopInstancesInput{
			InstanceIds:    []string{s.instanceID},
			Force:          aws.Bool(true),
			SkipOsShutdown: aws.Bool(true),
		})
		return err
	})
	switch {
	case err == nil:
		s.res.StopAccepted = true
		s.observe(ObservedStopAccepted, "", "")
		return true, nil
	case awsapi.ErrorCode(err) == codeIncorrectState:
		// Pending (try again once it runs), or shutting down or
		// terminated (the reads will show it).
		s.observe(ObservedStopRefused, "", awsapi.ErrorCode(err))
	case awsapi.IsNotFound(err):
		// Possibly EC2's eventual consistency: not proof of anything.
		s.observe(ObservedStopRefused, "", awsapi.ErrorCode(err)+" (not proof)")
		s.o.log.Warn("fence: StopInstances answered NotFound; not proof the instance is gone", "instance", s.instanceID)
	case backoff.Transient(err) || ctx.Err() != nil:
		s.awsError("StopInstances", err)
	default:
		return false, fmt.Errorf("stopping instance %s with Force and SkipOsShutdown: %w", s.instanceID, err)
	}
	return false, nil
}

// look makes one DescribeInstances observation and counts it. It sets
// *sendStop when the instance shows running or pending. Only a permanent
// AWS error is returned.
func (s *stopper) look(ctx context.Context, sendStop *bool) error {
	state, err := instanceState(ctx, s.api, s.instanceID)
	s.res.Polls++
	switch {
	case err == nil && state == "":
		s.notProof(ObservedEmpty, "DescribeInstances answered without the instance")
	case err == nil:
		if s.res.InitialState == "" {
			s.res.InitialState = state
		}
		s.res.FinalState = state
		switch {
		case down(state) && (s.res.StopAccepted || terminal(state)):
			s.res.Consecutive++
			s.observe(ObservedDown, state, "")
		case down(state):
			s.res.Consecutive = 0
			*sendStop = true
			s.observe(ObservedDownBeforeStop, state, "no forced stop accepted yet")
		default:
			s.res.Consecutive = 0
			*sendStop = true
			s.observe(ObservedUp, state, "")
		}
	case awsapi.IsNotFound(err):
		s.notProof(ObservedNotFound, awsapi.ErrorCode(err))
	case backoff.Transient(err) || ctx.Err() != nil:
		s.awsError("DescribeInstances", err)
	default:
		return fmt.Errorf("describing instance %s: %w", s.instanceID, err)
	}
	return nil
}

// probe asks the old PostgreSQL once; true means it did not answer and the
// fence is confirmed. A probe cut short by ctx proves nothing.
func (s *stopper) probe(ctx context.Context, probe Probe) bool {
	pctx, cancel := context.WithTimeout(ctx, s.o.probeTimeout)
	perr := probe(pctx)
	cancel()
	switch {
	case ctx.Err() != nil:
		return false
	case perr != nil:
		s.res.Confirmed = true
		s.res.ProbeError = perr.Error()
		s.observe(ObservedProbeFailed, "", perr.Error())
		s.o.log.Info("fence: confirmed", "instance", s.instanceID, "observations", s.res.Consecutive, "probe", perr.Error())
		return true
	default:
		s.res.ProbeAnswered++
		s.observe(ObservedProbeAnswered, "", "the old PostgreSQL still answers")
		s.o.log.Warn("fence: the old PostgreSQL still answers; not confirmed", "instance", s.instanceID,
			"observations", s.res.Consecutive)
		return false
	}
}

// instanceState returns the instance's state name, or "" when the answer
// does not contain the instance.
func instanceState(ctx context.Context, api EC2API, instanceID string) (string, error) {
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
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
	return "", nil
}

func errText(err error) string {
	if code := awsapi.ErrorCode(err); code != "" {
		return code
	}
	return err.Error()
}
