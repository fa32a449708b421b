package decide

import (
	"fmt"
	"time"
)

// Decisions.
const (
	Proceed  = "proceed"
	NoAction = "no-failover-needed"
	Refuse   = "refuse"
)

// Probe is what a direct connection to one node's PostgreSQL found.
type Probe struct {
	Reachable  bool
	Error      string // why it was not reachable
	InRecovery bool
	// ReceiveLSN is the WAL the standby has received and flushed
	// (pg_last_wal_receive_lsn); on a primary, its current LSN.
	ReceiveLSN uint64
	// Streaming is true when the standby's WAL receiver is streaming.
	Streaming bool
	// LastMessageAge is the time since the WAL receiver last heard from the
	// primary; meaningful only when Streaming.
	LastMessageAge time.Duration
}

// Node is what was observed about one node.
type Node struct {
	Name          string
	InstanceState string // EC2 state name: running, stopping, stopped, ...; "" unknown
	Impaired      bool   // EC2 instance or system status check failed
	Probe         Probe
}

// Observation is everything Assess gathered.
type Observation struct {
	Trigger string // alarm, fast-path, manual
	Force   bool
	Target  string // requested node to promote, "" for the standby

	RecordPrimary string // primary named by the cluster record
	Nodes         []Node // both nodes

	// PrimaryHeartbeatAge is the age of the primary's newest healthy
	// heartbeat in CloudWatch; HeartbeatKnown is false when none was found
	// or CloudWatch could not be read.
	PrimaryHeartbeatAge time.Duration
	HeartbeatKnown      bool
	// LastPrimaryLSN is the newest position the primary published, and
	// LSNAge its age; LSNKnown is false when there is none.
	LastPrimaryLSN uint64
	LSNAge         time.Duration
	LSNKnown       bool

	StaleAfter  time.Duration // heartbeat/evidence freshness limit
	MaxLagBytes int64
}

// Verdict is the decision and the evidence for it.
type Verdict struct {
	Decision   string
	Reason     string
	OldPrimary string
	NewPrimary string
	Evidence   []string
	LagBytes   int64 // -1 when unknown
	Forced     bool  // force overrode a check that would have refused
}

// Decide applies the rules in order: identify old and new primary, look for
// positive evidence that the primary is alive, count independent loss
// signals, check the candidate, then the fresh data gate.
func Decide(o Observation) Verdict {
	v := Verdict{LagBytes: -1}
	refuse := func(format string, args ...any) Verdict {
		v.Decision, v.Reason = Refuse, fmt.Sprintf(format, args...)
		return v
	}
	if o.RecordPrimary == "" {
		return refuse("the cluster record names no primary")
	}
	oldNode, ok := find(o.Nodes, o.RecordPrimary)
	if !ok {
		return refuse("the cluster record names primary %q, which is not a node of this cluster", o.RecordPrimary)
	}
	v.OldPrimary = oldNode.Name
	newNode, ok := peer(o.Nodes, oldNode.Name)
	if o.Target != "" {
		if o.Target == oldNode.Name {
			return refuse("target %q is already the primary", o.Target)
		}
		newNode, ok = find(o.Nodes, o.Target)
	}
	if !ok {
		return refuse("no standby node to promote")
	}
	v.NewPrimary = newNode.Name
	note := func(format string, args ...any) { v.Evidence = append(v.Evidence, fmt.Sprintf(format, args...)) }

	// Positive evidence that the primary is alive.
	alive := aliveEvidence(o, oldNode, newNode)
	for _, e := range alive {
		note("primary alive: %s", e)
	}
	// Independent observations of loss.
	loss := lossSignals(o, oldNode, newNode)
	for _, e := range loss {
		note("primary lost: %s", e)
	}
	if len(alive) > 0 {
		if !o.Force {
			v.Decision = NoAction
			v.Reason = fmt.Sprintf("primary %s is healthy from a second vantage point (%s)", oldNode.Name, alive[0])
			return v
		}
		v.Forced = true
		note("force: failing over although the primary looks alive")
	}
	if len(loss) < 2 && len(alive) == 0 {
		if !o.Force {
			v.Decision = NoAction
			v.Reason = fmt.Sprintf("only %d independent observation(s) of primary %s's loss; at least 2 are needed", len(loss), oldNode.Name)
			return v
		}
		v.Forced = true
		note("force: proceeding on %d observation(s) of loss", len(loss))
	}

	// The candidate must be a reachable, running standby.
	switch {
	case !newNode.Probe.Reachable:
		return refuse("no healthy standby: %s's PostgreSQL is unreachable (%s)", newNode.Name, newNode.Probe.Error)
	case !newNode.Probe.InRecovery:
		return refuse("%s is not in recovery: it is not a standby; promoting would risk two primaries", newNode.Name)
	case newNode.InstanceState != "" && newNode.InstanceState != "running":
		return refuse("no healthy standby: %s's instance is %s", newNode.Name, newNode.InstanceState)
	}

	// Fresh data gate.
	if gate := freshDataGate(o, newNode, &v); gate != "" {
		if !o.Force {
			return refuse("%s", gate)
		}
		v.Forced = true
		note("force: %s", gate)
	}
	v.Decision = Proceed
	v.Reason = fmt.Sprintf("fail over from %s to %s: %d observations of loss", oldNode.Name, newNode.Name, len(loss))
	if v.Forced {
		v.Reason += " (forced)"
	}
	return v
}

