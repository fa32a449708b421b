package ec2sim

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Instance state names, as EC2 reports them.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
	StateStopping     = "stopping"
	StateStopped      = "stopped"
)

// stateCodes are EC2's instance state codes (the low byte).
var stateCodes = map[string]int{
	StatePending: 0, StateRunning: 16, StateShuttingDown: 32,
	StateTerminated: 48, StateStopping: 64, StateStopped: 80,
}

func stateOf(name string) stateXML { return stateXML{Code: stateCodes[name], Name: name} }

// stateEvent is one instance state change waiting for the hooks.
type stateEvent struct {
	instanceID, state string
}

type stateChangeXML struct {
	InstanceID    string   `xml:"instanceId"`
	CurrentState  stateXML `xml:"currentState"`
	PreviousState stateXML `xml:"previousState"`
}

type stateChangeResponse struct {
	requestMeta
	Instances []stateChangeXML `xml:"instancesSet>item"`
}

// StopRequest is one StopInstances call as the emulator received it for
// one instance: its flags, when it arrived and the instance's state then.
type StopRequest struct {
	Force          bool
	SkipOsShutdown bool
	At             time.Time
	PreviousState  string
}

// stopInstances moves running instances to stopping, and to stopped after
// the stop delay. Stopping a stopping or stopped instance changes nothing.
// Force and SkipOsShutdown are accepted and recorded (StopRequests); they
// do not shorten the delay. The emulator never runs a graceful OS
// shutdown: the OnInstanceState hooks hear "stopping" at once, which is
// where the local stack ends the node's processes, as a stop that skips
// the OS shutdown does. Hibernate is refused: no emulated instance is
// enabled for hibernation.
func (s *Service) stopInstances(call *localaws.Call, p params) (response, *localaws.APIError) {
	targets, err := s.lifecycleTargets(call, p)
	if err != nil {
		return nil, err
	}
	force, err := p.boolean("Force")
	if err != nil {
		return nil, err
	}
	skipOS, err := p.boolean("SkipOsShutdown")
	if err != nil {
		return nil, err
	}
	hibernate, err := p.boolean("Hibernate")
	if err != nil {
		return nil, err
	}
	for _, in := range targets {
		switch {
		case in.state == StatePending || in.state == StateShuttingDown || in.state == StateTerminated:
			return nil, localaws.BadRequest("IncorrectInstanceState",
				"The instance '%s' is not in a state from which it can be stopped.", in.id)
		case hibernate:
			return nil, localaws.BadRequest("UnsupportedHibernationConfiguration",
				"The instance '%s' is not enabled for hibernation.", in.id)
		}
	}
	out := &stateChangeResponse{}
	for _, in := range targets {
		prev := in.state
		in.stops = append(in.stops, StopRequest{Force: force, SkipOsShutdown: skipOS, At: s.now(), PreviousState: prev})
		if in.state == StateRunning {
			s.setStateLocked(in, StateStopping)
			s.scheduleLocked(in, s.stopDelay, StateStopped)
		}
		out.Instances = append(out.Instances, stateChangeXML{InstanceID: in.id, CurrentState: stateOf(in.state), PreviousState: stateOf(prev)})
	}
	return out, nil
}

// StopRequests returns the StopInstances calls that named the instance and
// passed validation, oldest first, nil for an unknown instance.
func (s *Service) StopRequests(instanceID string) []StopRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.instanceByID[instanceID]; in != nil {
		return slices.Clone(in.stops)
	}
	return nil
}

// startInstances moves stopped instances to pending, and to running after
// the start delay. Starting a pending or running instance changes nothing.
func (s *Service) startInstances(call *localaws.Call, p params) (response, *localaws.APIError) {
	targets, err := s.lifecycleTargets(call, p)
	if err != nil {
		return nil, err
	}
	for _, in := range targets {
		switch in.state {
		case StateStopping, StateShuttingDown, StateTerminated:
			return nil, localaws.BadRequest("IncorrectInstanceState",
				"The instance '%s' is not in a state from which it can be started.", in.id)
		}
	}
	out := &stateChangeResponse{}
	for _, in := range targets {
		prev := in.state
		if in.state == StateStopped {
			s.setStateLocked(in, StatePending)
			s.scheduleLocked(in, s.startDelay, StateRunning)
		}
		out.Instances = append(out.Instances, stateChangeXML{InstanceID: in.id, CurrentState: stateOf(in.state), PreviousState: stateOf(prev)})
	}
	return out, nil
}

