package localaws

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Fault describes trouble to inject into matching calls. Empty match fields
// match everything.
type Fault struct {
	Service     string // signing name, e.g. "ec2"
	Operation   string // e.g. "ReplaceRoute"
	AccessKeyID string // only calls of this caller: partitions one client

	Latency   time.Duration // added before the call is answered
	ErrorRate float64       // 0..1: probability that a matching call fails with Error
	FailNext  int           // fail this many matching calls, then stop matching
	Error     *APIError     // error returned by failing calls; InternalError when nil
	Partition bool          // close the connection without an answer
}

// Faults holds the active faults of a Server. Safe for concurrent use.
type Faults struct {
	mu     sync.Mutex
	next   int
	active map[int]*Fault
}

func newFaults() *Faults { return &Faults{active: map[int]*Fault{}} }

// Add activates a fault and returns its id for Remove.
func (f *Faults) Add(fault Fault) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	cp := fault
	f.active[f.next] = &cp
	return f.next
}

// Remove deactivates a fault; removing an unknown id does nothing.
func (f *Faults) Remove(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.active, id)
}

// Clear removes every fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active = map[int]*Fault{}
}

// match returns the effect to apply to call: latency, an error to return,
// or a partition. It returns nil when no fault matches.
func (f *Faults) match(c *Call) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	var effect *Fault
	for id := nextID(f.active, 0); id > 0; id = nextID(f.active, id) {
		ft := f.active[id]
		if (ft.Service != "" && ft.Service != c.Service) ||
			(ft.Operation != "" && ft.Operation != c.Operation) ||
			(ft.AccessKeyID != "" && ft.AccessKeyID != c.AccessKeyID) {
			continue
		}
		if effect == nil {
			effect = &Fault{}
		}
		effect.Latency += ft.Latency
		if ft.Partition {
			effect.Partition = true
		}
		fail := false
		switch {
		case ft.FailNext > 0:
			ft.FailNext--
			fail = true
			if ft.FailNext == 0 && ft.ErrorRate == 0 && ft.Latency == 0 && !ft.Partition {
				delete(f.active, id)
			}
		case ft.ErrorRate > 0:
			fail = rand.Float64() < ft.ErrorRate
		}
		if fail && effect.Error == nil {
			effect.Error = ft.Error
			if effect.Error == nil {
				effect.Error = InternalError()
			}
		}
	}
	return effect
}

// nextID walks ids in ascending order so faults apply in the order added.
func nextID(m map[int]*Fault, after int) int {
	best := 0
	for id := range m {
		if id > after && (best == 0 || id < best) {
			best = id
		}
	}
	return best
}