func aliveEvidence(o Observation, oldNode, newNode Node) []string {
	var out []string
	if oldNode.Probe.Reachable && !oldNode.Probe.InRecovery {
		out = append(out, "a direct probe from the VPC finds it accepting connections and out of recovery")
	}
	if newNode.Probe.Reachable && newNode.Probe.Streaming && newNode.Probe.LastMessageAge < o.StaleAfter {
		out = append(out, fmt.Sprintf("standby %s still streams WAL from it (last message %s ago)", newNode.Name, newNode.Probe.LastMessageAge.Round(time.Millisecond)))
	}
	return out
}

func lossSignals(o Observation, oldNode, newNode Node) []string {
	var out []string
	switch o.Trigger {
	case "alarm":
		out = append(out, "the heartbeat alarm fired")
	case "fast-path":
		out = append(out, "the standby's detector reported it lost")
	case "manual":
		out = append(out, "an operator requested the failover")
	}
	if !oldNode.Probe.Reachable {
		out = append(out, "a direct probe from the VPC cannot connect: "+oldNode.Probe.Error)
	}
	if newNode.Probe.Reachable && !newNode.Probe.Streaming {
		out = append(out, fmt.Sprintf("standby %s's WAL receiver is not streaming", newNode.Name))
	}
	if s := oldNode.InstanceState; s != "" && s != "running" {
		out = append(out, "its instance is "+s)
	} else if oldNode.Impaired {
		out = append(out, "its instance status checks fail")
	}
	// Heartbeats count only when no other signal comes from the same
	// monitoring path: the alarm is itself made of heartbeats.
	if o.Trigger != "alarm" {
		if !o.HeartbeatKnown {
			out = append(out, "no heartbeat of it in CloudWatch")
		} else if o.PrimaryHeartbeatAge > o.StaleAfter {
			out = append(out, fmt.Sprintf("its last heartbeat is %s old", o.PrimaryHeartbeatAge.Round(time.Second)))
		}
	}
	return out
}

// freshDataGate returns why the candidate fails the gate, or "".
func freshDataGate(o Observation, newNode Node, v *Verdict) string {
	if !o.LSNKnown {
		return "no evidence of the primary's last WAL position (PrimaryLSN metric missing)"
	}
	// The primary's last position must be recent relative to its last
	// heartbeat: evidence older than that says nothing about what it wrote.
	if o.HeartbeatKnown && o.LSNAge > o.PrimaryHeartbeatAge+o.StaleAfter {
		return fmt.Sprintf("the primary's last published WAL position is %s old, %s older than its last heartbeat: stale evidence",
			o.LSNAge.Round(time.Second), (o.LSNAge - o.PrimaryHeartbeatAge).Round(time.Second))
	}
	lag := int64(0)
	if o.LastPrimaryLSN > newNode.Probe.ReceiveLSN {
		lag = int64(o.LastPrimaryLSN - newNode.Probe.ReceiveLSN)
	}
	v.LagBytes = lag
	v.Evidence = append(v.Evidence, fmt.Sprintf("candidate %s is %d bytes behind the primary's last published position", newNode.Name, lag))
	if lag > o.MaxLagBytes {
		return fmt.Sprintf("standby %s is %d bytes behind the last known primary position, more than the limit of %d", newNode.Name, lag, o.MaxLagBytes)
	}
	return ""
}

func find(nodes []Node, name string) (Node, bool) {
	for _, n := range nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

func peer(nodes []Node, name string) (Node, bool) {
	for _, n := range nodes {
		if n.Name != name {
			return n, true
		}
	}
	return Node{}, false
}
