package ec2sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Consistency configures the emulator's model of EC2's eventually
// consistent reads. The zero value is strong consistency, the default:
// every Describe call sees every change made before it.
//
// AWS documents that "the result of an API command you run that affects
// your Amazon EC2 resources might not be immediately visible to all
// subsequent commands you run", and that InvalidInstanceID.NotFound right
// after a change "doesn't mean the instance doesn't exist" (Eventual
// consistency in the Amazon EC2 API, EC2 Developer Guide). The model:
//
//   - Each DescribeInstances, DescribeInstanceStatus or
//     DescribeNetworkInterfaces call is served by a replica that lags by a
//     random duration in [0, StaleFor): changes younger than the lag are not
//     in its answer, which shows the instance state (and state-change time)
//     or the interface's security groups and source/destination check as
//     they were before those changes. Right after a change almost every read
//     is stale; after StaleFor none is.
//   - A resource changed less than StaleFor ago is, with probability
//     SpuriousNotFound per read, unknown to the replica: a call naming it by
//     id fails with InvalidInstanceID.NotFound
//     (InvalidNetworkInterfaceID.NotFound), as EC2 fails a whole call for one
//     unknown id; a call by filter leaves it out (an empty reservation list
//     when it was the only match).
//
// Changes are instance state changes (StopInstances, StartInstances, their
// delayed completions, SetInstanceState) and interface changes
// (ModifyNetworkInterfaceAttribute: security groups, source/destination
// check); for an instance, a change of its primary interface counts too.
// Mutating calls, the other Describe calls and the in-process accessors
// (InstanceState, SecurityGroups, ...) always see the truth.
//
// Draws come from a generator seeded with Seed under the service lock, so
// the same calls in the same order at the same times get the same answers.
// Which reads are stale still depends on when they arrive: tests should
// assert what must hold for every interleaving, not one sequence.
type Consistency struct {
	// StaleFor bounds how far behind a Describe answer may be. Zero or
	// less turns stale reads and spurious NotFound off.
	StaleFor time.Duration
	// SpuriousNotFound is the probability, 0 to 1, that a read misses a
	// resource changed less than StaleFor ago.
	SpuriousNotFound float64
	// Seed seeds the generator behind both.
	Seed uint64
}

// SetConsistency switches eventual consistency on (StaleFor > 0) or off
// (the zero Consistency). Stale reads can only show changes made after
// the model was switched on: earlier versions are not kept.
func (s *Service) SetConsistency(c Consistency) error {
	if c.SpuriousNotFound < 0 || c.SpuriousNotFound > 1 {
		return fmt.Errorf("ec2sim: SpuriousNotFound %v is not a probability (0 to 1)", c.SpuriousNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.StaleFor = max(c.StaleFor, 0)
	s.consistency = c
	s.rng = rand.New(rand.NewPCG(c.Seed, c.Seed^0x5eed5eed5eed5eed))
	return nil
}

// instanceVersion is what an instance looked like until a change.
type instanceVersion struct {
	until        time.Time
	state        string
	stateChanged time.Time
}

// eniVersion is what a network interface looked like until a change.
type eniVersion struct {
	until           time.Time
	groups          []string
	sourceDestCheck bool
}

// recordInstanceLocked keeps the instance's current version before a
// change at now, while the model is on. Caller holds s.mu.
func (s *Service) recordInstanceLocked(in *instance, now time.Time) {
	if s.consistency.StaleFor <= 0 {
		return
	}
	in.past = append(prune(in.past, now.Add(-s.consistency.StaleFor), func(v instanceVersion) time.Time { return v.until }),
		instanceVersion{until: now, state: in.state, stateChanged: in.stateChanged})
}

// recordENILocked keeps the interface's current version before a change.
// Caller holds s.mu.
func (s *Service) recordENILocked(n *networkInterface) {
	if s.consistency.StaleFor <= 0 {
		return
	}
	now := s.now()
	n.past = append(prune(n.past, now.Add(-s.consistency.StaleFor), func(v eniVersion) time.Time { return v.until }),
		eniVersion{until: now, groups: slices.Clone(n.groups), sourceDestCheck: n.sourceDestCheck})
}

// prune drops the versions superseded before cutoff: no read can see them.
func prune[T any](past []T, cutoff time.Time, until func(T) time.Time) []T {
	i := 0
	for i < len(past) && until(past[i]).Before(cutoff) {
		i++
	}
	return past[i:]
}

// view is what one Describe call sees: the account as of asOf. Changes
// after recent are young enough to be spuriously missed.
type view struct {
	asOf, recent time.Time
	notFound     float64
	rng          *rand.Rand
}

// newViewLocked draws the lag of one Describe call. Caller holds s.mu.
func (s *Service) newViewLocked() view {
	now := s.now()
	v := view{asOf: now, recent: now}
	if c := s.consistency; c.StaleFor > 0 {
		v.asOf = now.Add(-time.Duration(s.rng.Int64N(int64(c.StaleFor))))
		v.recent = now.Add(-c.StaleFor)
		v.notFound, v.rng = c.SpuriousNotFound, s.rng
	}
	return v
}

// instanceState returns the instance's state and state-change time as the
// view sees them.
func (v view) instanceState(in *instance) (state string, changed time.Time) {
	state, changed = in.state, in.stateChanged
	for i := len(in.past) - 1; i >= 0 && in.past[i].until.After(v.asOf); i-- {
		state, changed = in.past[i].state, in.past[i].stateChanged
	}
	return state, changed
}

// eni returns the interface's security groups and source/destination
// check as the view sees them.
func (v view) eni(n *networkInterface) (groups []string, sourceDestCheck bool) {
	groups, sourceDestCheck = n.groups, n.sourceDestCheck
	for i := len(n.past) - 1; i >= 0 && n.past[i].until.After(v.asOf); i-- {
		groups, sourceDestCheck = n.past[i].groups, n.past[i].sourceDestCheck
	}
	return groups, sourceDestCheck
}

// misses reports whether the view spuriously does not know a resource
// whose latest change was at changed. It draws only for resources changed
// recently, so reads of quiet resources do not move the sequence.
func (v view) misses(changed time.Time) bool {
	if v.rng == nil || v.notFound <= 0 || !changed.After(v.recent) {
		return false
	}
	return v.rng.Float64() < v.notFound
}

// lastChange returns when an instance or its primary interface last
// changed, as far as the model remembers (zero when it does not).
func (s *Service) lastChange(in *instance) time.Time {
	var t time.Time
	if len(in.past) > 0 {
		t = in.past[len(in.past)-1].until
	}
	if n := s.eniByID[in.eniID]; n != nil {
		if c := eniLastChange(n); c.After(t) {
			t = c
		}
	}
	return t
}

func eniLastChange(n *networkInterface) time.Time {
	if len(n.past) == 0 {
		return time.Time{}
	}
	return n.past[len(n.past)-1].until
}
