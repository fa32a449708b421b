package notify

import (
	"github.com/switchyard/switchyard/internal/store"
)

// Kinds of notice.
const (
	KindExecution          = "execution"           // a failover or switchover execution ended (any outcome)
	KindRejoin             = "rejoin"              // a former primary rejoined as a standby
	KindPause              = "pause"               // maintenance mode on
	KindResume             = "resume"              // maintenance mode off
	KindLostRedundancy     = "lost-redundancy"     // the standby may no longer be promoted
	KindRedundancyRestored = "redundancy-restored" // the standby may be promoted again
)

// Change is one thing that happened, found by comparing two versions of a
// cluster record.
type Change struct {
	Kind    string
	Cluster string
	// Entry is the history entry behind the change (nil for the
	// redundancy kinds).
	Entry *store.HistoryEntry
	// Standby is the new standby state (redundancy kinds only).
	Standby *store.StandbyState
	// Primary and Epoch are the record's after the change.
	Primary string
	Epoch   int64
}

// Changes lists what happened between old (nil for a new record) and
// cur, in history order, then the redundancy change.
func Changes(old *store.Record, cur store.Record) []Change {
	var out []Change
	for i := range cur.History {
		e := &cur.History[i]
		if !isNew(old, *e) {
			continue
		}
		out = append(out, Change{Kind: kindOf(*e), Cluster: cur.Cluster, Entry: e, Primary: cur.Primary, Epoch: cur.Epoch})
	}
	if c, ok := redundancyChange(old, cur); ok {
		out = append(out, c)
	}
	return out
}

// isNew reports whether e is worth a notice: an entry old does not have,
// or a coalesced entry whose count has just reached a power of ten.
func isNew(old *store.Record, e store.HistoryEntry) bool {
	if old == nil {
		return true
	}
	for _, o := range old.History {
		if sameEntry(o, e) {
			return false
		}
	}
	if e.Occurrences() == 1 {
		return true
	}
	// A coalesced entry: its first attempt was notified when it was new.
	for _, o := range old.History {
		if o.Routine() && startedTogether(o, e) {
			return powerOfTen(e.Occurrences())
		}
	}
	return true
}

// sameEntry reports whether a and b are the same entry unchanged.
func sameEntry(a, b store.HistoryEntry) bool {
	return a.Action == b.Action && a.Outcome == b.Outcome && a.Execution == b.Execution &&
		a.FinishedAt.Equal(b.FinishedAt) && a.Occurrences() == b.Occurrences()
}

// startedTogether reports whether b extends a: b coalesces a's attempts
// and more.
func startedTogether(a, b store.HistoryEntry) bool {
	first := func(h store.HistoryEntry) (string, bool) {
		if h.Occurrences() > 1 {
			return h.FirstExecution, true
		}
		return h.Execution, false
	}
	fa, _ := first(a)
	fb, _ := first(b)
	return a.Action == b.Action && a.Outcome == b.Outcome && fa == fb && b.Occurrences() > a.Occurrences()
}

func powerOfTen(n int) bool {
	for p := 10; p <= n; p *= 10 {
		if p == n {
			return true
		}
	}
	return false
}

func kindOf(e store.HistoryEntry) string {
	switch e.Action {
	case store.ActionRejoin:
		return KindRejoin
	case store.ActionPause:
		return KindPause
	case store.ActionResume:
		return KindResume
	}
	return KindExecution
}

// redundancyChange reports the standby losing or regaining its
// eligibility to be promoted.
func redundancyChange(old *store.Record, cur store.Record) (Change, bool) {
	was := old != nil && old.Standby != nil && old.Standby.Eligible
	is := cur.Standby != nil && cur.Standby.Eligible
	c := Change{Cluster: cur.Cluster, Standby: cur.Standby, Primary: cur.Primary, Epoch: cur.Epoch}
	switch {
	case was && !is:
		c.Kind = KindLostRedundancy
	case is && old != nil && old.Standby != nil && !old.Standby.Eligible:
		c.Kind = KindRedundancyRestored
	default:
		return Change{}, false
	}
	return c, true
}