// lifecycleTargets resolves InstanceId.N of StopInstances/StartInstances;
// one bad id fails the whole call before anything changes.
func (s *Service) lifecycleTargets(call *localaws.Call, p params) ([]*instance, *localaws.APIError) {
	ids := p.list("InstanceId")
	call.AddResource(ids...)
	if len(ids) == 0 {
		return nil, localaws.BadRequest("MissingParameter", "The request must contain the parameter InstanceId")
	}
	if err := checkInstanceIDs(ids); err != nil {
		return nil, err
	}
	var missing []string
	var out []*instance
	for _, id := range ids {
		in := s.instanceByID[id]
		if in == nil {
			missing = append(missing, id)
			continue
		}
		out = append(out, in)
	}
	if len(missing) > 0 {
		return nil, instanceNotFound(missing)
	}
	return out, nil
}

// setStateLocked changes an instance's state, cancels any transition in
// flight and queues the event for the hooks. Caller holds s.mu.
func (s *Service) setStateLocked(in *instance, state string) {
	if in.state == state {
		return
	}
	now := s.now()
	s.recordInstanceLocked(in, now)
	in.state = state
	in.stateChanged = now
	in.generation++
	s.events = append(s.events, stateEvent{instanceID: in.id, state: state})
}

// scheduleLocked moves the instance to state after d unless its state
// changes first. Caller holds s.mu.
func (s *Service) scheduleLocked(in *instance, d time.Duration, state string) {
	gen := in.generation
	time.AfterFunc(max(d, 0), func() {
		s.mu.Lock()
		if in.generation == gen {
			s.setStateLocked(in, state)
		}
		s.mu.Unlock()
		s.deliverEvents()
	})
}

// deliverEvents hands queued state changes to the hooks, in the order they
// happened, outside the service lock. One goroutine delivers at a time; a
// hook may call back into the Service (its own changes are delivered after
// it returns).
func (s *Service) deliverEvents() {
	s.mu.Lock()
	if s.delivering {
		s.mu.Unlock()
		return
	}
	s.delivering = true
	for len(s.events) > 0 {
		events, hooks := s.events, slices.Clone(s.hooks)
		s.events = nil
		s.mu.Unlock()
		for _, ev := range events {
			for _, h := range hooks {
				h(ev.instanceID, ev.state)
			}
		}
		s.mu.Lock()
	}
	s.delivering = false
	s.delivered.Broadcast()
	s.mu.Unlock()
}

// WaitStateHooks returns once every state change made so far has been
// delivered to the OnInstanceState hooks: a reader of DescribeInstances
// can see a new state before the hooks have heard of it. Not to be called
// from a hook.
func (s *Service) WaitStateHooks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.delivering || len(s.events) > 0 {
		s.delivered.Wait()
	}
}

// OnInstanceState registers fn to be called after every instance state
// change: StopInstances/StartInstances and their delayed completions, and
// SetInstanceState. Calls come in the order of the changes, one at a time,
// never with the service lock held; fn may call the Service.
func (s *Service) OnInstanceState(fn func(instanceID, state string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, fn)
}

// SetInstanceState puts an instance in state at once, cancelling any
// transition in flight, e.g. to simulate a crash ("stopped") or a
// recovery. Hooks are called as for any change.
func (s *Service) SetInstanceState(instanceID, state string) error {
	if _, ok := stateCodes[state]; !ok {
		return fmt.Errorf("ec2sim: unknown instance state %q (want one of %v)", state, slices.Sorted(maps.Keys(stateCodes)))
	}
	s.mu.Lock()
	in := s.instanceByID[instanceID]
	if in == nil {
		s.mu.Unlock()
		return fmt.Errorf("ec2sim: no instance %q", instanceID)
	}
	if in.state != state {
		s.setStateLocked(in, state)
	} else {
		in.generation++ // still cancels a pending transition
	}
	s.mu.Unlock()
	s.deliverEvents()
	return nil
}

// SetImpaired sets the results of an instance's status checks: the
// instance check (the OS is unreachable) and the system check (the host is
// unreachable). DescribeInstanceStatus reports "impaired" for a failed
// check while the instance runs.
func (s *Service) SetImpaired(instanceID string, instanceImpaired, systemImpaired bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instanceByID[instanceID]
	if in == nil {
		return fmt.Errorf("ec2sim: no instance %q", instanceID)
	}
	if (instanceImpaired || systemImpaired) && !in.instanceImpaired && !in.systemImpaired {
		in.impairedSince = s.now()
	}
	in.instanceImpaired, in.systemImpaired = instanceImpaired, systemImpaired
	return nil
}
